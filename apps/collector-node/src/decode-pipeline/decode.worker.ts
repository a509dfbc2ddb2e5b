/*
 * A decode worker thread: packs of datagrams in, encoded batches (Native blocks or RowBinary) out. It owns one FlowDecoder (the
 * templates and sequence state of the exporters pinned to it) and one FlowBatch. Packs are read in place from
 * the shared pack arena or straight from its own sockets; batches are encoded, with room for their spool entry header in front, into shared slabs
 * (slab-arena.ts): no ArrayBuffer crosses threads per pack or per batch.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { FlowBatch, FlowDecoder, TemplateState } from '@flowmesh/flow-decoder';
import { loadUdpMmsg, MmsgBatch, MmsgReceiver, sharedCopier } from '@flowmesh/udp-mmsg';
import { ExporterPolicy, ExporterRule, ExporterSettings } from '../exporters/exporter-policy';
import { SPOOL_HEADER_BYTES } from '../spool/spool-entry';
import { BatchFormat, encodeBatch } from '../storage/batch-encoding';
import { forEachDatagram } from './datagram-pack';
import { applyRowPolicy, ClockPolicy, RowPolicyCounts } from './row-policy';
import { SlabArena } from './slab-arena';
import type { FromWorker, ReceivedDelta, StatsDelta, ToWorker } from './worker-protocol';

export interface DecodeWorkerData {
  slot: number;
  /** High 32 bits of this worker's batch ids (unique per spawn, see BatchIdSource). */
  incarnation: number;
  batchRows: number;
  batchMs: number;
  format: BatchFormat;
  statsMs: number;
  clock: ClockPolicy;
  exporters: ExporterRule[];
  /** Senders not on the list are allowed (the decision is the worker's for the sockets it reads itself). */
  allowUnknownExporters: boolean;
  templates?: TemplateState;
  /** The pipeline's packs for this worker: packCount regions of packBytes. */
  packArena: SharedArrayBuffer;
  packBytes: number;
  /** Size of the slabs batches are encoded into. */
  slabBytes: number;
}

const data = workerData as DecodeWorkerData;
const port = parentPort!;
const decoder = new FlowDecoder();
if (data.templates) decoder.importTemplates(data.templates);
let policy = new ExporterPolicy(data.exporters, data.allowUnknownExporters);
let batch = new FlowBatch(data.batchRows);
const idHigh = data.incarnation.toString(16).padStart(8, '0');
let seq = 0;
let batchSince = 0;
let checked = 0;
let currentExporter = '';
let currentSettings: ExporterSettings | undefined;
let currentReceived = 0;
let templatesDirty = false;
const counts: RowPolicyCounts = { future: 0, past: 0 };
const packs = new Uint8Array(data.packArena);
const slabs = new SlabArena(data.slabBytes, (slab, sab) => post({ t: 'slab', slab, sab }));
/** Columns are copied into the slab with memcpy: TypedArray.set into shared memory copies unaligned bytes with relaxed atomics, several times slower. */
const copy = sharedCopier();
let lastAlloc = { slab: 0, offset: 0 };
/** The encoder's output: a slab region, with room for the spool entry header (written by the main thread) in front. */
const allocBatch = (n: number): Buffer => {
  const a = slabs.alloc(SPOOL_HEADER_BYTES + n);
  lastAlloc = a;
  return a.bytes.subarray(SPOOL_HEADER_BYTES);
};
let delta: StatsDelta = emptyDelta();

function emptyDelta(): StatsDelta {
  return { packets: 0, flows: {}, errors: {}, clockFuture: 0, clockPast: 0, rowsOut: 0 };
}

decoder.onTemplate = () => {
  templatesDirty = true;
};

function post(msg: FromWorker): void {
  port.postMessage(msg);
}

/** Applies the row policies to the rows not yet checked (all from the current exporter). */
function checkRows(): void {
  if (checked < batch.length) applyRowPolicy(batch, checked, currentSettings, data.clock, counts);
  checked = batch.length;
}

function flush(): void {
  checkRows();
  if (batch.length > 0) {
    const id = idHigh + (seq++ >>> 0).toString(16).padStart(8, '0');
    const encoded = encodeBatch(batch, id, data.format, allocBatch, copy).data;
    const { slab, offset } = lastAlloc;
    delta.rowsOut += batch.length;
    post({ t: 'batch', id, rows: batch.length, format: data.format, slab, offset, length: encoded.length, receivedMs: batchSince });
  }
  batch.clear();
  checked = 0;
  batchSince = currentReceived;
}

const onFull = () => flush();

function handle(payload: Uint8Array, exporter: string, receivedMs: number): void {
  if (exporter !== currentExporter) {
    checkRows();
    currentExporter = exporter;
    currentSettings = policy.settings(exporter);
  }
  currentReceived = receivedMs;
  if (batch.length === 0) batchSince = receivedMs;
  delta.packets++;
  let r: { protocol: string; records: number; errors: number; error?: string };
  try {
    r = decoder.decode(payload, exporter, receivedMs, batch, onFull);
  } catch {
    // The decoder promises not to throw; if it does, the datagram is lost, the worker is not.
    r = { protocol: 'unknown', records: 0, errors: 1, error: 'internal_error' };
  }
  if (r.records > 0) delta.flows[r.protocol] = (delta.flows[r.protocol] ?? 0) + r.records;
  if (r.errors > 0) {
    const reason = r.error ?? 'unknown';
    delta.errors[reason] = (delta.errors[reason] ?? 0) + r.errors;
  }
  checkRows();
  if (batch.length >= data.batchRows) flush();
}

// ---- sockets this worker reads itself (recvmmsg): datagrams go straight from the socket to the decoder ----

const receivers = new Map<number, MmsgReceiver>();
/** Allow-list verdicts by sender address (bounded: a spoofed flood must not grow it without limit). */
const allowed = new Map<string, boolean>();
let received: ReceivedDelta = emptyReceived();

function emptyReceived(): ReceivedDelta {
  return { listeners: {}, exporters: {}, notAllowed: 0, notAllowedSample: [] };
}

function onSocketBatch(listener: string, b: MmsgBatch): void {
  const now = Date.now();
  let bytes = 0;
  let last = '';
  let lastCount: [number, number] | undefined;
  for (let i = 0; i < b.count; i++) {
    const exporter = b.address(i);
    const payload = b.payload(i);
    bytes += payload.length;
    if (exporter !== last) {
      let ok = allowed.get(exporter);
      if (ok === undefined) {
        ok = policy.decide(exporter).allowed;
        if (allowed.size >= 65_536) allowed.clear();
        allowed.set(exporter, ok);
      }
      if (!ok) {
        received.notAllowed++;
        if (received.notAllowedSample.length < 8 && !received.notAllowedSample.includes(exporter)) received.notAllowedSample.push(exporter);
        last = '';
        continue;
      }
      last = exporter;
      lastCount = received.exporters[exporter] ??= [0, 0];
    }
    lastCount![0]++;
    lastCount![1] += payload.length;
    handle(payload, exporter, now);
  }
  const l = (received.listeners[listener] ??= [0, 0]);
  l[0] += b.count;
  l[1] += bytes;
}

function listen(listener: string, fd: number, coalesceMs: number): void {
  const native = loadUdpMmsg();
  if (native instanceof Error) return post({ t: 'socket-error', listener, error: native.message });
  const r = new MmsgReceiver(
    native,
    fd,
    (b) => onSocketBatch(listener, b),
    (e) => {
      receivers.delete(fd);
      post({ t: 'socket-error', listener, error: e.message });
    },
    { coalesceMs, ownsFd: false },
  );
  receivers.set(fd, r);
}

function sendStats(): void {
  if (receivers.size || Object.keys(received.listeners).length || received.notAllowed) {
    delta.received = received;
    received = emptyReceived();
  }
  delta.clockFuture = counts.future;
  delta.clockPast = counts.past;
  counts.future = 0;
  counts.past = 0;
  post({ t: 'stats', delta, exporters: decoder.exporterStats() });
  delta = emptyDelta();
  if (templatesDirty) {
    templatesDirty = false;
    post({ t: 'templates', state: decoder.exportTemplates() });
  }
}

port.on('message', (m: ToWorker) => {
  switch (m.t) {
    case 'pack': {
      const at = m.index * data.packBytes;
      forEachDatagram(packs.subarray(at, at + data.packBytes), m.used, handle);
      post({ t: 'done', index: m.index, bytes: m.used, packets: m.count });
      break;
    }
    case 'pack-big':
      forEachDatagram(new Uint8Array(m.buf), m.used, handle);
      post({ t: 'done', index: -1, bytes: m.used, packets: m.count });
      break;
    case 'release':
      slabs.release(m.slab);
      break;
    case 'flush':
      flush();
      sendStats();
      post({ t: 'flushed' });
      break;
    case 'exporters':
      checkRows();
      policy = new ExporterPolicy(m.rules, m.allowUnknown);
      allowed.clear();
      currentExporter = '';
      break;
    case 'listen':
      listen(m.listener, m.fd, m.coalesceMs);
      break;
    case 'unlisten':
      receivers.get(m.fd)?.stop();
      receivers.delete(m.fd);
      post({ t: 'unlistened', fd: m.fd });
      break;
    case 'batching':
      flush();
      data.batchRows = m.batchRows;
      data.batchMs = m.batchMs;
      if (m.batchRows !== batch.capacity) batch = new FlowBatch(m.batchRows);
      restartBatchTimer();
      break;
    case 'import-templates':
      decoder.importTemplates(m.state);
      break;
    case 'crash':
      // Fault injection (tests, fault drills): an uncaught exception, as a decoder defect would cause.
      setImmediate(() => {
        throw new Error('injected worker crash');
      });
      break;
  }
});

let batchTimer: NodeJS.Timeout | undefined;
function restartBatchTimer(): void {
  if (batchTimer) clearInterval(batchTimer);
  batchTimer = setInterval(() => {
    if (batch.length > 0 && Date.now() - batchSince >= data.batchMs) flush();
  }, Math.max(5, Math.floor(data.batchMs / 4)));
}
restartBatchTimer();
setInterval(sendStats, data.statsMs);
post({ t: 'ready' });
