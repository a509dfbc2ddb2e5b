/**
 * Throwaway ClickHouse servers for int-specs (Debian's clickhouse-server 18.16, see
 * /work/shared/CLICKHOUSE-18.md): each on free loopback ports with its own temp directory, started and
 * stopped by PID. Users: `default` (DDL, inserts) and `reader` (readonly=2: no writes or DDL, settings allowed). Optionally several servers
 * as the shards of one cluster (`remote_servers`), for Distributed tables.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { freePortRange, GiveUp, startProcess, stopProcess, Started, waitUntil } from './processes';

export interface ClickHouseServer {
  httpPort: number;
  tcpPort: number;
  /** http://127.0.0.1:<httpPort> */
  url: string;
  /** PID of the running server (changes after restart()). */
  pid: number;
  /** `SELECT version()`, e.g. 18.16.1 */
  version: string;
  /** Its own directory: config.xml, users.xml, data/, logs. */
  dir: string;
  /** Runs one statement over HTTP; returns the body, throws with the server's message on non-200. */
  query(sql: string, user?: 'default' | 'reader'): Promise<string>;
  /** SIGTERM, waits for the exit; the data stays for restart(). */
  halt(): Promise<void>;
  /** Starts the server again on the same ports and data (after halt()). */
  restart(): Promise<void>;
  /** Stops the server (if running) and removes its directory. */
  stop(): Promise<void>;
}

export interface ClickHouseServerOptions {
  /** Defaults to findClickHouseServer().path. */
  binary?: string;
  /** Server-wide ZSTD compression for MergeTree parts (the only compression knob 18.16 has). */
  zstd?: boolean;
}

/** The clickhouse-server binary, or undefined (with where it looked). */
export function findClickHouseServer(): { path?: string; searched: string[] } {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/bin', '/usr/local/bin', '/usr/local/sbin'].filter(Boolean);
  const searched = [...new Set(dirs.map((d) => join(d, 'clickhouse-server')))];
  return { path: searched.find((p) => existsSync(p)), searched };
}

/** Why ClickHouse server specs must be skipped on this machine, or false. */
export function clickHouseServerSkipReason(): string | false {
  const { path, searched } = findClickHouseServer();
  // In CI the test set-up installs the server: a missing one must fail the run, not skip quietly.
  if (process.env.CI) return false;
  return path ? false : `clickhouse-server not installed (looked in ${searched.join(', ')}); apt-get install -y clickhouse-server`;
}

interface Ports {
  http: number;
  tcp: number;
  interserver: number;
}

function configXml(dir: string, p: Ports, shards: Ports[] | undefined, zstd: boolean): string {
  const cluster = shards
    ? `  <remote_servers>\n    <flowmesh_cluster>\n${shards
        .map((s) => `      <shard><replica><host>127.0.0.1</host><port>${s.tcp}</port></replica></shard>`)
        .join('\n')}\n    </flowmesh_cluster>\n  </remote_servers>\n`
    : '';
  const compression = zstd ? '  <compression><case><min_part_size>0</min_part_size><min_part_size_ratio>0</min_part_size_ratio><method>zstd</method></case></compression>\n' : '';
  return `<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>${dir}/server.log</log><errorlog>${dir}/server.err.log</errorlog><console>0</console></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>${p.http}</http_port>
  <tcp_port>${p.tcp}</tcp_port>
  <interserver_http_port>${p.interserver}</interserver_http_port>
  <path>${dir}/data/</path>
  <tmp_path>${dir}/tmp/</tmp_path>
  <user_files_path>${dir}/user_files/</user_files_path>
  <format_schema_path>${dir}/format_schemas/</format_schema_path>
  <users_config>${dir}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>67108864</mark_cache_size>
  <max_concurrent_queries>20</max_concurrent_queries>
  <keep_alive_timeout>1</keep_alive_timeout>
  <shutdown_wait_unfinished>1</shutdown_wait_unfinished>
${compression}${cluster}</yandex>
`;
}

const USERS_XML = `<?xml version="1.0"?>
<yandex>
  <profiles>
    <default><max_memory_usage>2000000000</max_memory_usage><max_threads>2</max_threads></default>
    <reader><readonly>2</readonly><max_memory_usage>1000000000</max_memory_usage><max_threads>2</max_threads></reader>
  </profiles>
  <users>
    <default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>default</profile><quota>default</quota></default>
    <reader><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>reader</profile><quota>default</quota></reader>
  </users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
`;

async function launch(binary: string, dir: string, p: Ports, shards: Ports[] | undefined, zstd: boolean): Promise<ClickHouseServer> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.xml'), configXml(dir, p, shards, zstd));
  writeFileSync(join(dir, 'users.xml'), USERS_XML);
  let proc: Started | undefined;
  const url = `http://127.0.0.1:${p.http}`;
  const query = async (sql: string, user: 'default' | 'reader' = 'default'): Promise<string> => {
    const res = await fetch(`${url}/?user=${user}`, { method: 'POST', body: sql, signal: AbortSignal.timeout(30_000) });
    const body = await res.text();
    if (res.status !== 200) throw new Error(`ClickHouse HTTP ${res.status}: ${body.trim().slice(0, 500)}`);
    return body;
  };
  const server: ClickHouseServer = {
    httpPort: p.http,
    tcpPort: p.tcp,
    url,
    pid: 0,
    version: '',
    dir,
    query,
    halt: async () => {
      await stopProcess(proc?.child, 'SIGTERM', 15_000);
    },
    restart: async () => {
      const started = startProcess(binary, [`--config-file=${join(dir, 'config.xml')}`]);
      proc = started;
      if (started.child.pid === undefined) throw new Error(`could not start ${binary}`);
      server.pid = started.child.pid;
      server.version = await waitUntil(
        `clickhouse-server on port ${p.http} to answer`,
        async () => {
          if (started.child.exitCode !== null) throw new GiveUp(`clickhouse-server exited ${started.child.exitCode}: ${started.output().slice(-500)}`);
          return (await query('SELECT version()')).trim();
        },
        20_000,
        50,
      );
    },
    stop: async () => {
      await stopProcess(proc?.child, 'SIGTERM', 15_000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await server.restart();
  } catch (e) {
    await server.stop();
    throw e;
  }
  return server;
}

function binaryOf(o: ClickHouseServerOptions): string {
  const binary = o.binary ?? findClickHouseServer().path;
  if (!binary) throw new Error(clickHouseServerSkipReason() || 'clickhouse-server not found');
  return binary;
}

/** One server on free ports with a fresh temp directory. */
export async function startClickHouseServer(o: ClickHouseServerOptions = {}): Promise<ClickHouseServer> {
  const base = await freePortRange(3);
  const dir = mkdtempSync(join(tmpdir(), 'flowmesh-ch-'));
  return launch(binaryOf(o), dir, { http: base, tcp: base + 1, interserver: base + 2 }, undefined, o.zstd ?? false);
}

/**
 * `shards` servers that each know all of them as cluster `flowmesh_cluster` (remote_servers), so a
 * Distributed('flowmesh_cluster', db, table) table on any of them reads all shards.
 */
export async function startClickHouseCluster(shards: number, o: ClickHouseServerOptions = {}): Promise<ClickHouseServer[]> {
  const binary = binaryOf(o);
  const ports: Ports[] = [];
  const base = await freePortRange(3 * shards);
  for (let i = 0; i < shards; i++) ports.push({ http: base + 3 * i, tcp: base + 3 * i + 1, interserver: base + 3 * i + 2 });
  const started: ClickHouseServer[] = [];
  try {
    for (const p of ports) started.push(await launch(binary, mkdtempSync(join(tmpdir(), 'flowmesh-ch-shard-')), p, ports, o.zstd ?? false));
  } catch (e) {
    await Promise.all(started.map((s) => s.stop()));
    throw e;
  }
  return started;
}
