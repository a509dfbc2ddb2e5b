import { Readable } from 'node:stream';
import { ClickHouseClient, createClient } from '@clickhouse/client';
import { Health, Logger } from '@flowmesh/common';
import { badBatch, clickHouseFormat } from './batch-encoding';
import { CommittedIds } from './committed-ids';
import { applyRetention, RetentionResult } from './retention';
import { migrate, RAW_COLUMNS, serverFeatures, ServerFeatures, serverVersion, SqlRunner } from './schema';
import { batchIdLiteral, EncodedBatch, FlowStore, isBatchId, TabularResult } from './storage';
import { ClickHouseConfig, RetentionConfig } from './storage.config';
import { StorageMetrics } from './storage.metrics';
import { parseTabSeparated } from './tab-separated';

export interface ClickHouseStoreOptions {
  server: ClickHouseConfig;
  retention: RetentionConfig;
  logger: Logger;
  metrics?: StorageMetrics;
  /** How often a server without TTL (18.16) gets its old partitions dropped. */
  retentionEveryMs?: number;
  /** How often health() re-checks a server that failed (so it recovers without a write). */
  pingEveryMs?: number;
}

const INSERT_COLUMNS = RAW_COLUMNS.map((c) => c.name).join(', ');
const SNAPSHOT_MS = 60_000;

/**
 * A ClickHouse server (18.16 and newer) over HTTP through @clickhouse/client, or one shard of a cluster
 * (its own URL + database; Distributed tables over the shards are for cluster-wide reads, see
 * deploy/clickhouse/). Inserts are binary bodies (a Native block by default, or RowBinary rows:
 * storage.insertFormat) streamed by `client.exec` (the client's insert() refuses both); selects are TabSeparated (18.16 quotes UInt64 in JSON, TSV reads the same
 * everywhere). The schema is migrated on start, or on the first write when the server was down then.
 */
export class ClickHouseStore implements FlowStore, SqlRunner {
  readonly name = 'storage';
  readonly kind = 'clickhouse' as const;
  readonly database: string;
  features?: ServerFeatures;
  private client?: ClickHouseClient;
  private preparing?: Promise<void>;
  private prepared = false;
  private lastError?: string;
  private inFlight = 0;
  private retentionTimer?: NodeJS.Timeout;
  private pingTimer?: NodeJS.Timeout;
  private readonly recent = new CommittedIds();
  /** 18.16: committed ids per incarnation (high 32 bits of the id, as 8 hex digits), from one scan. */
  private readonly snapshots = new Map<string, { at: number; ids: Set<string> }>();
  /** Ids whose INSERT failed, and when (bounded): a later snapshot must be newer than the failure. */
  private readonly failedInserts = new Map<string, number>();
  /** Full batch_id scans made by committed() (18.16), for tests and logs. */
  scans = 0;

  constructor(private readonly o: ClickHouseStoreOptions) {
    this.database = o.server.database;
  }

  async start(): Promise<void> {
    const s = this.o.server;
    this.client = createClient({
      url: s.url,
      username: s.username,
      password: s.password,
      request_timeout: s.requestTimeoutMs,
      compression: { request: false, response: false },
      // Explicit on every server: 18.16 quotes 64-bit integers in JSON by default, newer ones do not.
      clickhouse_settings: { output_format_json_quote_64bit_integers: 1 },
      keep_alive: { enabled: true },
    });
    try {
      await this.prepare();
    } catch (e) {
      // The spool holds the batches until the server answers; the first write migrates then.
      this.o.logger.warn('ClickHouse server not ready; will retry on the next write', { url: s.url, error: this.lastError ?? (e as Error).message });
    }
    const every = this.o.pingEveryMs ?? 5000;
    this.pingTimer = setInterval(() => void this.ping(), every);
    this.pingTimer.unref();
  }

  async stop(graceMs = 10_000): Promise<void> {
    clearInterval(this.retentionTimer);
    clearInterval(this.pingTimer);
    const until = Date.now() + graceMs;
    while (this.inFlight > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    await this.client?.close();
    this.client = undefined;
    this.prepared = false;
  }

  health(): Health {
    if (!this.client) return { status: 'error', reason: 'store not open' };
    if (this.lastError) return { status: 'error', reason: `ClickHouse ${this.o.server.url}: ${this.lastError}` };
    if (!this.prepared) return { status: 'error', reason: `ClickHouse ${this.o.server.url}: schema not migrated yet` };
    return { status: 'ok' };
  }

  async insert(batch: EncodedBatch): Promise<void> {
    const bad = badBatch(batch);
    if (bad) throw new Error(`refused batch: ${bad}`);
    this.inFlight++;
    try {
      await this.prepare();
      const r = await this.open().exec({
        query: `INSERT INTO ${this.database}.flows (${INSERT_COLUMNS}) FORMAT ${clickHouseFormat(batch.format)}`,
        values: Readable.from([batch.data], { objectMode: false }),
      });
      await drain(r.stream);
      this.recent.add(batch.id);
      this.lastError = undefined;
    } catch (e) {
      this.failedInserts.delete(batch.id);
      this.failedInserts.set(batch.id, Date.now());
      if (this.failedInserts.size > 65_536) this.failedInserts.delete(this.failedInserts.keys().next().value as string);
      throw this.failed(e);
    } finally {
      this.inFlight--;
    }
  }

  /**
   * Whether the batch's rows are in `flows`. ORDER BY does not hold batch_id: newer servers skip granules
   * by the minmax index (migration 5) and get one count per call. 18.16 would read the whole batch_id
   * column (8 bytes a row) per call, and a replay asks once per spooled batch, so there one scan lists
   * every committed id of the batch's incarnation (its high 32 bits; a replay walks one incarnation in
   * order) and later calls are answered from that snapshot while it is fresh. A "no" from a snapshot is
   * trusted only if the snapshot is younger than SNAPSHOT_MS and was taken after this store's last failed
   * INSERT of that id (whose outcome the client never learnt). Batches this process committed are
   * answered from memory.
   */
  async committed(batchId: string): Promise<boolean> {
    if (!isBatchId(batchId)) return false;
    if (this.recent.has(batchId)) return true;
    await this.prepare().catch((e: unknown) => Promise.reject(this.failed(e)));
    const literal = batchIdLiteral(batchId);
    if (this.features?.skipIndexes) {
      const r = await this.select(`SELECT count() FROM ${this.database}.flows WHERE batch_id = ${literal}`);
      const found = Number(r.rows[0]?.[0] ?? 0) > 0;
      if (found) this.recent.add(batchId);
      return found;
    }
    const incarnation = batchId.slice(0, 8);
    let snap = this.snapshots.get(incarnation);
    const failedAt = this.failedInserts.get(batchId) ?? -1;
    if (!snap || Date.now() - snap.at > SNAPSHOT_MS || snap.at <= failedAt) {
      const lo = BigInt(`0x${incarnation}00000000`);
      const at = Date.now();
      this.scans++;
      const r = await this.select(`SELECT DISTINCT batch_id FROM ${this.database}.flows WHERE batch_id >= ${lo} AND batch_id <= ${lo + 0xffffffffn}`);
      snap = { at, ids: new Set(r.rows.map((row) => BigInt(row[0]).toString(16).padStart(16, '0'))) };
      this.snapshots.set(incarnation, snap);
      if (this.snapshots.size > 16) this.snapshots.delete(this.snapshots.keys().next().value as string);
    }
    const found = snap.ids.has(batchId);
    if (found) this.recent.add(batchId);
    return found;
  }

  async select(sql: string): Promise<TabularResult> {
    try {
      const rs = await this.open().query({ query: sql, format: 'TabSeparated' });
      const out = parseTabSeparated(await rs.text());
      this.lastError = undefined;
      return out;
    } catch (e) {
      throw this.failed(e);
    }
  }

  async exec(sql: string): Promise<void> {
    try {
      await this.open().command({ query: sql });
    } catch (e) {
      throw this.failed(e);
    }
  }

  /** TTL on servers that have it; otherwise drops the partitions past the retention (also on a timer). */
  async applyRetention(nowMs = Date.now()): Promise<RetentionResult> {
    await this.prepare();
    return applyRetention(this, this.database, this.features as ServerFeatures, this.o.retention, nowMs);
  }

  /** Version check, migrations, retention; once per open store (concurrent callers share one attempt). */
  private prepare(): Promise<void> {
    if (this.prepared) return Promise.resolve();
    this.preparing ??= (async () => {
      const features = serverFeatures(await serverVersion(this));
      const applied = await migrate(this, this.database, features);
      this.features = features;
      const retention = await applyRetention(this, this.database, features, this.o.retention);
      if (retention.mode === 'partitions' && !this.retentionTimer) {
        this.retentionTimer = setInterval(() => void this.retentionTick(), this.o.retentionEveryMs ?? 3_600_000);
        this.retentionTimer.unref();
      }
      this.o.metrics?.retentionDrops.inc(retention.mode === 'partitions' ? retention.changed.length : 0);
      this.prepared = true;
      this.o.logger.info('store open', { engine: 'clickhouse', url: this.o.server.url, database: this.database, version: features.version, migrationsApplied: applied, retention: retention.mode, dropped: retention.changed });
    })().finally(() => (this.preparing = undefined));
    return this.preparing;
  }

  private async retentionTick(): Promise<void> {
    try {
      const r = await this.applyRetention();
      if (r.changed.length) this.o.logger.info('retention: dropped partitions', { statements: r.changed });
      this.o.metrics?.retentionDrops.inc(r.changed.length);
    } catch (e) {
      this.o.logger.warn('retention failed; next try in an hour', { error: (e as Error).message.split('\n')[0] });
    }
  }

  private async ping(): Promise<void> {
    if (!this.client || this.inFlight > 0) return;
    const r = await this.client.ping();
    if (r.success) {
      if (this.lastError) this.o.logger.info('ClickHouse server reachable again', { url: this.o.server.url });
      this.lastError = undefined;
      if (!this.prepared) await this.prepare().catch(() => undefined);
    } else {
      this.lastError = `unreachable: ${r.error.message.split('\n')[0].slice(0, 300)}`;
    }
  }

  private open(): ClickHouseClient {
    if (!this.client) throw new Error('store not open');
    return this.client;
  }

  private failed(e: unknown): Error {
    const err = e instanceof Error ? e : new Error(String(e));
    this.lastError = err.message.split('\n')[0].slice(0, 300);
    return err;
  }
}

/** Reads a response body to its end (the connection goes back to the pool only then). */
function drain(stream: NodeJS.ReadableStream): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.on('error', reject);
    stream.on('end', resolve);
    stream.resume();
  });
}
