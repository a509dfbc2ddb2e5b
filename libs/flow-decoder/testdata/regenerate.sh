#!/usr/bin/env bash
# Regenerates the exporter captures in this directory with REAL exporters (nobody here wrote them):
#   softflowd 1.1.0  -> NetFlow v5, v9, IPFIX      (reads the synthetic traffic pcap with -r)
#   pmacctd 1.7.7    -> nfprobe v9, IPFIX; sfprobe sFlow v5   (pcap_savefile)
# Each exporter sends to 127.0.0.1:<port>; dumpcap captures that port on lo. The traffic they meter is
# tests/decoder-oracle/oracle-input.ts (TCP/UDP/ICMP over IPv4 and IPv6, deterministic).
# Needs: softflowd, pmacct, dumpcap (wireshark-common), root or CAP_NET_RAW for capturing on lo.
# Usage: libs/flow-decoder/testdata/regenerate.sh   (from anywhere; builds into tmp/build-testdata)
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
BUILD="$ROOT/tmp/build-testdata"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/flowmesh-testdata.XXXXXX")"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

for bin in softflowd softflowctl pmacctd dumpcap; do
  command -v "$bin" >/dev/null || { echo "missing $bin (apt-get install softflowd pmacct wireshark-common)" >&2; exit 1; }
done

cd "$ROOT"
npx tsc -p tsconfig.build.json --outDir "$BUILD" --tsBuildInfoFile "$BUILD/.tsbuildinfo" >/dev/null || true
npx tsc-alias -p tsconfig.build.json --outDir "$BUILD"
node "$BUILD/tests/decoder-oracle/oracle-input.js" "$WORK/in.pcap"

# start_capture PORT FILE [dumpcap options...]: captures udp PORT on lo until stop_capture.
start_capture() {
  local port=$1 file=$2
  shift 2
  rm -f "$file"
  dumpcap -q "$@" -i lo -f "udp port $port" -w "$file" >"$WORK/dumpcap-$port.log" 2>&1 &
  CAP_PID=$!
  PIDS+=("$CAP_PID")
  # dumpcap prints "Capturing on" once the filter is installed
  for _ in $(seq 50); do grep -q Capturing "$WORK/dumpcap-$port.log" 2>/dev/null && break; sleep 0.1; done
  sleep 0.3
}
stop_capture() {
  sleep 1
  kill "$CAP_PID"
  wait "$CAP_PID" 2>/dev/null || true
}

# softflowd VERSION PORT OUT SAMPLING: softflowd reads the pcap (-a: flow times from the capture),
# periodic 1-in-SAMPLING packet sampling (announced in the v5 header / v9 and IPFIX options data).
softflowd_run() {
  local version=$1 port=$2 out=$3 sampling=$4
  start_capture "$port" "$WORK/$out"
  softflowd -r "$WORK/in.pcap" -n "127.0.0.1:$port" -v "$version" -s "$sampling" -d -6 -a \
    -p "$WORK/softflowd.pid" -c "$WORK/softflowd.ctl" >"$WORK/softflowd-$version.log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  # In -r mode softflowd's loop only advances when woken: poke it through the control socket until it
  # has read the file, expired every (old) flow, exported them and exited on its own.
  for _ in $(seq 60); do
    kill -0 "$pid" 2>/dev/null || break
    softflowctl -c "$WORK/softflowd.ctl" statistics >/dev/null 2>&1 || true
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then softflowctl -c "$WORK/softflowd.ctl" shutdown >/dev/null 2>&1 || true; fi
  wait "$pid" 2>/dev/null || true
  stop_capture
  cp "$WORK/$out" "$HERE/$out"
}

# pmacctd_run CONF_BODY PORT OUT: pmacctd replays the pcap (pcap_savefile); SIGINT flushes and exits.
pmacctd_run() {
  local body=$1 port=$2 out=$3
  cat >"$WORK/pmacctd.conf" <<EOF
daemonize: false
pcap_savefile: $WORK/in.pcap
pcap_savefile_wait: true
$body
EOF
  start_capture "$port" "$WORK/$out" -P
  pmacctd -f "$WORK/pmacctd.conf" >"$WORK/pmacctd-$port.log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  # pmacctd sleeps 2 s before replaying; nfprobe expires the (old) flows at its 1 s expiry tick
  for _ in $(seq 100); do grep -q "finished reading PCAP" "$WORK/pmacctd-$port.log" && break; sleep 0.1; done
  sleep 3
  kill -INT "$pid"
  wait "$pid" 2>/dev/null || true
  stop_capture
  cp "$WORK/$out" "$HERE/$out"
}

softflowd_run 5 39005 softflowd-v5.pcapng 3
softflowd_run 9 39009 softflowd-v9.pcapng 2
softflowd_run 10 39010 softflowd-ipfix.pcapng 2

NFPROBE_COMMON="aggregate[a]: src_host, dst_host, src_port, dst_port, proto, tos, tcpflags, vlan, src_mac, dst_mac
nfprobe_engine[a]: 77
nfprobe_timeouts[a]: tcp=1:tcp.rst=1:tcp.fin=1:udp=1:icmp=1:general=1:expint=1"
pmacctd_run "plugins: nfprobe[a]
nfprobe_receiver[a]: 127.0.0.1:39109
nfprobe_version[a]: 9
$NFPROBE_COMMON" 39109 pmacctd-nfprobe-v9.pcap
pmacctd_run "plugins: nfprobe[a]
nfprobe_receiver[a]: 127.0.0.1:39110
nfprobe_version[a]: 10
$NFPROBE_COMMON" 39110 pmacctd-nfprobe-ipfix.pcap
pmacctd_run "plugins: sfprobe[s]
sfprobe_receiver[s]: 127.0.0.1:39143
sfprobe_agentip[s]: 192.0.2.77
sfprobe_agentsubid[s]: 7
sfprobe_ifspeed[s]: 1000000000
sampling_rate: 1" 39143 pmacctd-sfprobe.pcap

chmod 644 "$HERE"/*.pcap "$HERE"/*.pcapng
ls -l "$HERE"
