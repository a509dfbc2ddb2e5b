#!/usr/bin/env bash
# Starts two local ClickHouse (Debian 18.16) servers as the two shards of cluster `flowmesh_cluster`,
# for development: own ports, own directories, no root, no systemd. Prints how to stop them by PID.
#
#   deploy/clickhouse/start-local-shards.sh [BASE_DIR]      (default /tmp/flowmesh-shards)
#   env: SHARD1_PORT_BASE (default 18120), SHARD2_PORT_BASE (default 28120): http = base+3, tcp = base+0,
#        interserver = base+9
set -euo pipefail

BASE_DIR=${1:-/tmp/flowmesh-shards}
SERVER=${CLICKHOUSE_SERVER:-$(command -v clickhouse-server || echo /usr/sbin/clickhouse-server)}
[ -x "$SERVER" ] || { echo "clickhouse-server not found; apt-get install -y clickhouse-server" >&2; exit 1; }
HERE=$(cd "$(dirname "$0")" && pwd)
B1=${SHARD1_PORT_BASE:-18120}
B2=${SHARD2_PORT_BASE:-28120}

write_config() { # dir tcp http interserver
  local dir=$1 tcp=$2 http=$3 inter=$4
  mkdir -p "$dir"/{data,tmp,user_files,format_schemas}
  cat > "$dir/config.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>$dir/server.log</log><errorlog>$dir/server.err.log</errorlog><console>0</console></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>$http</http_port>
  <tcp_port>$tcp</tcp_port>
  <interserver_http_port>$inter</interserver_http_port>
  <path>$dir/data/</path>
  <tmp_path>$dir/tmp/</tmp_path>
  <user_files_path>$dir/user_files/</user_files_path>
  <format_schema_path>$dir/format_schemas/</format_schema_path>
  <users_config>$dir/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>268435456</mark_cache_size>
  <compression><case><min_part_size>0</min_part_size><min_part_size_ratio>0</min_part_size_ratio><method>zstd</method></case></compression>
  <remote_servers>
    <flowmesh_cluster>
      <shard><replica><host>127.0.0.1</host><port>$B1</port></replica></shard>
      <shard><replica><host>127.0.0.1</host><port>$B2</port></replica></shard>
    </flowmesh_cluster>
  </remote_servers>
</yandex>
XML
  cat > "$dir/users.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <profiles>
    <default><max_memory_usage>4000000000</max_memory_usage></default>
    <reader><readonly>2</readonly></reader>
  </profiles>
  <users>
    <default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>default</profile><quota>default</quota></default>
    <reader><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>reader</profile><quota>default</quota></reader>
  </users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
XML
}

PIDS=()
for n in 1 2; do
  base=$([ $n = 1 ] && echo "$B1" || echo "$B2")
  dir="$BASE_DIR/shard$n"
  write_config "$dir" "$base" $((base + 3)) $((base + 9))
  # exec in a subshell: $! is then the server itself (18.16 ignores --pid-file without --daemon).
  ( cd "$dir" && exec "$SERVER" --config-file="$dir/config.xml" >"$dir/stdout.log" 2>&1 ) &
  PIDS+=($!)
done

for n in 1 2; do
  base=$([ $n = 1 ] && echo "$B1" || echo "$B2")
  for _ in $(seq 1 100); do
    if curl -sf "http://127.0.0.1:$((base + 3))/ping" >/dev/null 2>&1; then break; fi
    kill -0 "${PIDS[$((n - 1))]}" 2>/dev/null || { echo "shard $n exited; see $BASE_DIR/shard$n/server.err.log" >&2; exit 1; }
    sleep 0.1
  done
done

cat <<TXT
ClickHouse shards running (cluster flowmesh_cluster):
  shard 1: http://127.0.0.1:$((B1 + 3))  tcp $B1  pid ${PIDS[0]}  dir $BASE_DIR/shard1
  shard 2: http://127.0.0.1:$((B2 + 3))  tcp $B2  pid ${PIDS[1]}  dir $BASE_DIR/shard2
Point one collector node at each shard:
  flowmesh node --set storage.engine=clickhouse --set storage.clickhouse.url=http://127.0.0.1:$((B1 + 3)) ...
  flowmesh node --set storage.engine=clickhouse --set storage.clickhouse.url=http://127.0.0.1:$((B2 + 3)) ...
After the nodes have created their tables, add the cluster-wide read tables on a shard:
  clickhouse-client --port $B1 --multiquery < $HERE/cluster.sql
Stop them:
  kill ${PIDS[0]} ${PIDS[1]}      (data stays in $BASE_DIR; rm -rf it to start fresh)
TXT
