/**
 * Fuzz worker: mutates seeds and feeds them to the public decode API until its time is up. Before each
 * input it copies the input and a start timestamp into shared memory, so the parent's watchdog can
 * kill a hung worker and still save what hung it. Exceptions escaping the API are reported as crashes.
 */
import { getHeapStatistics } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import {
  decodeSflow,
  FlowBatch,
  FlowDecoder,
  newPcapReadStats,
  readCaptureUdp,
  type FlowProtocol,
} from '@flowmesh/flow-decoder';
import { FUZZ_TARGETS, Mutator, Rng, type FuzzTarget, type SeedCorpus } from './fuzz-corpus';

export interface FuzzWorkerData {
  mode: 'fuzz' | 'verify';
  corpus: SeedCorpus;
  seconds: number;
  seed: number;
  shared: SharedArrayBuffer;
  /** Planted bug to prove the harness catches it: 'crash' throws, 'hang' spins, on some sFlow inputs. */
  selfTest?: 'crash' | 'hang';
  /** verify mode: the input and target to time. */
  input?: Uint8Array;
  target?: FuzzTarget;
}

export type FuzzWorkerMessage =
  | { type: 'progress'; counts: Record<FuzzTarget, number>; heapUsedMb: number }
  | { type: 'crash'; target: FuzzTarget; input: Uint8Array; error: string }
  | { type: 'slow'; target: FuzzTarget; input: Uint8Array; ms: number }
  | { type: 'done'; counts: Record<FuzzTarget, number>; heapUsedMb: number }
  | { type: 'ready' }
  | { type: 'verified'; runsMs: number[] };

/** Shared layout: f64[0] start time of the current input (0 = idle), f64[1] target index, i32[4] length, bytes from 32. */
export const SHARED_INPUT_OFFSET = 32;
export const MAX_INPUT = 1 << 18;
export const SLOW_MS = 100;
/**
 * The watchdog kills a worker whose current input has run this long (wall clock). Inputs between
 * SLOW_MS and this are reported by the worker itself when they finish; either way a suspect is a
 * hang only if it still takes > SLOW_MS in each of 3 re-runs in a fresh worker. Killing at SLOW_MS
 * instead would restart (and re-prime) workers for every scheduling stall on a busy machine.
 */
export const KILL_MS = 1000;

const EXPORTER = '192.0.2.1';
const EXPORTER16 = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1]);

class Harness {
  dec = new FlowDecoder();
  readonly out = new FlowBatch(256);
  private flushed = 0;
  readonly onFull = (b: FlowBatch): void => {
    this.flushed += b.length;
    b.clear();
  };
  constructor(
    private readonly corpus: SeedCorpus,
    private readonly selfTest?: 'crash' | 'hang',
  ) {}

  private priming = false;
  private seenInternal = 0;

  reset(): void {
    this.dec = new FlowDecoder();
    this.seenInternal = 0;
    this.dec.onSflowCounters = () => undefined;
    this.priming = true;
    for (const t of FUZZ_TARGETS) if (t !== 'pcap') for (const p of this.corpus[t]) this.run(t, p, false);
    this.priming = false;
  }

  /** Runs one input through the API for `target`; throws on an escaped exception or a broken invariant. */
  run(target: FuzzTarget, input: Uint8Array, forced: boolean): void {
    if (this.selfTest !== undefined && !this.priming && target === 'sflow_v5' && input.length % 61 === 7) {
      if (this.selfTest === 'crash') throw new RangeError('planted self-test crash');
      for (;;) {
        // planted self-test hang
      }
    }
    if (target === 'pcap') {
      const stats = newPcapReadStats();
      for (const d of readCaptureUdp(input, stats)) {
        if (d.payload.byteOffset < input.byteOffset || d.payload.byteOffset + d.payload.length > input.byteOffset + input.length) {
          throw new Error('invariant: datagram payload outside the capture buffer');
        }
      }
      return;
    }
    const out = this.out;
    out.clear();
    this.flushed = 0;
    const r = this.dec.decode(input, EXPORTER, 1_700_000_000_000, out, this.onFull, forced ? (target as FlowProtocol) : undefined);
    if (!(Number.isInteger(r.records) && r.records >= 0 && Number.isInteger(r.errors) && r.errors >= 0)) {
      throw new Error(`invariant: bad DecodeResult ${JSON.stringify(r)}`);
    }
    if (out.length > out.capacity) throw new Error('invariant: batch length above capacity');
    if (r.records > out.length + this.flushed) throw new Error(`invariant: ${r.records} records reported, ${out.length + this.flushed} rows written`);
    // The facade turns a decoder exception into the 'internal_error' reason so the node survives it;
    // for the fuzzer that is still a crash.
    if (r.errors > 0) {
      const internal = this.dec.internalErrors;
      if (internal > this.seenInternal) {
        this.seenInternal = internal;
        throw new Error('internal_error: a decoder threw and the facade caught it');
      }
    }
    if (target === 'sflow_v5') {
      out.clear();
      const s = decodeSflow(input, EXPORTER16, 0, out, this.onFull, { interfaceCounters: () => undefined });
      if (s.records < 0 || s.errors < 0 || (s.errors > 0) !== (s.error !== undefined)) throw new Error(`invariant: bad SflowResult ${JSON.stringify(s)}`);
    }
  }
}

/** This worker's V8 heap in use, MiB. */
function heapUsedMb(): number {
  return getHeapStatistics().used_heap_size / 1048576;
}

function main(): void {
  const data = workerData as FuzzWorkerData;
  const port = parentPort;
  if (port === null) return;
  const f64 = new Float64Array(data.shared, 0, 2);
  const i32 = new Int32Array(data.shared, 16, 1);
  const shared = new Uint8Array(data.shared, SHARED_INPUT_OFFSET);
  const h = new Harness(data.corpus, data.selfTest);
  h.reset();

  if (data.mode === 'verify' && data.input !== undefined && data.target !== undefined) {
    port.postMessage({ type: 'ready' } satisfies FuzzWorkerMessage);
    const runsMs: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      try {
        h.run(data.target, data.input, false);
      } catch {
        // a crash is not what is being verified here
      }
      runsMs.push(performance.now() - t0);
    }
    port.postMessage({ type: 'verified', runsMs } satisfies FuzzWorkerMessage);
    return;
  }

  const rng = new Rng(data.seed);
  const mutator = new Mutator(MAX_INPUT);
  const counts = Object.fromEntries(FUZZ_TARGETS.map((t) => [t, 0])) as Record<FuzzTarget, number>;
  const targets = FUZZ_TARGETS.filter((t) => data.corpus[t].length > 0);
  const deadline = Date.now() + data.seconds * 1000;
  let lastProgress = Date.now();
  let sinceReset = 0;
  for (let i = 0; ; i++) {
    if ((i & 63) === 0) {
      const now = Date.now();
      if (now >= deadline) break;
      if (now - lastProgress > 500) {
        port.postMessage({ type: 'progress', counts, heapUsedMb: heapUsedMb() } satisfies FuzzWorkerMessage);
        lastProgress = now;
      }
    }
    const ti = i % targets.length;
    const target = targets[ti];
    const pool = data.corpus[target];
    const input = mutator.mutate(rng, rng.pick(pool), pool);
    shared.set(input);
    i32[0] = input.length;
    f64[1] = FUZZ_TARGETS.indexOf(target);
    const t0 = performance.now();
    f64[0] = Date.now();
    try {
      h.run(target, input, (i & 1) === 1);
    } catch (e) {
      port.postMessage({ type: 'crash', target, input: input.slice(), error: e instanceof Error ? (e.stack ?? e.message) : String(e) } satisfies FuzzWorkerMessage);
    }
    let ms = performance.now() - t0;
    // a slow input is timed twice more here (the watchdog still guards these runs) before the parent
    // spends a fresh verifier worker on it: a scheduling stall on a busy machine is not repeated
    for (let k = 0; k < 2 && ms > SLOW_MS; k++) {
      f64[0] = Date.now();
      const t1 = performance.now();
      try {
        h.run(target, input, (i & 1) === 1);
      } catch {
        // reported above
      }
      ms = Math.min(ms, performance.now() - t1);
    }
    f64[0] = 0;
    if (ms > SLOW_MS) port.postMessage({ type: 'slow', target, input: input.slice(), ms } satisfies FuzzWorkerMessage);
    counts[target]++;
    // fresh decoder state now and then: bounded memory, and templates re-learnt from valid seeds
    if (++sinceReset >= 20000) {
      sinceReset = 0;
      h.reset();
    }
  }
  port.postMessage({ type: 'done', counts, heapUsedMb: heapUsedMb() } satisfies FuzzWorkerMessage);
}

main();
