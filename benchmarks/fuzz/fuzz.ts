/**
 * Mutation fuzzer for the decoder's public API (FlowDecoder.decode for v5/v9/IPFIX/sFlow,
 * decodeSflow, readCaptureUdp), in worker threads with a heap cap and a hang watchdog.
 *
 *   node dist/benchmarks/fuzz/fuzz.js --seconds 60 [--workers 2] [--seed 1] [--out tmp/fuzz-crashes]
 *   (--self-test crash|hang plants a bug in the workers to prove the harness finds it)
 *
 * A crash is an exception escaping the API (or a broken result invariant); a hang is an input that
 * takes more than 100 ms (reported when it ends, or the worker is killed after 1 s without progress;
 * confirmed by re-running it in a fresh worker, best of 3, so a GC pause is not called a hang). Both are saved under --out with the error. Exit code 1 if any.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { buildSeedCorpus, FUZZ_TARGETS, repoRoot, type FuzzTarget, type SeedCorpus } from './fuzz-corpus';
import { KILL_MS, MAX_INPUT, SHARED_INPUT_OFFSET, SLOW_MS, type FuzzWorkerData, type FuzzWorkerMessage } from './fuzz.worker';

export interface FuzzOptions {
  seconds: number;
  workers: number;
  seed: number;
  /** Where crashing and hanging inputs are written. */
  outDir: string;
  heapMb?: number;
  /** Plants a bug in the workers (harness self-test). */
  selfTest?: 'crash' | 'hang';
  log?: (line: string) => void;
}

export interface FuzzFinding {
  kind: 'crash' | 'hang' | 'oom';
  target: FuzzTarget;
  error: string;
  file: string;
}

export interface FuzzReport {
  seconds: number;
  workers: number;
  inputs: Record<FuzzTarget, number>;
  total: number;
  crashes: FuzzFinding[];
  hangs: FuzzFinding[];
  /** Inputs over 100 ms once that ran fast when re-run (GC pauses, a busy machine). */
  slowUnconfirmed: number;
  workerRestarts: number;
  /** Largest V8 heap in use seen in one worker (sampled every 0.5 s), MiB; the cap is --heap-mb. */
  peakWorkerHeapMb: number;
  heapCapMb: number;
  /** Inputs per second of the least-fed target over the run (all workers). */
  inputsPerSecond: number;
}

const WORKER_FILE = path.join(__dirname, 'fuzz.worker.js');

function save(outDir: string, kind: string, target: FuzzTarget, input: Uint8Array, error: string): string {
  mkdirSync(outDir, { recursive: true });
  const id = createHash('sha1').update(input).digest('hex').slice(0, 16);
  const file = path.join(outDir, `${target}-${kind}-${id}.bin`);
  writeFileSync(file, input);
  writeFileSync(`${file}.txt`, `${kind} in ${target}\n${error}\n`);
  return file;
}

/** Re-runs a suspect input in a fresh worker: a hang if every run takes > 100 ms or it never ends. */
function verifyHang(
  corpus: SeedCorpus,
  target: FuzzTarget,
  input: Uint8Array,
  heapMb: number,
  selfTest: FuzzOptions['selfTest'],
): Promise<{ hang: boolean; detail: string }> {
  return new Promise((resolve) => {
    const shared = new SharedArrayBuffer(SHARED_INPUT_OFFSET + MAX_INPUT);
    const w = new Worker(WORKER_FILE, {
      workerData: { mode: 'verify', corpus, seconds: 0, seed: 0, shared, input, target, selfTest } satisfies FuzzWorkerData,
      resourceLimits: { maxOldGenerationSizeMb: heapMb, maxYoungGenerationSizeMb: 32 },
    });
    let settled = false;
    const done = (hang: boolean, detail: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void w.terminate();
      resolve({ hang, detail });
    };
    // priming with the seeds takes a while on a busy machine: not finishing it is inconclusive (not a
    // hang); once primed, the input itself gets 3 x 100 ms and plenty of slack
    let timer = setTimeout(() => done(false, 'verifier did not finish priming within 60 s'), 60_000);
    w.on('message', (m: FuzzWorkerMessage) => {
      if (m.type === 'ready') {
        clearTimeout(timer);
        timer = setTimeout(() => done(true, 'did not finish within 5 s when re-run'), 5000);
      }
      if (m.type === 'verified') done(Math.min(...m.runsMs) > SLOW_MS, `re-run times ${m.runsMs.map((x) => x.toFixed(1)).join(', ')} ms`);
    });
    w.on('error', (e) => done(false, `verifier error: ${e.message}`));
    w.on('exit', () => done(false, 'verifier exited'));
  });
}

export async function runFuzz(opts: FuzzOptions): Promise<FuzzReport> {
  const log = opts.log ?? (() => undefined);
  const heapMb = opts.heapMb ?? 256;
  const corpus = buildSeedCorpus(repoRoot());
  const report: FuzzReport = {
    seconds: opts.seconds,
    workers: opts.workers,
    inputs: Object.fromEntries(FUZZ_TARGETS.map((t) => [t, 0])) as Record<FuzzTarget, number>,
    total: 0,
    crashes: [],
    hangs: [],
    slowUnconfirmed: 0,
    workerRestarts: 0,
    peakWorkerHeapMb: 0,
    heapCapMb: heapMb,
    inputsPerSecond: 0,
  };
  const startedMs = Date.now();
  const seenCrash = new Set<string>();
  const deadline = Date.now() + opts.seconds * 1000;
  const pending: Promise<void>[] = [];

  const suspect = (target: FuzzTarget, input: Uint8Array, why: string): void => {
    pending.push(
      verifyHang(corpus, target, input, heapMb, opts.selfTest).then(({ hang, detail }) => {
        if (!hang) {
          report.slowUnconfirmed++;
          return;
        }
        const error = `${why}; ${detail}`;
        report.hangs.push({ kind: 'hang', target, error, file: save(opts.outDir, 'hang', target, input, error) });
        log(`HANG in ${target}: ${error}`);
      }),
    );
  };

  const runWorker = (index: number, seed: number): Promise<void> =>
    new Promise((resolve) => {
      const seconds = (deadline - Date.now()) / 1000;
      if (seconds <= 0.05) {
        resolve();
        return;
      }
      const shared = new SharedArrayBuffer(SHARED_INPUT_OFFSET + MAX_INPUT);
      const f64 = new Float64Array(shared, 0, 2);
      const i32 = new Int32Array(shared, 16, 1);
      const bytes = new Uint8Array(shared, SHARED_INPUT_OFFSET);
      const w = new Worker(WORKER_FILE, {
        workerData: { mode: 'fuzz', corpus, seconds, seed, shared, selfTest: opts.selfTest } satisfies FuzzWorkerData,
        resourceLimits: { maxOldGenerationSizeMb: heapMb, maxYoungGenerationSizeMb: 32 },
      });
      const counted = Object.fromEntries(FUZZ_TARGETS.map((t) => [t, 0])) as Record<FuzzTarget, number>;
      const addCounts = (c: Record<FuzzTarget, number>): void => {
        for (const t of FUZZ_TARGETS) {
          report.inputs[t] += c[t] - counted[t];
          report.total += c[t] - counted[t];
          counted[t] = c[t];
        }
      };
      const current = (): { target: FuzzTarget; input: Uint8Array } => ({
        target: FUZZ_TARGETS[f64[1]] ?? 'pcap',
        input: bytes.slice(0, Math.max(0, Math.min(i32[0], MAX_INPUT))),
      });
      let finished = false;
      const finish = (restart: boolean): void => {
        if (finished) return;
        finished = true;
        clearInterval(watchdog);
        if (restart && Date.now() < deadline - 50) {
          report.workerRestarts++;
          void runWorker(index, seed + 7919).then(resolve);
        } else resolve();
      };
      const watchdog = setInterval(() => {
        if (Date.now() > deadline + 30_000) {
          // stuck outside an input (seed priming): nothing to save, but never wait forever
          void w.terminate();
          report.crashes.push({ kind: 'hang', target: 'pcap', error: 'worker stuck outside an input for 30 s past the deadline', file: '' });
          finish(false);
          return;
        }
        const started = f64[0];
        if (started > 0 && Date.now() - started > KILL_MS) {
          const { target, input } = current();
          void w.terminate();
          suspect(target, input, `no progress for ${Date.now() - started} ms`);
          finish(true);
        }
      }, 10);
      w.on('message', (m: FuzzWorkerMessage) => {
        if (m.type === 'progress' || m.type === 'done') {
          addCounts(m.counts);
          report.peakWorkerHeapMb = Math.max(report.peakWorkerHeapMb, Math.round(m.heapUsedMb * 10) / 10);
        }
        if (m.type === 'done') finish(false);
        if (m.type === 'slow') suspect(m.target, m.input, `took ${m.ms.toFixed(1)} ms`);
        if (m.type === 'crash') {
          const sig = `${m.target}|${m.error.split('\n').slice(0, 2).join('|')}`;
          if (seenCrash.has(sig)) return;
          seenCrash.add(sig);
          report.crashes.push({ kind: 'crash', target: m.target, error: m.error, file: save(opts.outDir, 'crash', m.target, m.input, m.error) });
          log(`CRASH in ${m.target}: ${m.error.split('\n')[0]}`);
        }
      });
      w.on('error', (e: Error & { code?: string }) => {
        if (finished) return;
        const { target, input } = current();
        const kind = e.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'oom' : 'crash';
        const finding: FuzzFinding = { kind, target, error: e.stack ?? e.message, file: save(opts.outDir, kind, target, input, e.stack ?? e.message) };
        report.crashes.push(finding);
        log(`${kind.toUpperCase()} in ${target}: ${e.message}`);
        finish(true);
      });
      w.on('exit', () => finish(false));
    });

  await Promise.all(Array.from({ length: opts.workers }, (_, i) => runWorker(i, opts.seed * 1000 + i + 1)));
  await Promise.all(pending);
  report.inputsPerSecond = Math.round(Math.min(...FUZZ_TARGETS.map((t) => report.inputs[t])) / ((Date.now() - startedMs) / 1000));
  return report;
}

function parseArgs(argv: string[]): FuzzOptions {
  const opts: FuzzOptions = {
    seconds: 60,
    workers: Math.max(1, Math.min(4, availableParallelism())),
    seed: Date.now() % 1_000_000,
    outDir: path.join(repoRoot(), 'tmp/fuzz-crashes'),
    log: (l) => process.stderr.write(`${l}\n`),
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    const num = (): number => {
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0) throw new Error(`${a} needs a number`);
      i++;
      return n;
    };
    if (a === '--seconds') opts.seconds = num();
    else if (a === '--workers') opts.workers = Math.max(1, Math.floor(num()));
    else if (a === '--seed') opts.seed = Math.floor(num());
    else if (a === '--heap-mb') opts.heapMb = Math.floor(num());
    else if (a === '--self-test' && (v === 'crash' || v === 'hang')) {
      opts.selfTest = v;
      i++;
    }
    else if (a === '--out') {
      opts.outDir = path.resolve(v);
      i++;
    } else throw new Error(`unknown option ${a} (use --seconds N --workers N --seed N --heap-mb N --out DIR --self-test crash|hang)`);
  }
  return opts;
}

if (require.main === module) {
  let opts: FuzzOptions;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`fuzz: ${(e as Error).message}\n`);
    process.exit(2);
  }
  process.stderr.write(`fuzz: ${opts.seconds}s, ${opts.workers} worker(s), seed ${opts.seed}, findings -> ${opts.outDir}\n`);
  runFuzz(opts).then(
    (r) => {
      process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
      process.exit(r.crashes.length + r.hangs.length > 0 ? 1 : 0);
    },
    (e: Error) => {
      process.stderr.write(`fuzz: ${e.stack ?? e.message}\n`);
      process.exit(2);
    },
  );
}
