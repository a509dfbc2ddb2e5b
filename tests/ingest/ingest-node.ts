/**
 * Test support for tests/ingest (fault tests with real processes): a collector node as an OS process
 * (the compiled dist/apps/collector-node/src/main.js beside this build), its metrics, its aggregate
 * totals, its chDB data directory read back after it stopped, and the generator sending over loopback.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FlowGenerator, sendGenerated, type GenOptions, type GenSummary } from '@flowmesh/flow-gen';
import { freePort, GiveUp, repoRoot, softnetDrops, stopProcess, udpDrops, udpRxQueue, waitUntil } from '@flowmesh/testing';

/** The node's entry point in the same build tree as this compiled file (dist/ or tmp/build-*). */
export const nodeMainJs = join(__dirname, '..', '..', 'apps', 'collector-node', 'src', 'main.js');

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Does the node accept these `--set` pairs? (`--check` validates the config and exits.) */
export function nodeAccepts(sets: string[]): boolean {
  const r = spawnSync(process.execPath, [nodeMainJs, 'node', '--check', ...sets.flatMap((s) => ['--set', s])], { encoding: 'utf8', timeout: 30_000 });
  return r.status === 0;
}

/** Sums every series of a Prometheus exposition named `name` (any labels); undefined when absent. */
export function metric(text: string, name: string, labels?: string): number | undefined {
  let found = false;
  let n = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const sp = line.lastIndexOf(' ');
    const series = line.slice(0, sp);
    const bare = series.includes('{') ? series.slice(0, series.indexOf('{')) : series;
    if (bare !== name) continue;
    if (labels !== undefined && !series.includes(labels)) continue;
    found = true;
    n += Number(line.slice(sp + 1));
  }
  return found ? n : undefined;
}

export interface NodeOptions {
  id: string;
  dataDir: string;
  redisUrl: string;
  /** Extra `--set key=value` pairs (storage, spool, decode...). */
  sets: string[];
}

/** One collector node process: listens for NetFlow/IPFIX on one loopback UDP port (`port`). */
export class NodeProcess {
  child?: ChildProcess;
  port = 0;
  httpPort = 0;
  private out = '';

  constructor(readonly o: NodeOptions) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts it (same ports as before on a restart) and waits for /readyz 200 and the UDP socket. */
  async start(): Promise<void> {
    if (!this.port) this.port = await freePort();
    if (!this.httpPort) this.httpPort = await freePort();
    const sets = [
      `id=${this.o.id}`,
      `dataDir=${this.o.dataDir}`,
      `http.port=${this.httpPort}`,
      'listeners.netflow.address=127.0.0.1',
      `listeners.netflow.port=${this.port}`,
      'listeners.ipfix.enabled=false',
      'listeners.sflow.enabled=false',
      'heartbeatMs=500',
      ...this.o.sets,
    ];
    this.out = '';
    const child = spawn(process.execPath, [nodeMainJs, 'node', ...sets.flatMap((s) => ['--set', s])], {
      cwd: repoRoot,
      env: { ...process.env, REDIS_URL: this.o.redisUrl, FLOWMESH_NODE_REDIS__URL: '', FLOWMESH_LOG_LEVEL: process.env.FLOWMESH_LOG_LEVEL ?? 'warn' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.child = child;
    child.stderr?.on('data', (d: Buffer) => {
      this.out = (this.out + d.toString()).slice(-50_000);
    });
    await waitUntil(
      `node ${this.o.id} to be ready`,
      async () => {
        if (child.exitCode !== null || child.signalCode !== null) throw new GiveUp(`node exited ${child.exitCode ?? child.signalCode}: ${this.out.slice(-3000)}`);
        const r = await fetch(`${this.base()}/readyz`, { signal: AbortSignal.timeout(2000) });
        return r.status === 200;
      },
      60_000,
      100,
    );
  }

  base(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  output(): string {
    return this.out;
  }

  async metrics(): Promise<string> {
    return (await fetch(`${this.base()}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
  }

  /** Rows stored and queryable, through the node's own POST /internal/v1/aggregate. */
  async storedFlows(): Promise<number> {
    const r = await fetch(`${this.base()}/internal/v1/aggregate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ from: 0, to: Date.now() + 86_400_000, by: null }),
      signal: AbortSignal.timeout(30_000),
    });
    if (r.status !== 200) throw new Error(`aggregate: HTTP ${r.status}: ${(await r.text()).slice(0, 300)}`);
    return Number(((await r.json()) as { totals: { flows: number } }).totals.flows);
  }

  /** Sends `signal` to the process (by PID) and waits for it to exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    const code = await stopProcess(this.child, signal, 60_000);
    return code;
  }

  /** VmRSS in bytes, undefined once it is gone. */
  rss(): number | undefined {
    try {
      const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${this.pid}/status`, 'utf8'));
      return m ? Number(m[1]) * 1024 : undefined;
    } catch {
      return undefined;
    }
  }

  alive(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }
}

/**
 * Reads a stopped node's chDB data directory (chDB allows one data directory per process, and the node
 * holds it while running): runs each query in a fresh Node process and returns TSV rows.
 */
export function chdbQuery(chdbPath: string, sql: string): string[][] {
  const script = "const {Session}=require('chdb');const s=new Session(process.argv[1]);process.stdout.write(s.query(process.argv[2],'TSV'));s.close();";
  const r = spawnSync(process.execPath, ['-e', script, chdbPath, sql], { encoding: 'utf8', timeout: 120_000, cwd: repoRoot });
  if (r.status !== 0) throw new Error(`chDB query failed (${r.status}): ${r.stderr.slice(0, 1000)}`);
  return r.stdout.split('\n').filter(Boolean).map((l) => l.split('\t'));
}

/**
 * Exactly-once checks over the raw table. A row's identity is its flow columns (batch_id aside); the
 * generator draws every datagram distinct (`distinct` = all packets), so two equal rows can only be one
 * flow stored twice (under one batch id or two). Returns: total rows, distinct rows, batches, and the batches whose row count is
 * not their distinct-row count (a batch stored twice shows here).
 */
export function exactlyOnceSql(table: string): { totals: string; badBatches: string } {
  const ident = 'time_received, flow_start, flow_end, exporter_addr, src_addr, dst_addr, src_port, dst_port, protocol, tcp_flags, bytes, packets, in_if, out_if, next_hop';
  return {
    totals: `SELECT count(), uniqExact(${ident}), uniqExact(batch_id) FROM ${table} FORMAT TSV`,
    badBatches: `SELECT hex(batch_id) AS b, count() AS c, uniqExact(${ident}) AS u FROM ${table} GROUP BY batch_id HAVING c != u ORDER BY b LIMIT 20 FORMAT TSV`,
  };
}

/** Generator options for a run whose every datagram is distinct (so every flow row is unique). */
export function uniqueFlows(o: Omit<GenOptions, 'host' | 'seed' | 'distinct'> & { seed?: number }): GenOptions {
  const perPacket = o.perPacket ?? (o.proto === 'v5' ? 30 : 25);
  return { host: '127.0.0.1', seed: 7, templateWaitMs: 50, ...o, distinct: Math.min(65_536, Math.ceil(o.records / perPacket)) };
}

/** Sends in this process (sendGenerated: the zero-copy cursor path); resolves with what the kernel accepted. */
export function send(opts: GenOptions, signal?: AbortSignal): Promise<GenSummary> {
  return sendGenerated(new FlowGenerator(opts), signal);
}

/** [bytes queued, datagrams dropped] summed over the UDP sockets bound to local `port` (/proc/net/udp{,6}). */
export function udpSocketStats(port: number): { rxQueue: number; drops: number } {
  return { rxQueue: udpRxQueue(port), drops: udpDrops(port) };
}

export { softnetDrops };
