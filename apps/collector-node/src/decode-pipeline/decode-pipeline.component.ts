import { Component, Health, Logger } from '@flowmesh/common';
import { DECODE_ERROR_REASONS, FlowBatch, FlowDecoder } from '@flowmesh/flow-decoder';
import { encodeRowBinary } from '../storage/row-binary';
import { EncodedBatch, FlowStore } from '../storage/storage';
import { StorageMetrics, StoreDropReason } from '../storage/storage.metrics';
import { DecodePipelineMetrics } from './decode-pipeline.metrics';

export interface DecodePipelineOptions {
  batchRows: number;
  batchMs: number;
  maxPendingRows: number;
  /** First retry delay after a refused write; doubles up to maxRetryMs. */
  retryMs?: number;
  maxRetryMs?: number;
}

/** Running totals, for the heartbeat. */
export interface PipelineTotals {
  packets: number;
  flows: number;
  decodeErrors: number;
  storedRows: number;
}

/**
 * Datagram → FlowBatch → RowBinary → store. Decoding and encoding run on the event loop (both are
 * ~1 µs/row); the write runs off it. A full or old batch is encoded at once into its own buffer and the
 * batch is reused, so decoding never waits for the store.
 *
 * When the store refuses writes the encoded batches wait in memory and are retried with backoff, up to
 * maxPendingRows; beyond that the oldest are dropped and counted (store_backlog). A durable on-disk spool
 * (surviving restarts and long outages) is a later issue.
 */
export class DecodePipeline implements Component {
  readonly name = 'decode';
  private readonly decoder = new FlowDecoder();
  private readonly batch: FlowBatch;
  private batchSince = 0;
  private readonly pending: EncodedBatch[] = [];
  private pendingRows = 0;
  private writing?: Promise<void>;
  private timer?: NodeJS.Timeout;
  private wake?: () => void;
  private stopping = false;
  /** Set when stop's grace period ran out: the writer gives up instead of retrying. */
  private abandoned = false;
  private inFlight = false;
  private readonly onFull = (b: FlowBatch) => this.flushBatch(b);
  private readonly flowChildren = new Map<string, { inc(n: number): void }>();
  private lastWarnAt = 0;
  readonly totals: PipelineTotals = { packets: 0, flows: 0, decodeErrors: 0, storedRows: 0 };

  constructor(
    private readonly o: DecodePipelineOptions,
    private readonly store: FlowStore,
    private readonly metrics: DecodePipelineMetrics,
    private readonly storeMetrics: StorageMetrics,
    private readonly logger: Logger,
  ) {
    this.batch = new FlowBatch(o.batchRows);
  }

  static errorReasons(): readonly string[] {
    return DECODE_ERROR_REASONS;
  }

  async start(): Promise<void> {
    this.timer = setInterval(() => this.flushIfDue(Date.now()), Math.max(10, Math.floor(this.o.batchMs / 4)));
  }

  /** Decodes one datagram. Never throws: a malformed packet costs only itself and is counted by reason. */
  handle(payload: Uint8Array, exporter: string, receivedMs: number): void {
    this.totals.packets++;
    if (this.batch.length === 0) this.batchSince = receivedMs;
    let r: { protocol: string; records: number; errors: number; error?: string };
    try {
      r = this.decoder.decode(payload, exporter, receivedMs, this.batch, this.onFull);
    } catch (e) {
      // The decoder promises not to throw; if it ever does, the packet is lost, the node is not.
      r = { protocol: 'unknown', records: 0, errors: 1, error: 'internal_error' };
      this.warn('decoder threw', { error: (e as Error).message, exporter });
    }
    if (r.records > 0) {
      this.totals.flows += r.records;
      this.flowCounter(r.protocol).inc(r.records);
    }
    if (r.errors > 0) {
      // DecodeResult names only the first reason; a packet with mixed problems counts them all under it.
      this.totals.decodeErrors += r.errors;
      this.metrics.errors.inc({ reason: r.error ?? 'unknown' }, r.errors);
    }
    if (this.batch.length >= this.o.batchRows) this.flushBatch(this.batch);
  }

  health(): Health {
    if (this.pendingRows > this.o.batchRows * 2) return { status: 'warning', reason: `${this.pendingRows} rows waiting for the store` };
    return { status: 'ok' };
  }

  get pendingRowCount(): number {
    return this.pendingRows;
  }

  /** Flushes what is batched and waits (at most graceMs) for the store to take everything. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.flushBatch(this.batch);
    this.stopping = true;
    const deadline = Date.now() + graceMs;
    while (this.pending.length && Date.now() < deadline) {
      this.kick();
      this.wake?.();
      await Promise.race([this.writing, new Promise((r) => setTimeout(r, Math.max(1, Math.min(100, deadline - Date.now()))))]);
    }
    this.abandoned = true;
    this.wake?.();
    if (this.pendingRows) {
      this.logger.error('store did not take every batch before shutdown', { rows: this.pendingRows });
      // An insert still in flight may yet commit: only what never reached the store counts as dropped.
      this.drop('shutdown', this.inFlight ? 1 : 0);
    }
  }

  private flushIfDue(now: number): void {
    if (this.batch.length > 0 && now - this.batchSince >= this.o.batchMs) this.flushBatch(this.batch);
  }

  /** Encodes and clears the batch synchronously (the decoder's onFull contract), then queues the write. */
  private flushBatch(b: FlowBatch): void {
    if (b.length === 0) return;
    const encoded: EncodedBatch = { rows: b.length, data: encodeRowBinary(b) };
    b.clear();
    this.pending.push(encoded);
    this.pendingRows += encoded.rows;
    // The head may be in flight; drop from the next oldest on.
    while (this.pendingRows > this.o.maxPendingRows && this.pending.length > 1) {
      const victim = this.pending.splice(this.writing ? 1 : 0, 1)[0];
      this.pendingRows -= victim.rows;
      this.storeMetrics.rowsDropped.inc({ reason: 'store_backlog' }, victim.rows);
      this.warn('store backlog over maxPendingRows: dropped the oldest batch', { rows: victim.rows });
    }
    this.storeMetrics.pendingRows.set(this.pendingRows);
    this.kick();
  }

  private kick(): void {
    if (!this.writing && this.pending.length) {
      this.writing = this.writeAll().finally(() => {
        this.writing = undefined;
        if (this.pending.length && !this.stopping) this.kick();
      });
    }
  }

  private async writeAll(): Promise<void> {
    let delay = this.o.retryMs ?? 200;
    while (this.pending.length) {
      const head = this.pending[0];
      const t0 = process.hrtime.bigint();
      this.inFlight = true;
      try {
        await this.store.insert(head);
      } catch (e) {
        this.inFlight = false;
        this.storeMetrics.errors.inc();
        if (this.abandoned) return this.drop('shutdown', 0);
        this.warn('store refused a batch; keeping it and retrying', { rows: head.rows, pendingRows: this.pendingRows, retryInMs: delay, error: (e as Error).message.split('\n')[0] });
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, delay);
          this.wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
        this.wake = undefined;
        if (this.abandoned) return;
        delay = Math.min(delay * 2, this.o.maxRetryMs ?? 30_000);
        continue;
      }
      this.inFlight = false;
      this.storeMetrics.flushSeconds.observe(Number(process.hrtime.bigint() - t0) / 1e9);
      const at = this.pending.indexOf(head);
      if (at >= 0) {
        this.pending.splice(at, 1);
        this.pendingRows -= head.rows;
      }
      this.storeMetrics.pendingRows.set(this.pendingRows);
      this.storeMetrics.rowsStored.inc(head.rows);
      this.totals.storedRows += head.rows;
      delay = this.o.retryMs ?? 200;
    }
  }

  private drop(reason: StoreDropReason, from: number): void {
    for (const b of this.pending.splice(from)) {
      this.pendingRows -= b.rows;
      this.storeMetrics.rowsDropped.inc({ reason }, b.rows);
    }
    this.storeMetrics.pendingRows.set(this.pendingRows);
  }

  private flowCounter(protocol: string): { inc(n: number): void } {
    let c = this.flowChildren.get(protocol);
    if (!c) {
      c = this.metrics.flows.labels({ protocol });
      this.flowChildren.set(protocol, c);
    }
    return c;
  }

  /** At most one warning a second: a broken exporter or store must not flood the log. */
  private warn(msg: string, fields: Record<string, unknown>): void {
    const now = Date.now();
    if (now - this.lastWarnAt < 1000) return;
    this.lastWarnAt = now;
    this.logger.warn(msg, fields);
  }
}
