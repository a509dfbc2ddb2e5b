#!/usr/bin/env bash
# Where a collector node's CPU goes, thread by thread, while the generator sends at a fixed rate.
#
#   npm run build && bash benchmarks/ingest/thread-cpu.sh RATE SECONDS [--set key=value ...]
#
# The node runs pinned to core 1 (taskset), the generator (v9) to core 0. After the send (+3 s for the last
# batch to be stored) it prints the node's CPU per flow (utime+stime of the whole process, threads that
# ended included) and per live thread (main thread and decode worker are named "node-<tid>"; MergeMutate
# = ClickHouse merges; threads chDB starts and ends per query only count in the process total), and the
# spool's appended/delivered rows. Extra arguments go to the node (e.g. --set storage.batchRows=50000).
set -euo pipefail
RATE=${1:?rate (flows/s)}; SECS=${2:?seconds}; shift 2
RECS=$((RATE * SECS))
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DIR=$(mktemp -d /tmp/flowmesh-thread-cpu-XXXXXX)
HTTP=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
UDP=$(python3 -c 'import socket;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
taskset -c 1 node "$ROOT/dist/apps/collector-node/src/main.js" node --set id=thread-cpu --set "dataDir=$DIR" --set "http.port=$HTTP" \
  --set listeners.netflow.address=127.0.0.1 --set "listeners.netflow.port=$UDP" --set listeners.ipfix.enabled=false \
  --set listeners.sflow.enabled=false --set listeners.receiveBufferBytes=16777216 --set controlPlane.enabled=false "$@" > "$DIR/log" 2>&1 &
NODE=$!
cleanup() { kill "$NODE" 2>/dev/null || true; wait "$NODE" 2>/dev/null || true; rm -rf "$DIR"; }
trap cleanup EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$HTTP/healthz" >/dev/null && break; sleep 0.2; done
snap() { for t in /proc/$NODE/task/*; do echo "$(basename "$t"):$(tr ' ' '_' < "$t/comm") $(awk '{print $14+$15}' "$t/stat")"; done | sort; }
ticks() { awk '{print $14+$15}' "/proc/$NODE/stat"; }
snap > "$DIR/a"; P0=$(ticks)
taskset -c 0 node "$ROOT/dist/benchmarks/ingest/ingest-gen.js" "{\"proto\":\"v9\",\"host\":\"127.0.0.1\",\"port\":$UDP,\"records\":$RECS,\"rate\":$RATE,\"seed\":1}" > "$DIR/gen"
sleep 3
snap > "$DIR/b"; P1=$(ticks)
echo "sent $RECS v9 flows at $RATE/s; node process: $(python3 -c "print(round(($P1-$P0)/100/$RECS*1e6,3))") CPU-µs/flow"
join "$DIR/a" "$DIR/b" | awk -v recs="$RECS" '{d=$3-$2; split($1,q,":"); k=q[2]; if(k=="node") k=k"-"q[1]; if(d>0){s[k]+=d}}
  END {for(k in s) printf "  %-22s %7.2f s  %6.3f µs/flow\n", k, s[k]/100, s[k]/100/recs*1e6}' | sort -k2 -nr
curl -s "http://127.0.0.1:$HTTP/metrics" | grep -E "^flowmesh_collector_spool_(appended|delivered)_rows_total" || true
