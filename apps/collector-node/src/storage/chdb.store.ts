import { existsSync, mkdirSync, readdirSync, unlinkSync } from 'node:fs';
import { unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as chdb from 'chdb';
import { Session } from 'chdb';
import type { FlowBatch } from '@flowmesh/flow-decoder';
import { Health, Logger } from '@flowmesh/common';
import { CommittedIds } from './committed-ids';
import { applyRetention, RetentionResult } from './retention';
import { badBatch, clickHouseFormat } from './batch-encoding';
import { DATABASE, migrate, RAW_COLUMNS, serverFeatures, ServerFeatures, serverVersion, SqlRunner } from './schema';
import { batchIdLiteral, EncodedBatch, FlowStore, isBatchId, TabularResult } from './storage';
import { RetentionConfig } from './storage.config';
import { StorageMetrics } from './storage.metrics';
import { parseTabSeparated } from './tab-separated';

export interface ChdbStoreOptions {
  /** The engine's data directory (one per process; chDB refuses a second one). */
  path: string;
  memoryLimitBytes: number;
  /** Prefix of this store's temporary insert files; unique per data directory (the pid follows it). */
  filePrefix: string;
  retention?: RetentionConfig;
  logger: Logger;
  metrics?: StorageMetrics;
}

const INSERT_COLUMNS = RAW_COLUMNS.map((c) => c.name).join(', ');

/** chDB 3.4's low-level Arrow C data binding (the typed registerArrowTable({session}) helper is broken in 3.4.0). */
interface ArrowColumn {
  name: string;
  format: string;
  length: number;
  nullCount: number;
  buffers: (Buffer | null)[];
}
const arrow = chdb as unknown as {
  _arrowRegisterColumns(connection: unknown, name: string, columns: ArrowColumn[]): void;
  _arrowUnregister(connection: unknown, name: string): void;
};
const ARROW_FORMAT: Record<string, string> = { Float64Array: 'g', Uint32Array: 'I', Uint16Array: 'S', Uint8Array: 'C' };
const MS_COLUMNS = new Set(['time_received', 'flow_start', 'flow_end']);
const DOUBLE_U64_COLUMNS = new Set(['bytes', 'packets', 'src_mac', 'dst_mac']);
const DEFAULT_RETENTION: RetentionConfig = { rawDays: 30, minuteDays: 180, hourDays: 730 };

/** RowBinary files go to tmpfs when there is one: the bytes never touch a disk before the INSERT reads them. */
export function insertFileDir(): string {
  return existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
}

/**
 * Embedded ClickHouse (chDB 3.4, ClickHouse 26.x). Every call goes through `Session.queryAsync`, which
 * runs on a libuv worker thread: the event loop keeps receiving UDP while a batch is inserted (main.ts
 * raises UV_THREADPOOL_SIZE because of that). Inserts are batch files (Native blocks, or RowBinary) on
 * tmpfs read by `INSERT … FROM INFILE` — 2–2.5× faster than session.insert with text formats, and the
 * addon's raw insert corrupts binary formats. Each INSERT is atomic (one block) and survives kill -9.
 */
export class ChdbStore implements FlowStore, SqlRunner {
  readonly name = 'storage';
  readonly kind = 'chdb' as const;
  readonly database = DATABASE;
  features?: ServerFeatures;
  private session?: Session;
  private readonly fileDir = insertFileDir();
  private seq = 0;
  private lastError?: string;
  private inFlight = 0;
  private readonly recent = new CommittedIds();

  constructor(private readonly o: ChdbStoreOptions) {}

  async start(): Promise<void> {
    const path = resolve(this.o.path);
    mkdirSync(path, { recursive: true });
    this.removeStaleFiles();
    this.session = new Session(path, { connectionArgs: [`--max_server_memory_usage=${this.o.memoryLimitBytes}`] });
    this.features = serverFeatures(await serverVersion(this));
    const applied = await migrate(this, this.database, this.features);
    const retention = await this.applyRetention();
    this.o.logger.info('store open', {
      engine: 'chdb',
      version: this.features.version,
      path,
      insertFiles: this.fileDir,
      memoryLimitBytes: this.o.memoryLimitBytes,
      migrationsApplied: applied,
      retention: retention.mode,
    });
  }

  async stop(graceMs = 10_000): Promise<void> {
    const until = Date.now() + graceMs;
    while (this.inFlight > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    this.session?.close();
    this.session = undefined;
  }

  health(): Health {
    if (!this.session) return { status: 'error', reason: 'store not open' };
    if (this.lastError) return { status: 'error', reason: `last write failed: ${this.lastError}` };
    return { status: 'ok' };
  }

  async insert(batch: EncodedBatch): Promise<void> {
    const bad = badBatch(batch);
    if (bad) throw new Error(`refused batch: ${bad}`);
    const file = join(this.fileDir, `${this.o.filePrefix}${process.pid}-${++this.seq}.batch`);
    this.inFlight++;
    try {
      await writeFile(file, batch.data);
      await this.run(`INSERT INTO ${this.database}.flows (${INSERT_COLUMNS}) FROM INFILE '${file.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}' FORMAT ${clickHouseFormat(batch.format)}`);
      this.recent.add(batch.id);
      this.lastError = undefined;
    } catch (e) {
      this.lastError = (e as Error).message.split('\n')[0].slice(0, 300);
      throw e;
    } finally {
      this.inFlight--;
      await unlink(file).catch(() => undefined);
    }
  }

  /**
   * Experimental Arrow path (not used by the pipeline, whose spool holds RowBinary): the FlowBatch's typed
   * arrays are handed to the engine as Arrow C data without a copy and read by `INSERT … SELECT … FROM
   * arrowstream(…)`. About half the CPU of RowBinary + FROM INFILE (storage/README.md). Columns arrive
   * Nullable, hence assumeNotNull; times are ms doubles, counters and MACs doubles.
   */
  async insertArrow(batch: FlowBatch, batchId: string): Promise<void> {
    if (!this.session) throw new Error('store not open');
    const id = batchIdLiteral(batchId);
    const n = batch.length;
    const name = `flowmesh_in_${process.pid}_${++this.seq}`;
    const cols: ArrowColumn[] = [];
    const exprs: string[] = [];
    for (const c of RAW_COLUMNS) {
      if (c.name === 'batch_id') continue;
      const data = (batch as unknown as Record<string, Float64Array | Uint32Array | Uint16Array | Uint8Array>)[c.name];
      const fixed = c.type === 'FixedString(16)';
      const bytes = fixed ? Buffer.from(data.buffer, data.byteOffset, n * 16) : Buffer.from(data.buffer, data.byteOffset, n * data.BYTES_PER_ELEMENT);
      cols.push({ name: c.name, format: fixed ? 'w:16' : ARROW_FORMAT[data.constructor.name], length: n, nullCount: 0, buffers: [null, bytes] });
      exprs.push(
        MS_COLUMNS.has(c.name)
          ? `toDateTime(toUInt32(greatest(least(intDiv(assumeNotNull(${c.name}), 1000), 4294967295), 0)))`
          : DOUBLE_U64_COLUMNS.has(c.name)
            ? `toUInt64(greatest(assumeNotNull(${c.name}), 0))`
            : `assumeNotNull(${c.name})`,
      );
    }
    this.inFlight++;
    arrow._arrowRegisterColumns(this.session.connection, name, cols);
    try {
      await this.run(`INSERT INTO ${this.database}.flows (${INSERT_COLUMNS}) SELECT ${exprs.join(', ')}, ${id} FROM arrowstream('${name}')`);
      this.recent.add(batchId);
      this.lastError = undefined;
    } catch (e) {
      this.lastError = (e as Error).message.split('\n')[0].slice(0, 300);
      throw e;
    } finally {
      arrow._arrowUnregister(this.session?.connection, name);
      this.inFlight--;
    }
  }

  async committed(batchId: string): Promise<boolean> {
    if (!isBatchId(batchId)) return false; // insert() never stores such an id
    if (this.recent.has(batchId)) return true;
    const r = await this.select(`SELECT count() FROM ${this.database}.flows WHERE batch_id = ${batchIdLiteral(batchId)}`);
    const found = Number(r.rows[0]?.[0] ?? 0) > 0;
    if (found) this.recent.add(batchId);
    return found;
  }

  /**
   * TabSeparated rather than JSON: chDB 3.4 garbles JSON output of an empty result WITH TOTALS (it
   * writes the totals before the header), and TSV reads the same on ClickHouse 18.16.
   */
  async select(sql: string): Promise<TabularResult> {
    if (!this.session) throw new Error('store not open');
    return parseTabSeparated((await this.session.queryAsync(sql, { format: 'TabSeparated' })).text());
  }

  /** Sets the tables' TTL from the retention config (chDB has TTL: nothing to drop by hand). */
  applyRetention(nowMs = Date.now()): Promise<RetentionResult> {
    if (!this.features) throw new Error('store not open');
    return applyRetention(this, this.database, this.features, this.o.retention ?? DEFAULT_RETENTION, nowMs);
  }

  /** SqlRunner for the migrations. */
  async exec(sql: string): Promise<void> {
    await this.run(sql);
  }

  private async run(sql: string): Promise<void> {
    if (!this.session) throw new Error('store not open');
    await this.session.queryAsync(sql);
  }

  /** Files a crashed predecessor left behind: the spool still holds their batches, so they go. */
  private removeStaleFiles(): void {
    let removed = 0;
    for (const f of readdirSync(this.fileDir)) {
      if (!f.startsWith(this.o.filePrefix) || !(f.endsWith('.batch') || f.endsWith('.rowbinary'))) continue;
      const pid = Number(f.slice(this.o.filePrefix.length).split('-')[0]);
      if (pid !== process.pid && pidAlive(pid)) continue;
      try {
        unlinkSync(join(this.fileDir, f));
        removed++;
      } catch {
        /* another user's file or already gone */
      }
    }
    if (removed) this.o.logger.warn('removed stale insert files of an earlier run', { dir: this.fileDir, files: removed });
  }
}

function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
