/**
 * Ingest benchmark: the zero-loss (< 0.1 %) sustained rate of v9 and IPFIX from the project's generator
 * over loopback into a Flowmesh collector node — (a) embedded chDB, (b) a ClickHouse 18.16 server — and,
 * in the same run by the same method, into Debian's nfcapd (nfdump 1.7.1); prints the ratio. Engine
 * 'spool' is a node whose store is unreachable: what it receives, decodes and makes durable in its spool
 * is all it does — nfcapd's job (receive, decode, write files), measured alone.
 *
 *   node dist/benchmarks/ingest/ingest.bench.js [--runs 3] [--quick] [--json FILE]
 *        [--engines chdb,clickhouse,spool,nfcapd] [--protos v9,ipfix] [--gen-cpus 0] [--collector-cpus 1]
 *
 * Method (the peers' harness, /work/shared/peers/bench.py, re-done here): one trial = the generator
 * (its own process, pinned with taskset) sends N records paced at a rate; the collector must have them
 * all STORED (node: rows in POST /internal/v1/aggregate; nfcapd: `nfdump -I` of its files) by a deadline
 * after the last datagram (deadline = --deadline-frac × send time + --deadline-slack s), loss =
 * 1 − stored/sent. An unpaced probe gives the overload rate; paced trials start at 0.8 × that, step
 * ×1.2 up / ×0.85 down until a pass and a fail bracket the limit, then bisect to --resolution. The same
 * trials also give the "received + decoded + spooled" verdict (the node's spool-append counter, or its
 * decoded counter before the spool exists) with a real-time deadline (0.05 × send + --spool-slack s); when the
 * stored search leaves it unbracketed, more trials search it. CPU-µs/flow = the collector's
 * (utime+stime of its process tree, its ClickHouse server included) / rows stored, in passing trials.
 * Bytes/flow = the raw table's active parts bytes_on_disk / rows (nfcapd: file bytes / records).
 * Every figure is the median of --runs determinations.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { freePort, repoRoot, startRedis, stopProcess } from '@flowmesh/testing';
import { Collector, Counts, FlowmeshNode, Nfcapd, nodeAccepts } from './collectors';
import type { GenResult } from './ingest-gen';
import { CLK_TCK, hasTaskset, pinPrefix, raiseRmemMax, rmemMax, snmpUdp, softnetDrops, treeTicks, udpDrops, udpRxQueue } from '@flowmesh/testing';

type Proto = 'v9' | 'ipfix';
type Engine = 'chdb' | 'clickhouse' | 'spool' | 'nfcapd';

interface Args {
  runs: number;
  quick: boolean;
  json?: string;
  engines: Engine[];
  protos: Proto[];
  records: number;
  probeRecords: number;
  minDuration: number;
  maxSteps: number;
  resolution: number;
  maxLoss: number;
  deadlineFrac: number;
  deadlineSlack: number;
  genCpus: string;
  collectorCpus: string;
  rcvbuf: number;
  rmemMax: number;
  seed: number;
  nodeMain?: string;
  autogroupNice: number;
  spoolSlack: number;
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    runs: 3, quick: false, engines: ['chdb', 'clickhouse', 'nfcapd'], protos: ['v9', 'ipfix'],
    records: 1_000_000, probeRecords: 2_000_000, minDuration: 2.5, maxSteps: 6, resolution: 0.05, maxLoss: 0.1,
    deadlineFrac: 0.1, deadlineSlack: 2.5, genCpus: '0', collectorCpus: '1', rcvbuf: 16 << 20, rmemMax: 32 << 20, seed: 1, autogroupNice: -10, spoolSlack: 1.5,
  };
  let runsGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = (): string => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${k} needs a value`);
      return x;
    };
    switch (k) {
      case '--runs': a.runs = Number(v()); runsGiven = true; break;
      case '--quick': a.quick = true; break;
      case '--json': a.json = v(); break;
      case '--engines': a.engines = v().split(',').filter(Boolean) as Engine[]; break;
      case '--protos': a.protos = v().split(',').filter(Boolean) as Proto[]; break;
      case '--records': a.records = Number(v()); break;
      case '--probe-records': a.probeRecords = Number(v()); break;
      case '--min-duration': a.minDuration = Number(v()); break;
      case '--max-steps': a.maxSteps = Number(v()); break;
      case '--resolution': a.resolution = Number(v()); break;
      case '--max-loss': a.maxLoss = Number(v()); break;
      case '--deadline-frac': a.deadlineFrac = Number(v()); break;
      case '--deadline-slack': a.deadlineSlack = Number(v()); break;
      case '--gen-cpus': a.genCpus = v(); break;
      case '--collector-cpus': a.collectorCpus = v(); break;
      case '--rcvbuf': a.rcvbuf = Number(v()); break;
      case '--rmem-max': a.rmemMax = Number(v()); break;
      case '--seed': a.seed = Number(v()); break;
      case '--node-main': a.nodeMain = v(); break;
      case '--autogroup-nice': a.autogroupNice = Number(v()); break;
      case '--spool-slack': a.spoolSlack = Number(v()); break;
      case '-h': case '--help':
        process.stdout.write(`${__filename.endsWith('.js') ? 'node dist/benchmarks/ingest/ingest.bench.js' : 'ingest.bench'} [--runs N] [--quick] [--json FILE] [--engines chdb,clickhouse,spool,nfcapd] [--protos v9,ipfix] [--records N] [--probe-records N] [--min-duration S] [--max-steps N] [--resolution F] [--max-loss PCT] [--deadline-frac F] [--deadline-slack S] [--spool-slack S] [--gen-cpus LIST] [--collector-cpus LIST] [--rcvbuf BYTES] [--rmem-max BYTES] [--seed N] [--node-main PATH/main.js] [--autogroup-nice N (99 = leave)]\n`);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option ${k}`);
    }
  }
  for (const e of a.engines) if (!['chdb', 'clickhouse', 'spool', 'nfcapd'].includes(e)) throw new Error(`--engines: unknown ${e}`);
  for (const p of a.protos) if (!['v9', 'ipfix'].includes(p)) throw new Error(`--protos: unknown ${p}`);
  if (a.quick) {
    if (!runsGiven) a.runs = 1;
    a.records = Math.min(a.records, 300_000);
    a.probeRecords = Math.min(a.probeRecords, 600_000);
    a.minDuration = Math.min(a.minDuration, 1.2);
    a.maxSteps = Math.min(a.maxSteps, 4);
    a.resolution = Math.max(a.resolution, 0.15);
  }
  return a;
}

const log = (s: string): void => void process.stdout.write(`${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (x: number, d = 0): number => Math.round(x * 10 ** d) / 10 ** d;
const fmt = (x: number | undefined | null): string => (x === undefined || x === null || Number.isNaN(x) ? '—' : Math.round(x).toLocaleString('en-US'));
function median(xs: number[]): number | undefined {
  const s = xs.filter((x) => Number.isFinite(x)).sort((p, q) => p - q);
  if (!s.length) return undefined;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

interface Trial {
  target: number;
  offered: number;
  sent: number;
  stored: number;
  lossPct: number;
  /** received+decoded+spooled by the real-time deadline (spool counter, else decoded). */
  spooled?: number;
  spoolLossPct?: number;
  passStored: boolean;
  passSpool?: boolean;
  genLimited: boolean;
  sendS: number;
  /** Seconds after the last datagram until all rows were stored (undefined: not by the deadline). */
  storeLagS?: number;
  /** Rows stored per second of (first datagram → all stored). */
  storedRate?: number;
  /** Rows spooled (or decoded) per second of (first datagram → last one counted). */
  spoolRate?: number;
  cpuUsPerFlow?: number;
  kernelDrops: number;
  rcvbufErrors: number;
  softnetDrops: number;
}

/** The rate a passing trial at `target` really offered (the generator may fall up to 10 % short of a target). */
function achieved(trials: Trial[], key: 'passStored' | 'passSpool', target: number): number {
  const t = trials.filter((x) => x[key] && x.target === target).map((x) => x.offered);
  return t.length ? Math.min(target, Math.max(...t)) : target;
}

interface Determination {
  engine: Engine;
  proto: Proto;
  run: number;
  zeroLossRate: number;
  zeroLossBound: string;
  spoolRate?: number;
  spoolBound?: string;
  spoolCounter: 'spool' | 'decoded' | 'n/a';
  probeRate: number;
  cpuUsPerFlow?: number;
  bytesPerFlow?: number;
  trials: Trial[];
  cmd: string;
  error?: string;
}

class Bench {
  private genJs = join(__dirname, 'ingest-gen.js');

  constructor(private readonly a: Args) {}

  private runGen(proto: Proto, port: number, records: number, rate: number, seed: number): Promise<GenResult> {
    const opts = { proto, host: '127.0.0.1', port, records, rate, seed, templateWaitMs: 50 };
    const args = [...pinPrefix(this.a.genCpus), process.execPath, this.genJs, JSON.stringify(opts)];
    return new Promise((resolve, reject) => {
      const child: ChildProcess = spawn(args[0], args.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
      child.once('exit', (code) => {
        if (code !== 0) reject(new Error(`generator exited ${code}: ${err.slice(-500)}`));
        else resolve(JSON.parse(out) as GenResult);
      });
    });
  }

  /** One trial at `rate` (0 = unpaced probe). */
  async trial(c: Collector, proto: Proto, rate: number, records: number): Promise<Trial> {
    if (c.restartPerTrial) await c.start();
    const pids = c.pids();
    const c0: Counts = c.restartPerTrial ? { stored: 0 } : await c.counts();
    const ticks0 = treeTicks(pids);
    const drops0 = udpDrops(c.port);
    const snmp0 = snmpUdp();
    const sn0 = softnetDrops();
    const gen = await this.runGen(proto, c.port, records, rate, this.a.seed);
    const sent = gen.summary.records;
    const sendS = gen.summary.seconds;
    const tEnd = performance.now();
    const genStart = tEnd - (gen.endWallMs - gen.startWallMs);
    const deadline = tEnd + 1000 * (this.a.deadlineFrac * sendS + this.a.deadlineSlack);
    const spoolDeadline = tEnd + 1000 * (0.05 * sendS + this.a.spoolSlack);
    let stored = 0;
    let storeLagS: number | undefined;
    let storedRate: number | undefined;
    let spooled: number | undefined;
    let spoolAtDeadline: number | undefined;
    let spoolRate: number | undefined;
    let ticks1 = treeTicks(pids);
    if (c.restartPerTrial) {
      // nfcapd: done when its socket queue is empty and it used no CPU for 100 ms (then SIGTERM, count)
      let idleSince = 0;
      let lastTicks = -1;
      while (performance.now() < deadline + 20_000) {
        const tk = treeTicks(pids);
        const idle = udpRxQueue(c.port) === 0 && tk === lastTicks;
        lastTicks = tk;
        if (idle && !idleSince) idleSince = performance.now();
        if (!idle) idleSince = 0;
        if (idleSince && performance.now() - idleSince >= 100) break;
        await sleep(20);
      }
      ticks1 = treeTicks(pids);
      const done = Math.max(idleSince || performance.now(), tEnd);
      stored = (await c.stop())?.stored ?? 0;
      if (done <= deadline) storeLagS = (done - tEnd) / 1000;
      storedRate = stored / ((done - genStart) / 1000);
    } else {
      // node: poll its counters until every row is stored or the deadline passes
      let lastSpool = -1;
      let lastSpoolAt = tEnd;
      for (;;) {
        const now = performance.now();
        const k = await c.counts();
        stored = k.stored - c0.stored;
        const sp = k.spooled !== undefined && c0.spooled !== undefined ? k.spooled - c0.spooled : k.decoded !== undefined && c0.decoded !== undefined ? k.decoded - c0.decoded : undefined;
        if (sp !== undefined) {
          if (sp !== lastSpool) lastSpoolAt = now;
          lastSpool = sp;
          spooled = sp;
          if (now <= spoolDeadline) spoolAtDeadline = sp;
        }
        if (stored >= sent) {
          storeLagS = (now - tEnd) / 1000;
          storedRate = stored / ((now - genStart) / 1000);
          break;
        }
        if (now > deadline) break;
        await sleep(50);
      }
      ticks1 = treeTicks(pids);
      if (spooled !== undefined) spoolRate = spooled / ((lastSpoolAt - genStart) / 1000);
      spoolAtDeadline ??= spooled;
    }
    const kernelDrops = udpDrops(c.port) - drops0;
    const snmp1 = snmpUdp();
    const lossPct = sent ? 100 * (1 - stored / sent) : 0;
    const genLimited = rate > 0 && gen.summary.rate < 0.9 * rate;
    const cpuS = (ticks1 - ticks0) / CLK_TCK;
    const t: Trial = {
      target: rate,
      offered: gen.summary.rate,
      sent,
      stored,
      lossPct: round(lossPct, 4),
      passStored: lossPct < this.a.maxLoss && storeLagS !== undefined && !genLimited,
      genLimited,
      sendS,
      storeLagS: storeLagS === undefined ? undefined : round(storeLagS, 3),
      storedRate: storedRate === undefined ? undefined : round(storedRate),
      // per stored flow; a collector that stores nothing (the 'spool' engine): per spooled flow
      cpuUsPerFlow: stored > 0 ? round((1e6 * cpuS) / stored, 3) : spooled ? round((1e6 * cpuS) / spooled, 3) : undefined,
      kernelDrops,
      rcvbufErrors: (snmp1.RcvbufErrors ?? 0) - (snmp0.RcvbufErrors ?? 0),
      softnetDrops: softnetDrops() - sn0,
    };
    if (spoolAtDeadline !== undefined) {
      t.spooled = spoolAtDeadline;
      t.spoolLossPct = round(100 * (1 - spoolAtDeadline / sent), 4);
      t.passSpool = t.spoolLossPct < this.a.maxLoss && !genLimited;
      t.spoolRate = spoolRate === undefined ? undefined : round(spoolRate);
    }
    log(
      `    ${c.name.padEnd(10)} ${proto.padEnd(5)} target=${String(rate || 'max').padStart(9)} offered=${fmt(t.offered).padStart(10)} sent=${fmt(sent).padStart(10)} stored=${fmt(stored).padStart(10)} loss=${t.lossPct.toFixed(3).padStart(7)}% ` +
        `lag=${t.storeLagS === undefined ? '  late' : `${t.storeLagS.toFixed(2).padStart(5)}s`}` +
        (t.spooled !== undefined ? ` spooled=${fmt(t.spooled)} (${t.passSpool ? 'ok' : 'behind'})` : '') +
        ` kdrop=${kernelDrops} cpu=${t.cpuUsPerFlow ?? '—'}µs/flow ${t.passStored ? 'PASS' : t.genLimited ? 'GENLIM' : 'fail'}`,
    );
    if (!c.restartPerTrial) await this.settle(c);
    return t;
  }

  /** Waits until the node has stored everything it will store (stored count and socket queue stable). */
  private async settle(c: Collector): Promise<void> {
    let last = -1;
    let stableSince = 0;
    const until = performance.now() + 120_000;
    while (performance.now() < until) {
      const k = await c.counts();
      const now = performance.now();
      const done = k.stored + (k.spooled ?? 0);
      if (done === last && udpRxQueue(c.port) === 0) {
        if (!stableSince) stableSince = now;
        if (now - stableSince > 1500) return;
      } else stableSince = 0;
      last = done;
      await sleep(100);
    }
    throw new Error('the collector did not settle within 120 s');
  }

  private nextRate(trials: Trial[], key: 'passStored' | 'passSpool', start: number): { rate?: number; lo?: number; hi?: number; bound: string } {
    const res = this.a.resolution;
    const rnd = (x: number): number => Math.max(5000, Math.round(x / 5000) * 5000);
    const paced = trials.filter((t) => t.target > 0 && t[key] !== undefined);
    const gl = paced.find((t) => t.genLimited && t.lossPct < this.a.maxLoss);
    let lo = Math.max(0, ...paced.filter((t) => t[key]).map((t) => t.target));
    if (gl) return { lo: Math.max(lo, gl.offered), bound: 'generator-limited (>=)' };
    const his = paced.filter((t) => !t[key] && t.target > lo).map((t) => t.target);
    const hi = his.length ? Math.min(...his) : undefined;
    if (!lo && !hi) return { rate: rnd(start), bound: '' };
    if (lo && hi) {
      const mid = rnd((lo + hi) / 2);
      if ((hi - lo) / lo <= res || mid === lo || mid === hi) return { lo, hi, bound: '' };
      return { rate: mid, lo, hi, bound: '' };
    }
    if (lo) return { rate: rnd(lo * 1.2), lo, bound: 'upper end not found' };
    lo = 0;
    const r = rnd((hi as number) * 0.85);
    return r <= 5000 ? { lo: 0, hi, bound: 'nothing passed' } : { rate: r, hi, bound: 'nothing passed' };
  }

  async determine(c: Collector, engine: Engine, proto: Proto, run: number, prev?: number): Promise<Determination> {
    const d: Determination = { engine, proto, run, zeroLossRate: 0, zeroLossBound: '', spoolCounter: engine === 'nfcapd' ? 'n/a' : 'decoded', probeRate: 0, trials: [], cmd: '' };
    try {
      if (!c.restartPerTrial) await c.start();
      d.cmd = c.cmd;
      const probe = await this.trial(c, proto, 0, this.a.probeRecords);
      d.cmd = c.cmd;
      // the overload rate: what was stored (or, when storing lags, spooled) per second of the probe
      d.probeRate = Math.max(probe.storedRate ?? probe.stored / (probe.sendS + this.a.deadlineSlack), probe.spoolRate ?? 0);
      const start = prev ?? 0.8 * Math.max(d.probeRate, 20_000);
      const minRecs = (r: number) => Math.max(this.a.records, Math.round(r * this.a.minDuration));
      // 'spool' stores nothing by design: only its receive + decode + spool rate is searched.
      for (let step = 0; step < (engine === 'spool' ? 0 : this.a.maxSteps); step++) {
        const n = this.nextRate(d.trials, 'passStored', start);
        if (!n.rate) break;
        d.trials.push(await this.trial(c, proto, n.rate, minRecs(n.rate)));
      }
      const zeroLoss = (): void => {
        const s = this.nextRate(d.trials, 'passStored', start);
        d.zeroLossRate = achieved(d.trials, 'passStored', s.lo ?? 0);
        d.zeroLossBound = s.rate ? (s.lo ? (s.hi ? `bracket not closed (${fmt(s.lo)}–${fmt(s.hi)})` : 'upper end not found (>=)') : 'not found') : s.bound;
      };
      zeroLoss();
      if (engine !== 'nfcapd') {
        if (probe.spooled !== undefined || d.trials.some((t) => t.spooled !== undefined)) {
          const k = await c.counts();
          d.spoolCounter = k.spooled !== undefined ? 'spool' : 'decoded';
          for (let step = 0; step < this.a.maxSteps + (engine === 'spool' ? 6 : 0); step++) {
            const n = this.nextRate(d.trials, 'passSpool', Math.max(d.zeroLossRate * 1.2, start));
            if (!n.rate) break;
            d.trials.push(await this.trial(c, proto, n.rate, minRecs(n.rate)));
          }
          const sp = this.nextRate(d.trials, 'passSpool', start);
          d.spoolRate = sp.lo === undefined ? undefined : achieved(d.trials, 'passSpool', sp.lo);
          d.spoolBound = sp.rate ? (sp.lo ? (sp.hi ? `bracket not closed (${fmt(sp.lo)}–${fmt(sp.hi)})` : 'upper end not found (>=)') : 'not found') : sp.bound;
          zeroLoss(); // the spool search's trials count for the stored verdict too
        }
      }
      d.cpuUsPerFlow = median(d.trials.filter((t) => (engine === 'spool' ? t.passSpool : t.passStored) && t.cpuUsPerFlow !== undefined).map((t) => t.cpuUsPerFlow as number));
    } catch (e) {
      d.error = (e as Error).message;
      log(`    ERROR ${engine} ${proto}: ${d.error}`);
    } finally {
      if (!c.restartPerTrial) await c.stop();
      d.bytesPerFlow = await c.bytesPerFlow().catch(() => undefined);
      await c.cleanup();
    }
    log(`  => ${engine} ${proto} run ${run}: zero-loss ${fmt(d.zeroLossRate)} flows/s ${d.zeroLossBound}` +
      (d.spoolRate !== undefined ? `; ${d.spoolCounter === 'spool' ? 'received+decoded+spooled' : 'received+decoded'} ${fmt(d.spoolRate)} ${d.spoolBound ?? ''}` : '') +
      `; CPU ${d.cpuUsPerFlow?.toFixed(2) ?? '—'} µs/flow; ${d.bytesPerFlow === undefined ? '—' : d.bytesPerFlow.toFixed(1)} B/flow`);
    return d;
  }
}

/**
 * On a shared machine other sessions compete for the 2 cores; like the peers' harness, give this run's
 * scheduler autogroup a lower nice value — only when it is its own session (started with `setsid`),
 * so the caller's session is not changed.
 */
function autogroup(nice: number): string {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const sid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3]);
    if (nice !== 99) {
      if (sid !== process.pid) return `not a session leader (start with setsid --wait): autogroup left at ${readFileSync('/proc/self/autogroup', 'utf8').trim()}`;
      writeFileSync('/proc/self/autogroup', String(nice));
    }
    return readFileSync('/proc/self/autogroup', 'utf8').trim();
  } catch (e) {
    return `autogroup unchanged (${(e as Error).message})`;
  }
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  const mainJs = a.nodeMain ?? join(__dirname, '..', '..', 'apps', 'collector-node', 'src', 'main.js');
  const t0 = Date.now();
  log(`ingest benchmark — ${new Date().toISOString()}; node ${process.version}; ${a.quick ? 'QUICK; ' : ''}runs ${a.runs}; records/trial >= ${fmt(a.records)} (>= ${a.minDuration} s); loss < ${a.maxLoss}%`);
  log(`stored deadline: ${a.deadlineFrac} × send time + ${a.deadlineSlack} s after the last datagram; spool deadline: 0.05 × send + ${a.spoolSlack} s (rows wait up to storage.batchMs = 1 s in a batch before the spool sees them)`);
  const pin = hasTaskset()
    ? `generator: taskset -c ${a.genCpus || '(none)'}; collector (node + its ClickHouse server, or nfcapd): taskset -c ${a.collectorCpus || '(none)'}`
    : 'taskset not found: nothing pinned';
  log(`pinning: ${pin}; ${cpus().length} CPUs; loadavg ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);

  log(`scheduler: ${autogroup(a.autogroupNice)}`);
  const rm = raiseRmemMax(a.rmemMax);
  if (typeof rm === 'string') log(`WARNING: ${rm}; socket buffers get at most that`);
  else log(`net.core.rmem_max: ${rm.before} -> ${rm.after}${rm.after !== rm.before ? ' (restored at exit)' : ''}; collector SO_RCVBUF request ${a.rcvbuf}`);
  const restore = (): void => {
    if (typeof rm !== 'string') rm.restore();
  };
  process.once('exit', restore);
  // Interrupted: what this run started goes too (the collector's own children die with their process group).
  const onInterrupt: (() => void)[] = [];
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => { restore(); for (const f of onInterrupt) f(); process.exit(130); });

  const engines: Engine[] = [];
  const skipped: Record<string, string> = {};
  for (const e of a.engines) {
    if (e === 'nfcapd' && !Nfcapd.available()) skipped[e] = 'nfcapd/nfdump not installed (apt-get install -y nfdump)';
    else if (e === 'clickhouse' && !nodeAccepts(mainJs, ['storage.engine=clickhouse', 'storage.clickhouse.url=http://127.0.0.1:8123'])) {
      skipped[e] = 'the node does not accept storage.engine=clickhouse yet (STORAGE work not landed)';
    } else engines.push(e);
  }
  for (const [e, why] of Object.entries(skipped)) log(`SKIP ${e}: ${why}`);
  if (engines.includes('nfcapd')) log(`nfcapd: ${Nfcapd.version()}`);
  const spoolSets = nodeAccepts(mainJs, ['spool.maxBytes=1073741824']) ? ['spool.maxBytes=1073741824'] : [];
  log(`node: ${spoolSets.length ? 'has a spool (spool.maxBytes=1 GiB for the run)' : 'no spool config yet (simple in-process pipeline): "decode+spool" = decoded'}`);

  const redis = await startRedis();
  onInterrupt.push(() => redis.proc.child.kill('SIGTERM'));
  const bench = new Bench(a);
  const results: Determination[] = [];
  try {
    for (let run = 1; run <= a.runs; run++) {
      for (const proto of a.protos) {
        for (const engine of engines) {
          log(`[${Math.round((Date.now() - t0) / 1000)}s] ${engine} ${proto} run ${run}/${a.runs}`);
          const port = await freePort();
          const c: Collector =
            engine === 'nfcapd'
              ? new Nfcapd(port, a.collectorCpus, a.rcvbuf)
              : new FlowmeshNode({ engine, port, cpus: a.collectorCpus, redisUrl: redis.url, mainJs, receiveBufferBytes: a.rcvbuf, sets: engine === 'spool' ? [] : spoolSets, log });
          const prev = median(results.filter((r) => r.engine === engine && r.proto === proto && r.zeroLossRate > 0 && !r.zeroLossBound).map((r) => r.zeroLossRate));
          const d = await bench.determine(c, engine, proto, run, prev);
          if (run === 1 || d.error) log(`    cmd: ${d.cmd}`);
          results.push(d);
        }
      }
    }
  } finally {
    await stopProcess(redis.proc.child, 'SIGTERM', 10_000);
    restore();
  }

  // ---- summary
  interface Row { engine: string; proto: Proto; zeroLoss?: number; range: string; spool?: number; cpu?: number; bytes?: number; nfcapd?: number; ratio?: number; notes: string }
  const rows: Row[] = [];
  const med = (e: Engine, p: Proto, f: (d: Determination) => number | undefined): number | undefined =>
    median(results.filter((r) => r.engine === e && r.proto === p && !r.error).map(f).filter((x): x is number => x !== undefined));
  for (const proto of a.protos) {
    const nf = engines.includes('nfcapd') ? med('nfcapd', proto, (d) => d.zeroLossRate) : undefined;
    for (const engine of engines) {
      const ds = results.filter((r) => r.engine === engine && r.proto === proto);
      const z = med(engine, proto, (d) => d.zeroLossRate);
      const zs = ds.filter((d) => !d.error).map((d) => d.zeroLossRate);
      const notes = [...new Set(ds.flatMap((d) => [d.zeroLossBound, d.error ? `error: ${d.error.slice(0, 120)}` : '', d.spoolCounter === 'decoded' ? 'decode+spool = decoded (no spool counter)' : ''].filter(Boolean)))].join('; ');
      rows.push({
        engine, proto, zeroLoss: engine === 'spool' ? undefined : z, range: zs.length ? `${fmt(Math.min(...zs))}–${fmt(Math.max(...zs))}` : '—',
        spool: engine === 'nfcapd' ? undefined : med(engine, proto, (d) => d.spoolRate),
        cpu: med(engine, proto, (d) => d.cpuUsPerFlow), bytes: med(engine, proto, (d) => d.bytesPerFlow),
        // 'spool' stores nothing: its figure (and ratio) is the receive + decode + spool rate.
        nfcapd: nf, ratio: nf ? (engine === 'spool' ? (med(engine, proto, (d) => d.spoolRate) ?? 0) / nf : z !== undefined ? z / nf : undefined) : undefined, notes,
      });
    }
  }
  log('');
  log(`| engine | proto | zero-loss rate (flows/s, median of ${a.runs}) | range | decode+spool rate | CPU-µs/flow | bytes/flow | nfcapd rate | ratio |`);
  log('|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    log(`| ${r.engine} | ${r.proto} | ${fmt(r.zeroLoss)} | ${r.range} | ${fmt(r.spool)} | ${r.cpu?.toFixed(2) ?? '—'} | ${r.bytes?.toFixed(1) ?? '—'} | ${fmt(r.nfcapd)} | ${r.ratio === undefined ? '—' : r.ratio.toFixed(2)} |${r.notes ? ` ${r.notes}` : ''}`);
  }
  for (const [e, why] of Object.entries(skipped)) log(`(${e} skipped: ${why})`);
  log(`elapsed ${Math.round((Date.now() - t0) / 1000)} s; rmem_max now ${rmemMax()}`);
  if (a.json) {
    writeFileSync(a.json, JSON.stringify({ args: a, pinning: pin, skipped, rows, results, repoRoot }, null, 1));
    log(`JSON: ${a.json}`);
  }
}

main().catch((e: Error) => {
  process.stderr.write(`ingest bench failed: ${e.stack ?? e.message}\n`);
  process.exit(1);
});
