#!/usr/bin/env bash
# npm test: everything the suite needs is set up here; then lint, typecheck, build, and all tests
# (unit specs, integration specs with real Redis/chDB/exporters, and the end-to-end cluster test).
#   scripts/test.sh                 the whole suite (what CI runs)
#   scripts/test.sh --only <dir>    only the specs under <dir> (e.g. libs/flow-decoder)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/ensure.sh

only=""
if [ "${1:-}" = "--only" ]; then only=${2:?--only needs a directory}; fi

ensure_node_modules
# Real parts the tests drive: Redis, exporters (softflowd, pmacct), the decoding oracle (tshark),
# ClickHouse 18.16 (the oldest server the SQL must run on).
# A C compiler for the native recvmmsg receiver (libs/udp-mmsg).
ensure_debian_packages cc:build-essential redis-server:redis-server softflowd:softflowd pmacctd:pmacct tshark:tshark clickhouse-server:clickhouse-server

if [ -z "$only" ]; then
  npm run --silent lint
  npm run --silent typecheck
fi
[ -z "$only" ] && rm -rf dist   # a full run builds from scratch: no stale compiled specs
npm run --silent build

mapfile -t specs < <(find "dist/${only}" -type f \( -name '*.spec.js' -o -name '*.int-spec.js' -o -name '*.e2e-spec.js' \) -not -path '*/node_modules/*' | sort)
if [ ${#specs[@]} -eq 0 ]; then echo "no tests found under dist/${only}" >&2; exit 1; fi
export FLOWMESH_LOG_LEVEL=${FLOWMESH_LOG_LEVEL:-warn}
exec node --test --test-concurrency=1 --test-timeout=600000 "${specs[@]}"
