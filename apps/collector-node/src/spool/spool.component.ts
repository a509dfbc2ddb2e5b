import { mkdirSync, readdirSync, readFileSync, statSync, truncateSync, unlinkSync, openSync, readSync, closeSync } from 'node:fs';
import { FileHandle, open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { Component, Health, Logger } from '@flowmesh/common';
import type { EncodedBatch } from '../storage/storage';
import type { IngestDropMetrics } from '../observability/ingest-drops.metrics';
import type { StorageMetrics } from '../storage/storage.metrics';
import { encodeSpoolHeader, formatOfMagic, SPOOL_HEADER_BYTES } from './spool-entry';

export { SPOOL_HEADER_BYTES };
import { SpoolConfig } from './spool.config';
import { SpoolMetrics } from './spool.metrics';

/** What the spool delivers to (a FlowStore satisfies it). */
export interface SpoolTarget {
  insert(batch: EncodedBatch): Promise<void>;
  committed(batchId: string): Promise<boolean>;
}

/** A batch handed to the spool: its id, rows, format and bytes, and when its first datagram arrived. */
export interface SpoolBatch extends EncodedBatch {
  receivedMs: number;
  /** Its entry header (encodeSpoolHeader), when the producer built it (decode workers do: the checksum is then not computed here). */
  header?: Buffer;
  /**
   * Called once when the spool no longer reads `data` or `header` (dropped, written and not kept in memory, or
   * delivered): decode workers reuse that memory.
   */
  release?: () => void;
}

const SEGMENT_RE = /^(\d{20})\.seg$/;
const segName = (n: number) => `${String(n).padStart(20, '0')}.seg`;

interface Entry {
  seg: number;
  offset: number;
  size: number;
  id: string;
  rows: number;
  format: EncodedBatch['format'];
  receivedMs: number;
  data?: Buffer;
  /** SpoolBatch.release of the batch whose bytes `data` are. */
  release?: () => void;
  /** Ask the store committed(id) before inserting: left by an earlier run, or an insert that failed. */
  check: boolean;
}

interface AckPosition {
  segment: number;
  offset: number;
}

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}

export interface SpoolOptions extends SpoolConfig {
  dir: string;
}

/**
 * The write-ahead spool. Every encoded batch is appended to a segment file (and synced) before it is
 * sent to the store; it is acknowledged (the ack position persisted atomically: temp file + rename) only
 * after the store confirmed it. Delivery is strictly in order, one batch at a time. On start, and after
 * any failed store call, the batch is first looked up with store.committed(id), so an INSERT that
 * committed but whose reply was lost (or a crash between the commit and the ack) is never stored twice.
 *
 * Bounded: at most maxBytes unacknowledged on disk (beyond it: spool_full drops), at most maxQueueBytes
 * waiting in memory to be written (beyond it: backpressure drops), at most maxMemoryBytes of
 * unacknowledged batches also cached in memory (the rest is read back from disk when its turn comes).
 */
export class Spool implements Component {
  readonly name = 'spool';
  private readonly entries: Entry[] = [];
  private readonly queue: SpoolBatch[] = [];
  private queueBytes = 0;
  private writingGroup = 0;
  private unackedBytes = 0;
  private memoryBytes = 0;
  private segments = new Set<number>();
  private activeSeg = 0;
  private activeSize = 0;
  private active?: FileHandle;
  private appending?: Promise<void>;
  private delivering?: Promise<void>;
  private wake?: () => void;
  private stopping = false;
  private abandoned = false;
  private lastStoreError?: string;
  private lastWarnAt = 0;
  private started = false;
  readonly totals = { appendedRows: 0, deliveredRows: 0, skippedCommitted: 0, replayed: 0 };

  constructor(
    private readonly o: SpoolOptions,
    private readonly target: SpoolTarget,
    private readonly metrics: SpoolMetrics,
    private readonly drops: IngestDropMetrics,
    private readonly logger: Logger,
    private readonly storeMetrics?: StorageMetrics,
  ) {
    metrics.ageSource = () => this.oldestAgeSeconds();
  }

  async start(): Promise<void> {
    mkdirSync(this.o.dir, { recursive: true });
    const ack = this.readAck();
    const segs = readdirSync(this.o.dir)
      .map((f) => SEGMENT_RE.exec(f))
      .filter((m): m is RegExpExecArray => !!m)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
    let recovered = 0;
    for (const seg of segs) {
      if (seg < ack.segment) {
        unlinkSync(join(this.o.dir, segName(seg)));
        continue;
      }
      this.segments.add(seg);
      recovered += this.scanSegment(seg, seg === ack.segment ? ack.offset : 0);
    }
    this.activeSeg = (segs.length ? segs[segs.length - 1] : 0) + 1;
    await this.openActive();
    this.updateGauges();
    if (recovered) {
      const rows = this.entries.reduce((n, e) => n + e.rows, 0);
      this.logger.info('spool: replaying batches left by an earlier run', { batches: recovered, rows, bytes: this.unackedBytes });
    }
    this.started = true;
    this.kickDelivery();
  }

  /** Takes a batch for appending (never blocks). False when it was dropped (counted). */
  offer(b: SpoolBatch): boolean {
    if (b.rows <= 0) {
      b.release?.();
      return true;
    }
    if (!this.started || this.abandoned) {
      this.drops.dropFlows('shutdown', b.rows);
      b.release?.();
      return false;
    }
    if (this.queueBytes + b.data.length > this.o.maxQueueBytes) {
      this.drops.dropFlows('backpressure', b.rows);
      b.release?.();
      this.warn('spool: append queue full, batch dropped (backpressure)', { rows: b.rows, queueBytes: this.queueBytes });
      return false;
    }
    this.queue.push(b);
    this.queueBytes += b.data.length;
    this.kickAppend();
    return true;
  }

  health(): Health {
    if (!this.started) return { status: 'error', reason: 'spool not open' };
    if (this.lastStoreError) return { status: 'warning', reason: `store refusing batches (${this.entries.length} waiting in the spool): ${this.lastStoreError}` };
    if (this.unackedBytes > this.o.maxBytes * 0.9) return { status: 'warning', reason: `spool ${Math.round((100 * this.unackedBytes) / this.o.maxBytes)}% full` };
    return { status: 'ok' };
  }

  /** Batches not yet acknowledged: waiting to be written, being written, or on disk. */
  get pendingEntries(): number {
    return this.entries.length + this.queue.length + this.writingGroup;
  }

  get bytes(): number {
    return this.unackedBytes;
  }

  oldestAgeSeconds(now = Date.now()): number {
    const head = this.entries[0] ?? this.queue[0];
    return head ? Math.max(0, (now - head.receivedMs) / 1000) : 0;
  }

  /**
   * Waits until everything offered so far is appended and delivered; resolves early (false) when the
   * store is refusing batches or timeoutMs passes. True when the spool is empty.
   */
  async flushNow(timeoutMs = 30_000): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      if (!this.queue.length && !this.writingGroup && !this.entries.length) return true;
      if (this.lastStoreError && !this.queue.length && !this.writingGroup) return false;
      this.kickDelivery();
      await new Promise((r) => setTimeout(r, 10));
    }
    return this.pendingEntries === 0;
  }

  /** Appends what is queued, then delivers what it can within graceMs; the rest stays on disk for the next start. */
  async stop(graceMs = 10_000): Promise<void> {
    const until = Date.now() + graceMs;
    this.stopping = true;
    while (this.queue.length || this.appending) {
      this.kickAppend();
      if (!this.appending) break;
      await this.appending;
    }
    this.wake?.();
    while (this.entries.length && !this.lastStoreError && Date.now() < until) {
      this.kickDelivery();
      await Promise.race([this.delivering, new Promise((r) => setTimeout(r, 20))]);
    }
    this.abandoned = true;
    this.wake?.();
    // An insert in flight finishes (or fails) before the store closes; its ack is written if it succeeds.
    await this.delivering;
    await this.active?.close();
    this.active = undefined;
    this.started = false;
    if (this.entries.length) this.logger.warn('spool: batches left for the next start', { batches: this.entries.length, rows: this.entries.reduce((n, e) => n + e.rows, 0) });
  }

  // ---- append ----

  private kickAppend(): void {
    if (this.appending || !this.queue.length) return;
    this.appending = this.appendAll()
      .catch((e: Error) => {
        // A write error (disk full, I/O error) loses what was being appended; the node stays up.
        this.logger.error('spool: append failed', { error: e.message });
      })
      .finally(() => {
        this.appending = undefined;
        if (this.queue.length) this.kickAppend();
      });
  }

  private async appendAll(): Promise<void> {
    while (this.queue.length) {
      const group = this.queue.splice(0, this.queue.length);
      this.writingGroup = group.length;
      const t0 = process.hrtime.bigint();
      const added: Entry[] = [];
      /** Batches of the group written or dropped (the rest is lost if a write fails). */
      const settled = new Set<SpoolBatch>();
      let failure: Error | undefined;
      try {
        for (const b of group) {
          const size = SPOOL_HEADER_BYTES + b.data.length;
          if (this.unackedBytes + size > this.o.maxBytes) {
            this.drops.dropFlows('spool_full', b.rows);
            b.release?.();
            settled.add(b);
            this.warn('spool full: batch dropped', { rows: b.rows, spoolBytes: this.unackedBytes, maxBytes: this.o.maxBytes });
            continue;
          }
          if (this.activeSize > 0 && this.activeSize + size > this.o.segmentBytes) await this.roll();
          await this.active!.writev([b.header?.length === SPOOL_HEADER_BYTES ? b.header : encodeSpoolHeader(b, b.data), b.data], this.activeSize);
          const keep = this.memoryBytes + b.data.length <= this.o.maxMemoryBytes;
          if (keep) this.memoryBytes += b.data.length;
          else b.release?.();
          added.push({ seg: this.activeSeg, offset: this.activeSize, size, id: b.id, rows: b.rows, format: b.format, receivedMs: b.receivedMs, data: keep ? b.data : undefined, release: keep ? b.release : undefined, check: false });
          this.activeSize += size;
          this.unackedBytes += size;
          settled.add(b);
        }
        if (added.length && this.o.fsync) await this.active!.datasync();
      } catch (e) {
        // Disk full or an I/O error: what was not written is lost (counted); what was written is delivered.
        failure = e as Error;
        const unwritten = group.filter((b) => !settled.has(b));
        this.drops.dropFlows('spool_full', unwritten.reduce((n, b) => n + b.rows, 0));
        for (const b of unwritten) b.release?.();
      }
      // The group counted against maxQueueBytes until it was written: it was in memory all along.
      for (const b of group) this.queueBytes -= b.data.length;
      this.writingGroup = 0;
      this.metrics.fsyncSeconds.observe(Number(process.hrtime.bigint() - t0) / 1e9);
      for (const a of added) {
        this.entries.push(a);
        this.metrics.appended.inc();
        this.metrics.appendedRows.inc(a.rows);
        this.metrics.batchRows.observe(a.rows);
        this.totals.appendedRows += a.rows;
      }
      this.updateGauges();
      this.kickDelivery();
      if (failure) throw failure;
    }
  }

  private async roll(): Promise<void> {
    if (this.o.fsync) await this.active?.datasync();
    await this.active?.close();
    this.activeSeg++;
    await this.openActive();
  }

  private async openActive(): Promise<void> {
    this.active = await open(join(this.o.dir, segName(this.activeSeg)), 'w');
    this.activeSize = 0;
    this.segments.add(this.activeSeg);
  }

  // ---- delivery ----

  private kickDelivery(): void {
    if (this.delivering || !this.entries.length || this.abandoned) return;
    this.delivering = this.deliverAll()
      .catch((e: Error) => this.logger.error('spool: delivery loop failed', { error: e.message }))
      .finally(() => {
        this.delivering = undefined;
        // While stopping, deliverAll returns at the first store error; re-kicking here would spin on
        // microtasks and starve the event loop (stop() drives delivery itself until its grace period ends).
        if (this.entries.length && !this.abandoned && !this.stopping) this.kickDelivery();
      });
  }

  private async deliverAll(): Promise<void> {
    let delay = this.o.retryMs;
    while (this.entries.length && !this.abandoned) {
      const head = this.entries[0];
      let op: 'insert' | 'committed' = 'committed';
      try {
        let already = false;
        if (head.check) already = await this.target.committed(head.id);
        if (already) {
          this.metrics.skippedCommitted.inc();
          this.totals.skippedCommitted++;
        } else {
          op = 'insert';
          const data = head.data ?? (await this.readEntry(head));
          if (data) {
            if (head.check) {
              this.metrics.replayed.inc();
              this.totals.replayed++;
            }
            const t0 = process.hrtime.bigint();
            await this.target.insert({ id: head.id, rows: head.rows, format: head.format, data });
            this.storeMetrics?.flushSeconds.observe(Number(process.hrtime.bigint() - t0) / 1e9);
            this.storeMetrics?.rowsStored.inc(head.rows);
          }
        }
      } catch (e) {
        head.check = true;
        this.metrics.storeErrors.inc({ op });
        if (op === 'insert') this.storeMetrics?.errors.inc();
        this.lastStoreError = (e as Error).message.split('\n')[0].slice(0, 200);
        this.warn('spool: store call failed; batch kept, retrying', { op, batch: head.id, retryInMs: delay, error: this.lastStoreError });
        if (this.stopping) return;
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, delay);
          this.wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
        this.wake = undefined;
        delay = Math.min(delay * 2, this.o.maxRetryMs);
        continue;
      }
      if (this.lastStoreError) this.logger.info('spool: store accepting batches again', { waiting: this.entries.length });
      this.lastStoreError = undefined;
      delay = this.o.retryMs;
      await this.acknowledge(head);
    }
  }

  private async acknowledge(head: Entry): Promise<void> {
    // The entry counts as pending until its ack is on disk.
    const next = this.entries[1];
    const pos: AckPosition = next ? { segment: next.seg, offset: next.offset } : { segment: head.seg, offset: head.offset + head.size };
    await this.writeAck(pos);
    this.entries.shift();
    this.unackedBytes -= head.size;
    if (head.data) this.memoryBytes -= head.data.length;
    head.data = undefined;
    head.release?.();
    this.metrics.deliveredRows.inc(head.rows);
    this.metrics.latency.observe(Math.max(0, (Date.now() - head.receivedMs) / 1000));
    this.totals.deliveredRows += head.rows;
    this.updateGauges();
    for (const s of [...this.segments]) {
      if (s < pos.segment && s !== this.activeSeg) {
        this.segments.delete(s);
        await unlink(join(this.o.dir, segName(s))).catch(() => undefined);
      }
    }
  }

  private async writeAck(pos: AckPosition): Promise<void> {
    const tmp = join(this.o.dir, 'ack.tmp');
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(JSON.stringify(pos));
      if (this.o.fsync) await fh.datasync();
    } finally {
      await fh.close();
    }
    await rename(tmp, join(this.o.dir, 'ack'));
  }

  private readAck(): AckPosition {
    try {
      const a = JSON.parse(readFileSync(join(this.o.dir, 'ack'), 'utf8')) as AckPosition;
      if (Number.isSafeInteger(a.segment) && Number.isSafeInteger(a.offset) && a.segment >= 0 && a.offset >= 0) return a;
    } catch {
      /* no ack yet (or unreadable: replay everything; committed(id) skips what is stored) */
    }
    return { segment: 0, offset: 0 };
  }

  private async readEntry(e: Entry): Promise<Buffer | undefined> {
    const fh = await open(join(this.o.dir, segName(e.seg)), 'r');
    try {
      const buf = Buffer.allocUnsafe(e.size);
      const { bytesRead } = await fh.read(buf, 0, e.size, e.offset);
      const data = buf.subarray(SPOOL_HEADER_BYTES);
      if (bytesRead === e.size && buf.readUInt32LE(28) === crc32(data, crc32(buf.subarray(0, 28)))) return data;
    } finally {
      await fh.close();
    }
    this.metrics.corrupt.inc();
    this.logger.error('spool: an entry changed on disk since it was checked; skipped', { batch: e.id, segment: e.seg, offset: e.offset });
    return undefined;
  }

  /** Indexes the valid entries of one segment from `from`; cuts the file at the first bad one. Returns entries found. */
  private scanSegment(seg: number, from: number): number {
    const path = join(this.o.dir, segName(seg));
    let found = 0;
    const { end, size } = scanSegmentFile(path, seg, from, (entry) => {
      this.entries.push(entry);
      this.unackedBytes += entry.size;
      found++;
    });
    if (end < size) {
      this.metrics.corrupt.inc();
      this.metrics.truncatedBytes.inc(size - end);
      this.logger.warn('spool: torn or corrupt tail cut off (never replayed)', { segment: segName(seg), offset: end, bytes: size - end });
      truncateSync(path, end);
    }
    return found;
  }

  private updateGauges(): void {
    this.metrics.bytes.set(this.unackedBytes);
    this.metrics.entries.set(this.entries.length);
    this.storeMetrics?.pendingRows.set(this.entries.reduce((n, e) => n + e.rows, 0));
  }

  private warn(msg: string, fields: Record<string, unknown>): void {
    const now = Date.now();
    if (now - this.lastWarnAt < 1000) return;
    this.lastWarnAt = now;
    this.logger.warn(msg, fields);
  }
}

/** Walks the entries of one segment file from `from` while they are whole and their checksums hold. */
function scanSegmentFile(path: string, seg: number, from: number, onEntry: (e: Entry) => void): { end: number; size: number } {
  const size = statSync(path).size;
  const fd = openSync(path, 'r');
  const h = Buffer.alloc(SPOOL_HEADER_BYTES);
  let off = from;
  try {
    while (off < size) {
      if (size - off < SPOOL_HEADER_BYTES || readSync(fd, h, 0, SPOOL_HEADER_BYTES, off) !== SPOOL_HEADER_BYTES) break;
      const len = h.readUInt32LE(4);
      const format = formatOfMagic(h.readUInt32LE(0));
      if (!format || len > size - off - SPOOL_HEADER_BYTES) break;
      const data = Buffer.allocUnsafe(len);
      if (readSync(fd, data, 0, len, off + SPOOL_HEADER_BYTES) !== len) break;
      if (h.readUInt32LE(28) !== crc32(data, crc32(h.subarray(0, 28)))) break;
      onEntry({
        seg,
        offset: off,
        size: SPOOL_HEADER_BYTES + len,
        id: hex8(h.readUInt32LE(12)) + hex8(h.readUInt32LE(16)),
        rows: h.readUInt32LE(8),
        format,
        receivedMs: h.readDoubleLE(20),
        check: true,
      });
      off += SPOOL_HEADER_BYTES + len;
    }
  } finally {
    closeSync(fd);
  }
  return { end: off, size };
}

/** The unacknowledged batches in a spool directory (read-only; for tests and operators). */
export function inspectSpool(dir: string): { id: string; rows: number }[] {
  const out: { id: string; rows: number }[] = [];
  let ack: AckPosition = { segment: 0, offset: 0 };
  try {
    ack = JSON.parse(readFileSync(join(dir, 'ack'), 'utf8')) as AckPosition;
  } catch {
    /* nothing acknowledged yet */
  }
  const segs = readdirSync(dir)
    .map((f) => SEGMENT_RE.exec(f))
    .filter((m): m is RegExpExecArray => !!m)
    .map((m) => Number(m[1]))
    .filter((n) => n >= ack.segment)
    .sort((a, b) => a - b);
  for (const seg of segs) scanSegmentFile(join(dir, segName(seg)), seg, seg === ack.segment ? ack.offset : 0, (e) => out.push({ id: e.id, rows: e.rows }));
  return out;
}

/** Writes `text` to `path` atomically and durably (temp file, sync, rename). */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp`;
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(text);
    await fh.datasync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}
