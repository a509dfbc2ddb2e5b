#!/usr/bin/env bash
# Compiles the recvmmsg receiver (native/udp_mmsg.c, plain C against Node-API) to dist/native/udp_mmsg.node.
# Needs a C compiler and Node's headers (include/node beside the node binary, or /usr/include/node).
# A failure is reported and is not fatal: the collector then receives with Node's dgram (slower) and says so.
set -uo pipefail
cd "$(dirname "$0")/../.."
out=dist/native/udp_mmsg.node
src=libs/udp-mmsg/native/udp_mmsg.c
node_bin=$(readlink -f "$(command -v node)")
inc=""
for d in "$(dirname "$(dirname "$node_bin")")/include/node" /usr/include/node /usr/local/include/node; do
  if [ -f "$d/node_api.h" ] && [ -f "$d/uv.h" ]; then inc=$d; break; fi
done
cc=${CC:-$(command -v cc || command -v gcc || true)}
if [ -z "$inc" ] || [ -z "$cc" ]; then
  echo "flowmesh: cannot build the recvmmsg receiver (${cc:-no C compiler}, ${inc:-no Node headers}): nodes will receive with Node's dgram" >&2
  exit 0
fi
mkdir -p "$(dirname "$out")"
if [ -f "$out" ] && [ "$out" -nt "$src" ] && [ "$out" -nt "$0" ]; then exit 0; fi
if ! "$cc" -O2 -Wall -Wextra -Werror -fPIC -shared -I"$inc" -o "$out.tmp" "$src"; then
  rm -f "$out.tmp"
  echo "flowmesh: the recvmmsg receiver did not compile: nodes will receive with Node's dgram" >&2
  exit 0
fi
mv -f "$out.tmp" "$out"
