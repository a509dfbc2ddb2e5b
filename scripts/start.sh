#!/usr/bin/env bash
# npm start: install what is missing, make sure Redis can be had, build, and run a master + 2 nodes.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/ensure.sh

ensure_node_modules
# A C compiler for the native recvmmsg receiver (libs/udp-mmsg); without one nodes fall back to dgram.
ensure_debian_packages cc:build-essential || true
if [ -n "${REDIS_URL:-}" ]; then
  redis_reachable || { echo "flowmesh: REDIS_URL=$REDIS_URL does not answer PING" >&2; exit 1; }
elif ! redis_reachable; then
  # `flowmesh up` starts a local redis-server itself (and stops it on Ctrl-C); it needs the binary.
  ensure_debian_packages redis-server:redis-server || {
    echo "flowmesh: no Redis at 127.0.0.1:6379 and redis-server is not installed; set REDIS_URL or install redis-server" >&2
    exit 1
  }
fi
npm run --silent build
exec node bin/flowmesh.js up --set nodes="${FLOWMESH_NODES:-2}" --set dataDir="${FLOWMESH_DATA_DIR:-./data}" "$@"
