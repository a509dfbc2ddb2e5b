/**
 * Test support (imported only by int-specs): a throwaway ClickHouse 18.16 server on free loopback
 * ports with its own temp directories (see /work/shared/CLICKHOUSE-18.md), started and stopped by PID.
 * Users: `default` (DDL, inserts) and `reader` (readonly=1, for the filter queries).
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { freePortRange, startProcess, stopProcess, Started, waitUntil } from '@flowmesh/testing';

export interface ClickHouse18 {
  httpPort: number;
  pid: number;
  version: string;
  /** Runs one statement over HTTP; returns the body, throws with the server's message on non-200. */
  query(sql: string, user?: 'default' | 'reader'): Promise<string>;
  stop(): Promise<void>;
}

/** The clickhouse-server binary, or undefined (with where it looked). */
export function findClickHouseServer(): { path?: string; searched: string[] } {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/bin', '/usr/local/bin', '/usr/local/sbin'].filter(Boolean);
  const searched = [...new Set(dirs.map((d) => join(d, 'clickhouse-server')))];
  return { path: searched.find((p) => existsSync(p)), searched };
}

export async function startClickHouse18(binary: string): Promise<ClickHouse18> {
  const dir = mkdtempSync(join(tmpdir(), 'flowmesh-ch18-'));
  const base = await freePortRange(3);
  const [httpPort, tcpPort, interserverPort] = [base, base + 1, base + 2];
  writeFileSync(
    join(dir, 'config.xml'),
    `<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>${dir}/server.log</log><errorlog>${dir}/server.err.log</errorlog><console>0</console></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>${httpPort}</http_port>
  <tcp_port>${tcpPort}</tcp_port>
  <interserver_http_port>${interserverPort}</interserver_http_port>
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
</yandex>
`,
  );
  writeFileSync(
    join(dir, 'users.xml'),
    `<?xml version="1.0"?>
<yandex>
  <profiles>
    <default><max_memory_usage>2000000000</max_memory_usage><max_threads>2</max_threads></default>
    <reader><readonly>1</readonly><max_memory_usage>1000000000</max_memory_usage><max_threads>2</max_threads></reader>
  </profiles>
  <users>
    <default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>default</profile><quota>default</quota></default>
    <reader><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>reader</profile><quota>default</quota></reader>
  </users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
`,
  );
  const proc: Started = startProcess(binary, [`--config-file=${join(dir, 'config.xml')}`]);
  const pid = proc.child.pid;
  if (pid === undefined) throw new Error(`could not start ${binary}`);
  const query = async (sql: string, user: 'default' | 'reader' = 'default'): Promise<string> => {
    const res = await fetch(`http://127.0.0.1:${httpPort}/?user=${user}`, { method: 'POST', body: sql, signal: AbortSignal.timeout(30_000) });
    const body = await res.text();
    if (res.status !== 200) throw new Error(`ClickHouse 18 HTTP ${res.status}: ${body.trim().slice(0, 500)}`);
    return body;
  };
  const stop = async (): Promise<void> => {
    await stopProcess(proc.child, 'SIGTERM', 15_000);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const version = await waitUntil(
      'clickhouse-server 18 to answer',
      async () => {
        if (proc.child.exitCode !== null) throw new Error(`clickhouse-server exited ${proc.child.exitCode}: ${proc.output().slice(-500)}`);
        return (await query('SELECT version()')).trim();
      },
      20_000,
      100,
    );
    return { httpPort, pid, version, query, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
