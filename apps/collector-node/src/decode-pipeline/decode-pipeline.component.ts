import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { Component, Health, Logger } from '@flowmesh/common';
import { DECODE_ERROR_REASONS, ExporterStats, TemplateState } from '@flowmesh/flow-decoder';
import { ExporterPolicy, ExporterRule, ExporterSettings } from '../exporters/exporter-policy';
import { ExporterMetrics } from '../exporters/exporters.metrics';
import { IngestDropMetrics } from '../observability/ingest-drops.metrics';
import type { SpoolBatch } from '../spool/spool.component';
import { encodeSpoolHeader, SPOOL_HEADER_BYTES } from '../spool/spool-entry';
import type { BatchFormat } from '../storage/batch-encoding';
import { ClockConfig, DecodeConfig } from './decode-pipeline.config';
import { DecodePipelineMetrics } from './decode-pipeline.metrics';
import { PackWriter } from './datagram-pack';
import type { DecodeWorkerData } from './decode.worker';
import type { FromWorker, ToWorker } from './worker-protocol';

/** Where encoded batches go (the spool). */
export interface BatchSink {
  offer(b: SpoolBatch): boolean;
}

export interface DecodePipelineOptions {
  decode: DecodeConfig;
  clock: ClockConfig;
  batchRows: number;
  batchMs: number;
  /** How workers encode batches (storage.insertFormat). */
  format: BatchFormat;
  exporters: ExporterRule[];
  allowUnknownExporters: boolean;
  /** High 32 bits of batch ids, one per worker spawn (IncarnationSource.next). */
  nextIncarnation: () => number;
  /** The worker script (tests may point elsewhere); default decode.worker.js beside this file. */
  workerScript?: string;
}

/** Running totals, for the heartbeat. */
export interface PipelineTotals {
  packets: number;
  flows: number;
  decodeErrors: number;
  rowsOut: number;
}

interface ExporterEntry {
  allowed: boolean;
  settings?: ExporterSettings;
  slot: number;
  label: string;
  packets: number;
  bytes: number;
}

interface Slot {
  index: number;
  worker?: Worker;
  ready: boolean;
  pack?: PackWriter;
  /** packCount packs of decode.packBytes, shared with the worker (given at spawn); the free ones by index. */
  packArena: SharedArrayBuffer;
  packBytes: Uint8Array;
  freePacks: number[];
  /** The current worker's batch slabs, as it announced them. */
  slabs: Buffer[];
  /** Sockets this worker reads itself (re-sent to a respawned worker), by fd. */
  sockets: Map<number, { listener: string; coalesceMs: number }>;
  /** Waiting for 'unlistened', by fd. */
  unlistening: Map<number, () => void>;
  /** Bytes and datagrams handed to the worker and not yet reported done. */
  queuedBytes: number;
  queuedPackets: number;
  templates?: TemplateState;
  /** Last cumulative exporterStats per (exporter, protocol, domain) of the current spawn. */
  lastStats: Map<string, ExporterStats>;
  templatesByLabel: Map<string, number>;
  restarts: number;
  flushed?: () => void;
}

/** FNV-1a of the exporter address: the same exporter always goes to the same worker. */
export function exporterSlot(address: string, slots: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < address.length; i++) {
    h ^= address.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % slots;
}

export function defaultWorkerCount(configured: number): number {
  return configured > 0 ? configured : Math.max(1, availableParallelism() - 1);
}

/**
 * The receiving thread's half of decoding. Datagrams from allowed exporters are packed per worker into
 * a pack of the worker's shared pack arena and posted as an index (one message per pack: when full, or
 * decode.packDelayMs after its first datagram — a message costs ~8 µs, a datagram ~25 flows); each exporter
 * is pinned to one worker by a hash of its address, so its templates and sequence state live in one decoder.
 * Workers encode batches into shared slabs and post where they are; they go to the spool, which releases
 * each when done with its bytes. Nothing is transferred per pack or batch: a transferred ArrayBuffer counts
 * as new external memory, and V8 runs a full GC per ~64 MiB of it. A worker that dies is replaced (with
 * the templates it last reported) and counted; what it had not finished is counted as dropped.
 */
export class DecodePipeline implements Component {
  readonly name = 'decode';
  private policy: ExporterPolicy;
  private readonly templateListeners: (() => void)[] = [];
  private readonly exporterListeners: ((address: string) => void)[] = [];
  private listenerCounts?: (listener: string, packets: number, bytes: number) => void;
  private socketError?: (listener: string, error: Error) => void;
  private readonly slots: Slot[] = [];
  private readonly exporters = new Map<string, ExporterEntry>();
  private flushScheduled = false;
  private stopping = false;
  private statsTimer?: NodeJS.Timeout;
  private lastWarnAt = 0;
  readonly totals: PipelineTotals = { packets: 0, flows: 0, decodeErrors: 0, rowsOut: 0 };
  private readonly flowChildren = new Map<string, { inc(n: number): void }>();
  private readonly sendPacks = () => this.flushPacks();

  constructor(
    private readonly o: DecodePipelineOptions,
    private readonly sink: BatchSink,
    private readonly metrics: DecodePipelineMetrics,
    private readonly exporterMetrics: ExporterMetrics,
    private readonly drops: IngestDropMetrics,
    private readonly logger: Logger,
  ) {
    this.policy = new ExporterPolicy(o.exporters, o.allowUnknownExporters);
  }

  static errorReasons(): readonly string[] {
    return DECODE_ERROR_REASONS;
  }

  get workerCount(): number {
    return this.slots.length;
  }

  async start(): Promise<void> {
    const n = defaultWorkerCount(this.o.decode.workers);
    const packCount = Math.max(2, Math.ceil(this.o.decode.maxQueuedBytesPerWorker / this.o.decode.packBytes));
    for (let i = 0; i < n; i++) {
      const packArena = new SharedArrayBuffer(packCount * this.o.decode.packBytes);
      this.slots.push({
        index: i,
        ready: false,
        packArena,
        packBytes: new Uint8Array(packArena),
        freePacks: [],
        slabs: [],
        sockets: new Map(),
        unlistening: new Map(),
        queuedBytes: 0,
        queuedPackets: 0,
        lastStats: new Map(),
        templatesByLabel: new Map(),
        restarts: 0,
      });
    }
    await Promise.all(this.slots.map((s) => this.spawn(s)));
    this.metrics.workers.set(n);
    this.statsTimer = setInterval(() => this.flushExporterCounters(), this.o.decode.statsMs);
    this.logger.info('decode workers started', { workers: n, exporters: this.o.exporters.length, allowUnknownExporters: this.o.allowUnknownExporters });
  }

  /** A datagram from the socket. Never throws, never blocks. */
  handle(payload: Uint8Array, exporter: string, receivedMs: number): void {
    let e = this.exporters.get(exporter);
    if (!e) e = this.learn(exporter);
    if (!e.allowed) {
      this.drops.dropPackets('not_allowed');
      return;
    }
    e.packets++;
    e.bytes += payload.length;
    this.totals.packets++;
    const slot = this.slots[e.slot];
    if (this.stopping || !slot.ready || slot.queuedBytes > this.o.decode.maxQueuedBytesPerWorker) {
      this.drops.dropPackets(this.stopping || !slot.ready ? 'worker_restart' : 'backpressure');
      return;
    }
    let pack = slot.pack ?? (slot.pack = this.newPack(slot, payload.length + exporter.length));
    if (!pack?.add(payload, exporter, receivedMs)) {
      this.sendPack(slot);
      pack = slot.pack = this.newPack(slot, payload.length + exporter.length);
      if (!pack?.add(payload, exporter, receivedMs)) return this.drops.dropPackets('backpressure');
    }
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      const delay = this.o.decode.packDelayMs;
      if (delay > 0) setTimeout(this.sendPacks, delay);
      else setImmediate(this.sendPacks);
    }
  }

  health(): Health {
    const down = this.slots.filter((s) => !s.ready).length;
    if (!this.slots.length) return { status: 'error', reason: 'not started' };
    if (down === this.slots.length) return { status: 'error', reason: 'no decode worker running' };
    if (down) return { status: 'warning', reason: `${down} of ${this.slots.length} decode workers restarting` };
    return { status: 'ok' };
  }

  /** Fault injection: makes worker `slot` throw an uncaught exception (it is then replaced). */
  injectCrash(slot: number): void {
    this.post(this.slots[slot], { t: 'crash' });
  }

  /** The worker slot an exporter is pinned to. */
  slotOf(exporter: string): number {
    return exporterSlot(exporter, this.slots.length);
  }

  restarts(slot: number): number {
    return this.slots[slot].restarts;
  }

  // ---- sockets read by the workers (recvmmsg) ----

  /** How many sockets per listener attach() takes: one per worker (SO_REUSEPORT spreads senders over them). */
  get socketsPerListener(): number {
    return this.slots.length;
  }

  /**
   * Has worker i read fds[i] itself from now on (the main thread keeps the fds, and closes them after
   * detach). Datagrams then go from the socket to the decoder with no copy and no message; the worker
   * applies the allow-list and reports counts with its stats. A respawned worker reads them again.
   */
  attach(listener: string, fds: number[], coalesceMs: number): void {
    if (fds.length !== this.slots.length) throw new Error(`attach: ${fds.length} sockets for ${this.slots.length} workers`);
    fds.forEach((fd, i) => {
      const s = this.slots[i];
      s.sockets.set(fd, { listener, coalesceMs });
      this.post(s, { t: 'listen', listener, fd, coalesceMs });
    });
  }

  /** Stops the workers reading these fds; resolves when each did (or its worker is gone), so they can be closed. */
  detach(fds: number[], timeoutMs = 5000): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const s of this.slots) {
      for (const fd of fds) {
        if (!s.sockets.delete(fd)) continue;
        if (!s.worker) continue;
        waits.push(
          new Promise<void>((resolve) => {
            const t = setTimeout(resolve, timeoutMs);
            s.unlistening.set(fd, () => {
              clearTimeout(t);
              resolve();
            });
            this.post(s, { t: 'unlisten', fd });
          }),
        );
      }
    }
    return Promise.all(waits).then(() => undefined);
  }

  /** Where the datagram counts of worker-read sockets go (the UDP input's per-listener metrics). */
  onListenerCounts(fn: (listener: string, packets: number, bytes: number) => void): void {
    this.listenerCounts = fn;
  }

  /** A read error on a worker-read socket (fatal for the UDP input, as on its own sockets). */
  onSocketError(fn: (listener: string, error: Error) => void): void {
    this.socketError = fn;
  }

  /** Bytes of the batch slabs the current workers allocated. */
  batchMemoryBytes(): number {
    let n = 0;
    for (const s of this.slots) for (const b of s.slabs) n += b?.length ?? 0;
    return n;
  }

  private updateBatchMemory(): void {
    this.metrics.batchMemory.set(this.batchMemoryBytes());
  }

  // ---- runtime control (the config agent) ----

  /** Replaces the allow-list and per-exporter settings at run time (rules with allow: false deny). */
  setExporters(rules: ExporterRule[], allowUnknown: boolean): void {
    this.policy = new ExporterPolicy(rules, allowUnknown);
    this.o.exporters = rules.map((r) => ({ ...r }));
    this.o.allowUnknownExporters = allowUnknown;
    this.flushExporterCounters();
    this.exporters.clear();
    for (const s of this.slots) this.post(s, { t: 'exporters', rules: this.o.exporters, allowUnknown });
  }

  /** Changes batch size and age at run time (each worker flushes its current batch first). */
  setBatching(batchRows: number, batchMs: number): void {
    this.o.batchRows = batchRows;
    this.o.batchMs = batchMs;
    for (const s of this.slots) this.post(s, { t: 'batching', batchRows, batchMs });
  }

  /** Templates and sampling options of all workers, as they last reported them. */
  exportTemplates(): TemplateState {
    return { version: 1, domains: this.slots.flatMap((s) => s.templates?.domains ?? []) };
  }

  /** Teaches each domain's templates to the worker its exporter is pinned to (kept across respawns). */
  importTemplates(state: TemplateState): void {
    const key = (d: TemplateState['domains'][number]) => `${d.exporter}|${d.protocol}|${d.observation_domain}`;
    const bySlot = new Map<number, TemplateState['domains']>();
    // Sockets read by the workers are spread by the kernel (SO_REUSEPORT), not by slotOf: every worker learns them.
    const spread = this.slots.some((s) => s.sockets.size > 0);
    for (const d of state.domains ?? []) {
      for (const i of spread ? this.slots.map((s) => s.index) : [this.slotOf(d.exporter)]) bySlot.set(i, [...(bySlot.get(i) ?? []), d]);
    }
    for (const [i, domains] of bySlot) {
      const s = this.slots[i];
      const incoming = new Set(domains.map(key));
      s.templates = { version: 1, domains: [...(s.templates?.domains ?? []).filter((d) => !incoming.has(key(d))), ...domains] };
      this.post(s, { t: 'import-templates', state: { version: 1, domains } });
    }
  }

  /** Called whenever a worker reports changed templates (learnt on the wire). */
  onTemplatesChanged(fn: () => void): void {
    this.templateListeners.push(fn);
  }

  /** Called on the first datagram of an allowed exporter (per address, while it stays in the cache). */
  onNewExporter(fn: (address: string) => void): void {
    this.exporterListeners.push(fn);
  }

  /** Sends what is packed and makes every worker flush its batch to the sink; resolves when all did (or timeoutMs). */
  flush(timeoutMs = 5000): Promise<void> {
    this.flushPacks();
    const until = Date.now() + timeoutMs;
    return Promise.all(
      this.slots.map(
        (s) =>
          new Promise<void>((resolve) => {
            if (!s.worker || !s.ready) return resolve();
            const t = setTimeout(resolve, Math.max(0, until - Date.now()));
            const prev = s.flushed;
            s.flushed = () => {
              clearTimeout(t);
              prev?.();
              resolve();
            };
            this.post(s, { t: 'flush' });
          }),
      ),
    ).then(() => undefined);
  }

  /** Sends what is packed, makes every worker flush its batch and report, then ends the workers. */
  async stop(graceMs = 10_000): Promise<void> {
    this.flushPacks();
    this.stopping = true;
    await this.flush(Math.min(graceMs, 5000));
    if (this.statsTimer) clearInterval(this.statsTimer);
    this.flushExporterCounters();
    await Promise.all(this.slots.map((s) => s.worker?.terminate()));
    for (const s of this.slots) s.ready = false;
  }

  // ---- exporters ----

  private learn(address: string): ExporterEntry {
    const d = this.policy.decide(address);
    const e: ExporterEntry = d.allowed
      ? { allowed: true, settings: d.settings, slot: this.slotOf(address), label: this.exporterMetrics.label(address, d.settings?.name), packets: 0, bytes: 0 }
      : { allowed: false, slot: 0, label: '', packets: 0, bytes: 0 };
    if (!d.allowed) this.warn('datagram from an exporter not on the allow-list dropped', { exporter: address });
    else for (const fn of this.exporterListeners) fn(address);
    // Bounded: a flood of spoofed sources must not grow this map without limit.
    if (this.exporters.size >= 65_536) {
      this.flushExporterCounters();
      this.exporters.clear();
    }
    this.exporters.set(address, e);
    return e;
  }

  private flushExporterCounters(): void {
    for (const e of this.exporters.values()) {
      if (!e.packets) continue;
      this.exporterMetrics.packets.inc({ exporter: e.label }, e.packets);
      this.exporterMetrics.bytes.inc({ exporter: e.label }, e.bytes);
      e.packets = 0;
      e.bytes = 0;
    }
  }

  private labelOf(address: string): string {
    const e = this.exporters.get(address) ?? this.learn(address);
    return e.label || this.exporterMetrics.label(address);
  }

  // ---- packs ----

  /** A free pack of the slot's arena (undefined when all are with the worker), or a standalone one for a datagram too big for a pack. */
  private newPack(s: Slot, minRecord: number): PackWriter | undefined {
    const need = minRecord + 64;
    const size = this.o.decode.packBytes;
    if (need > size) return new PackWriter(new Uint8Array(need), -1);
    const i = s.freePacks.pop();
    return i === undefined ? undefined : new PackWriter(s.packBytes.subarray(i * size, (i + 1) * size), i);
  }

  private flushPacks(): void {
    this.flushScheduled = false;
    for (const s of this.slots) if (s.pack && s.pack.count) this.sendPack(s);
  }

  private sendPack(s: Slot): void {
    const p = s.pack;
    s.pack = undefined;
    if (!p || !p.count) return;
    if (!s.worker || !s.ready) {
      this.drops.dropPackets('worker_restart', p.count);
      if (p.index >= 0) s.freePacks.push(p.index);
      return;
    }
    s.queuedBytes += p.used;
    s.queuedPackets += p.count;
    this.metrics.queuedBytes.inc(p.used);
    if (p.index >= 0) s.worker.postMessage({ t: 'pack', index: p.index, used: p.used, count: p.count } satisfies ToWorker);
    else s.worker.postMessage({ t: 'pack-big', buf: p.bytes.buffer as ArrayBuffer, used: p.used, count: p.count } satisfies ToWorker, [p.bytes.buffer as ArrayBuffer]);
  }

  private post(s: Slot, m: ToWorker): void {
    s.worker?.postMessage(m);
  }

  // ---- workers ----

  private spawn(s: Slot): Promise<void> {
    const data: DecodeWorkerData = {
      slot: s.index,
      incarnation: this.o.nextIncarnation(),
      batchRows: this.o.batchRows,
      batchMs: this.o.batchMs,
      format: this.o.format,
      statsMs: this.o.decode.statsMs,
      clock: { maxFutureMs: this.o.clock.maxFutureSec * 1000, maxPastMs: this.o.clock.maxPastSec * 1000, action: this.o.clock.action },
      exporters: this.o.exporters,
      allowUnknownExporters: this.o.allowUnknownExporters,
      templates: s.templates,
      packArena: s.packArena,
      packBytes: this.o.decode.packBytes,
      slabBytes: this.o.decode.batchSlabBytes,
    };
    // A new worker: every pack is free again (what the old one held is counted lost in onDeath), no slabs yet.
    s.freePacks = Array.from({ length: s.packArena.byteLength / this.o.decode.packBytes }, (_, i) => i);
    s.slabs = [];
    this.updateBatchMemory();
    const w = new Worker(this.o.workerScript ?? join(__dirname, 'decode.worker.js'), { workerData: data });
    s.worker = w;
    s.lastStats = new Map();
    return new Promise<void>((resolve) => {
      let settled = false;
      const done = () => {
        if (!settled) {
          settled = true;
          resolve();
        }
      };
      w.on('message', (m: FromWorker) => {
        if (m.t === 'ready') {
          s.ready = true;
          for (const [fd, l] of s.sockets) w.postMessage({ t: 'listen', listener: l.listener, fd, coalesceMs: l.coalesceMs } satisfies ToWorker);
          done();
        } else this.onMessage(s, m);
      });
      w.on('error', (e: Error) => this.logger.error('decode worker failed', { slot: s.index, error: e.message }));
      w.on('exit', (code) => {
        if (s.worker !== w) return;
        s.ready = false;
        s.worker = undefined;
        for (const f of s.unlistening.values()) f();
        s.unlistening.clear();
        done();
        if (this.stopping) return;
        this.onDeath(s, code);
      });
    });
  }

  private onDeath(s: Slot, code: number): void {
    s.restarts++;
    this.metrics.workerRestarts.inc();
    const lost = s.queuedPackets + (s.pack?.count ?? 0);
    this.drops.dropPackets('worker_restart', lost);
    this.metrics.queuedBytes.dec(s.queuedBytes);
    s.queuedBytes = 0;
    s.queuedPackets = 0;
    s.pack = undefined;
    s.freePacks = [];
    this.logger.error('decode worker died; restarting it', { slot: s.index, exitCode: code, restarts: s.restarts, packetsLost: lost });
    const delay = Math.min(5000, 50 * 2 ** Math.min(s.restarts - 1, 7));
    setTimeout(() => {
      if (!this.stopping) void this.spawn(s);
    }, delay).unref();
  }

  private onMessage(s: Slot, m: FromWorker): void {
    switch (m.t) {
      case 'slab':
        s.slabs[m.slab] = Buffer.from(m.sab);
        this.updateBatchMemory();
        break;
      case 'batch': {
        this.totals.rowsOut += m.rows;
        const slab = s.slabs[m.slab];
        const at = m.offset + SPOOL_HEADER_BYTES;
        const w = s.worker;
        let released = false;
        // The slab region is reused once released: the spool calls this when it no longer reads the bytes.
        const release = () => {
          if (released) return;
          released = true;
          if (w && s.worker === w) w.postMessage({ t: 'release', slab: m.slab } satisfies ToWorker);
        };
        const data = slab.subarray(at, at + m.length);
        // The spool entry header and its checksum over the batch, into the room the worker left in front: the
        // main thread has the time (the workers read and decode the sockets), the worker does not.
        const header = encodeSpoolHeader({ id: m.id, rows: m.rows, format: m.format, receivedMs: m.receivedMs }, data, slab.subarray(m.offset, at));
        this.sink.offer({ id: m.id, rows: m.rows, format: m.format, data, receivedMs: m.receivedMs, header, release });
        break;
      }
      case 'done':
        s.queuedBytes -= m.bytes;
        s.queuedPackets -= m.packets;
        this.metrics.queuedBytes.dec(m.bytes);
        if (m.index >= 0) s.freePacks.push(m.index);
        break;
      case 'stats':
        this.onStats(s, m.delta, m.exporters);
        break;
      case 'templates':
        s.templates = m.state;
        for (const fn of this.templateListeners) fn();
        break;
      case 'unlistened': {
        const f = s.unlistening.get(m.fd);
        s.unlistening.delete(m.fd);
        f?.();
        break;
      }
      case 'socket-error':
        this.socketError?.(m.listener, new Error(m.error));
        break;
      case 'flushed': {
        const f = s.flushed;
        s.flushed = undefined;
        f?.();
        break;
      }
    }
  }

  private onStats(s: Slot, d: import('./worker-protocol').StatsDelta, stats: ExporterStats[]): void {
    if (d.received) this.onReceived(d.received);
    for (const [protocol, n] of Object.entries(d.flows)) {
      this.flowCounter(protocol).inc(n);
      this.totals.flows += n;
    }
    for (const [reason, n] of Object.entries(d.errors)) {
      this.metrics.errors.inc({ reason }, n);
      this.totals.decodeErrors += n;
    }
    const action = this.o.clock.action;
    if (d.clockFuture) {
      this.metrics.clockSkew.inc({ reason: 'future', action }, d.clockFuture);
      if (action === 'drop') this.drops.dropFlows('clock_future', d.clockFuture);
    }
    if (d.clockPast) {
      this.metrics.clockSkew.inc({ reason: 'past', action }, d.clockPast);
      if (action === 'drop') this.drops.dropFlows('clock_past', d.clockPast);
    }
    const templates = new Map<string, number>();
    for (const x of stats) {
      const key = `${x.exporter}|${x.protocol}|${x.observation_domain}`;
      const prev = s.lastStats.get(key);
      s.lastStats.set(key, x);
      const label = this.labelOf(x.exporter);
      const dRecords = x.records - (prev?.records ?? 0);
      if (dRecords > 0) this.exporterMetrics.flows.inc({ exporter: label }, dRecords);
      const dLost = x.sequence_lost - (prev?.sequence_lost ?? 0);
      if (dLost > 0) this.exporterMetrics.sequenceLost.inc({ exporter: label }, dLost);
      for (const [reason, n] of Object.entries(x.errors)) {
        const dn = n - (prev?.errors[reason] ?? 0);
        if (dn > 0) this.exporterMetrics.errors.inc({ exporter: label, reason }, dn);
      }
      templates.set(label, (templates.get(label) ?? 0) + x.templates);
    }
    const touched = new Set([...templates.keys(), ...s.templatesByLabel.keys()]);
    s.templatesByLabel = templates;
    for (const label of touched) {
      let sum = 0;
      for (const other of this.slots) sum += other.templatesByLabel.get(label) ?? 0;
      this.exporterMetrics.templates.set({ exporter: label }, sum);
    }
  }

  /** Counts of datagrams a worker read from its own sockets: what handle() counts for the others. */
  private onReceived(r: import('./worker-protocol').ReceivedDelta): void {
    for (const [listener, [packets, bytes]] of Object.entries(r.listeners)) this.listenerCounts?.(listener, packets, bytes);
    for (const [address, [packets, bytes]] of Object.entries(r.exporters)) {
      const e = this.exporters.get(address) ?? this.learn(address);
      if (!e.allowed) continue; // the list changed meanwhile
      e.packets += packets;
      e.bytes += bytes;
      this.totals.packets += packets;
    }
    if (r.notAllowed) {
      this.drops.dropPackets('not_allowed', r.notAllowed);
      for (const a of r.notAllowedSample) if (!this.exporters.has(a)) this.learn(a); // warns (rate-limited)
    }
  }

  private flowCounter(protocol: string): { inc(n: number): void } {
    let c = this.flowChildren.get(protocol);
    if (!c) {
      c = this.metrics.flows.labels({ protocol });
      this.flowChildren.set(protocol, c);
    }
    return c;
  }

  private warn(msg: string, fields: Record<string, unknown>): void {
    const now = Date.now();
    if (now - this.lastWarnAt < 1000) return;
    this.lastWarnAt = now;
    this.logger.warn(msg, fields);
  }
}
