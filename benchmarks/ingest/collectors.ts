/**
 * The collectors the ingest benchmark drives, each started and stopped by PID:
 * - FlowmeshNode: `flowmesh node` (dist/apps/collector-node/src/main.js) on chDB or a ClickHouse 18.16
 *   server; stored rows come from its POST /internal/v1/aggregate totals, decode/spool counts from /metrics.
 * - Nfcapd: Debian's nfdump 1.7.1 `nfcapd -w DIR`; stored records from `nfdump -I -r FILE` after SIGTERM.
 */
import { ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClickHouseServer, freePort, GiveUp, repoRoot, startClickHouseServer, stopProcess, waitUntil } from '@flowmesh/testing';
import { pinPrefix, processTree, udpRxQueue, udpSockets } from '@flowmesh/testing';

/** Counters of one collector at one moment (cumulative since its start). */
export interface Counts {
  /** Rows stored and queryable. */
  stored: number;
  /** Flows received and decoded (node metrics). */
  decoded?: number;
  /** Rows appended to the durable spool (node metrics, once the node has a spool). */
  spooled?: number;
}

export interface Collector {
  readonly name: string;
  readonly port: number;
  /** What it was started with (printed). */
  cmd: string;
  /** True when stored counts are only known after stop (nfcapd): one process per trial. */
  readonly restartPerTrial: boolean;
  start(): Promise<void>;
  counts(): Promise<Counts>;
  pids(): number[];
  /** Stops the process; for per-trial collectors returns the stored count. */
  stop(): Promise<Counts | undefined>;
  /** Stored bytes per stored row of the raw data (after stop). */
  bytesPerFlow(): Promise<number | undefined>;
  cleanup(): Promise<void>;
}

export const METRIC = {
  decoded: /^flowmesh_collector_decode_flows_total(\{|\s)/,
  // The spool's append counter (rows); matched loosely so a renamed label set still counts.
  spooled: /^flowmesh_collector_spool_(appended_rows|rows_appended|append_rows|rows_written|written_rows)_total(\{|\s)/,
};

/** Sums every series of a Prometheus text exposition whose line matches `re`; undefined if none does. */
export function metricSum(text: string, re: RegExp): number | undefined {
  let found = false;
  let n = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !re.test(line)) continue;
    found = true;
    n += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return found ? n : undefined;
}

export interface NodeOptions {
  /** 'spool': a node whose store is unreachable (engine=clickhouse at a closed port): receive + decode + spool only. */
  engine: 'chdb' | 'clickhouse' | 'spool';
  port: number;
  cpus: string;
  redisUrl: string;
  mainJs: string;
  receiveBufferBytes: number;
  /** Extra `--set k=v` pairs. */
  sets: string[];
  log: (s: string) => void;
}

/** Does the node accept this config? (`--check` validates without starting anything.) */
export function nodeAccepts(mainJs: string, sets: string[]): boolean {
  const r = spawnSync(process.execPath, [mainJs, 'node', '--check', ...sets.flatMap((s) => ['--set', s])], { encoding: 'utf8', timeout: 30_000 });
  return r.status === 0;
}

export class FlowmeshNode implements Collector {
  readonly restartPerTrial = false;
  cmd = '';
  private child?: ChildProcess;
  private out = '';
  private dir = '';
  private httpPort = 0;
  private ch?: ClickHouseServer;
  readonly name: string;

  constructor(private readonly o: NodeOptions) {
    this.name = o.engine;
  }

  get port(): number {
    return this.o.port;
  }

  async start(): Promise<void> {
    this.dir = mkdtempSync(join(tmpdir(), `flowmesh-ingbench-${this.o.engine}-`));
    this.httpPort = await freePort();
    const sets = [
      'id=bench-node',
      `dataDir=${this.dir}`,
      `http.port=${this.httpPort}`,
      'listeners.netflow.address=127.0.0.1',
      `listeners.netflow.port=${this.o.port}`,
      'listeners.ipfix.enabled=false',
      'listeners.sflow.enabled=false',
      `listeners.receiveBufferBytes=${this.o.receiveBufferBytes}`,
      'storage.memoryLimitBytes=2147483648',
      ...this.o.sets,
    ];
    if (this.o.engine === 'clickhouse') {
      this.ch = await startClickHouseServer();
      // The server is part of the collector under test: it gets the collector's core(s).
      const pin = pinPrefix(this.o.cpus);
      if (pin.length) execFileSync('taskset', ['-a', '-p', '-c', this.o.cpus, String(this.ch.pid)], { stdio: 'ignore' });
      sets.push('storage.engine=clickhouse', `storage.clickhouse.url=${this.ch.url}`);
    }
    if (this.o.engine === 'spool') {
      // Nothing listens on port 9 (discard): every batch stays in the spool; the store retries with backoff.
      sets.push('storage.engine=clickhouse', 'storage.clickhouse.url=http://127.0.0.1:9', 'spool.maxBytes=34359738368');
    }
    const args = [...pinPrefix(this.o.cpus), process.execPath, this.o.mainJs, 'node', ...sets.flatMap((s) => ['--set', s])];
    this.cmd = args.join(' ');
    this.out = '';
    this.child = spawn(args[0], args.slice(1), {
      env: { ...process.env, REDIS_URL: this.o.redisUrl, FLOWMESH_NODE_REDIS__URL: '', FLOWMESH_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const child = this.child;
    child.stderr?.on('data', (d: Buffer) => {
      this.out = (this.out + d.toString()).slice(-20_000);
    });
    await waitUntil(
      'the node to be ready',
      async () => {
        if (child.exitCode !== null) throw new GiveUp(`node exited ${child.exitCode}: ${this.out.slice(-2000)}`);
        const r = await fetch(`http://127.0.0.1:${this.httpPort}/readyz`, { signal: AbortSignal.timeout(2000) });
        // 'spool': the store is unreachable by design, so the node reports not ready (503) while it collects.
        return (r.status === 200 || (this.o.engine === 'spool' && r.status === 503)) && udpSockets(this.o.port).length > 0;
      },
      60_000,
      100,
    );
    if (this.ch) {
      const tables = await this.ch.query("SELECT name FROM system.tables WHERE database = 'flowmesh' FORMAT TSV");
      if (!tables.split('\n').includes('flows')) {
        throw new Error('storage.engine=clickhouse accepted, but the node created no flowmesh.flows on the server (ClickHouse store not wired yet)');
      }
    }
  }

  async counts(): Promise<Counts> {
    const base = `http://127.0.0.1:${this.httpPort}`;
    if (this.o.engine === 'spool') {
      const text = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(10_000) }).then((r) => r.text());
      return { stored: 0, decoded: metricSum(text, METRIC.decoded), spooled: metricSum(text, METRIC.spooled) };
    }
    const [agg, text] = await Promise.all([
      fetch(`${base}/internal/v1/aggregate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ from: 0, to: Date.now() + 86_400_000, by: null }),
        signal: AbortSignal.timeout(30_000),
      }).then(async (r) => {
        if (r.status !== 200) throw new Error(`aggregate: HTTP ${r.status} ${(await r.text()).slice(0, 300)}`);
        return (await r.json()) as { totals: { flows: number } };
      }),
      fetch(`${base}/metrics`, { signal: AbortSignal.timeout(10_000) }).then((r) => r.text()),
    ]);
    return { stored: Number(agg.totals.flows), decoded: metricSum(text, METRIC.decoded), spooled: metricSum(text, METRIC.spooled) };
  }

  async metricsText(): Promise<string> {
    return (await fetch(`http://127.0.0.1:${this.httpPort}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
  }

  pids(): number[] {
    const p = this.child?.pid;
    const own = p && this.child?.exitCode === null ? processTree(p) : [];
    return this.ch ? [...own, ...processTree(this.ch.pid)] : own;
  }

  async stop(): Promise<undefined> {
    const code = await stopProcess(this.child, 'SIGTERM', 60_000);
    if (code !== 0 && code !== null) this.o.log(`  node exited ${code}: ${this.out.slice(-1000)}`);
    this.child = undefined;
    return undefined;
  }

  /** Raw table bytes on disk (active parts) / rows, read with the node stopped. */
  async bytesPerFlow(): Promise<number | undefined> {
    if (this.o.engine === 'spool') return undefined;
    const sql = "SELECT sum(bytes_on_disk), sum(rows) FROM system.parts WHERE database = 'flowmesh' AND table = 'flows' AND active FORMAT TSV";
    let tsv: string;
    if (this.ch) {
      tsv = await this.ch.query(sql).catch(() => this.ch!.query(sql.replace('bytes_on_disk', 'bytes')));
    } else {
      const script = `const {Session}=require('chdb');const s=new Session(process.argv[1]);process.stdout.write(s.query(process.argv[2],'TSV'));s.close();`;
      const r = spawnSync(process.execPath, ['-e', script, join(this.dir, 'bench-node', 'chdb'), sql], { encoding: 'utf8', timeout: 60_000, cwd: repoRoot });
      if (r.status !== 0) {
        this.o.log(`  chDB size query failed: ${r.stderr.slice(0, 300)}`);
        return undefined;
      }
      tsv = r.stdout;
    }
    const [bytes, rows] = tsv.trim().split('\t').map(Number);
    return rows > 0 ? bytes / rows : undefined;
  }

  async cleanup(): Promise<void> {
    await this.stop();
    await this.ch?.stop();
    this.ch = undefined;
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }

  tail(): string {
    return this.out.slice(-2000);
  }
}

export class Nfcapd implements Collector {
  readonly name = 'nfcapd';
  readonly restartPerTrial = true;
  cmd = '';
  private child?: ChildProcess;
  private readonly dir: string;
  private storedRecords = 0;
  private storedBytes = 0;

  constructor(
    readonly port: number,
    private readonly cpus: string,
    private readonly rcvbuf: number,
  ) {
    // tmpfs, like the peers' harness: ~130 bytes/record would otherwise hit ext4 dirty-page throttling
    const root = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
    this.dir = mkdtempSync(join(root, 'flowmesh-ingbench-nfcapd-'));
  }

  static available(): boolean {
    return spawnSync('nfcapd', ['-V'], { encoding: 'utf8' }).status === 0 && spawnSync('nfdump', ['-V'], { encoding: 'utf8' }).status === 0;
  }

  static version(): string {
    return spawnSync('nfcapd', ['-V'], { encoding: 'utf8' }).stdout.trim();
  }

  async start(): Promise<void> {
    rmSync(this.dir, { recursive: true, force: true });
    mkdirSync(this.dir, { recursive: true });
    const args = [...pinPrefix(this.cpus), 'nfcapd', '-b', '127.0.0.1', '-p', String(this.port), '-w', this.dir, '-B', String(this.rcvbuf), '-t', '3600', '-I', 'bench'];
    this.cmd = args.join(' ');
    this.child = spawn(args[0], args.slice(1), { stdio: 'ignore' });
    const child = this.child;
    await waitUntil('nfcapd to bind', async () => {
      if (child.exitCode !== null) throw new GiveUp(`nfcapd exited ${child.exitCode}`);
      return udpSockets(this.port).length > 0;
    }, 10_000, 20);
  }

  async counts(): Promise<Counts> {
    return { stored: 0 };
  }

  pids(): number[] {
    return this.child?.pid && this.child.exitCode === null ? processTree(this.child.pid) : [];
  }

  /** SIGTERM flushes the current file; then every closed file is counted with `nfdump -I -r`. */
  async stop(): Promise<Counts> {
    await stopProcess(this.child, 'SIGTERM', 30_000);
    this.child = undefined;
    let records = 0;
    for (const f of readdirSync(this.dir)) {
      if (!f.startsWith('nfcapd.') || f.includes('current')) continue;
      const file = join(this.dir, f);
      const out = execFileSync('nfdump', ['-I', '-r', file], { encoding: 'utf8' });
      const m = /^Flows:\s*(\d+)/m.exec(out);
      records += m ? Number(m[1]) : 0;
      this.storedBytes += statSync(file).size;
    }
    this.storedRecords += records;
    rmSync(this.dir, { recursive: true, force: true });
    return { stored: records };
  }

  async bytesPerFlow(): Promise<number | undefined> {
    return this.storedRecords > 0 ? this.storedBytes / this.storedRecords : undefined;
  }

  async cleanup(): Promise<void> {
    if (this.child) await stopProcess(this.child, 'SIGTERM', 30_000);
    rmSync(this.dir, { recursive: true, force: true });
  }

  rxQueue(): number {
    return udpRxQueue(this.port);
  }
}
