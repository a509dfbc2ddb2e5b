import { existsSync, mkdirSync, readdirSync, unlinkSync } from 'node:fs';
import { unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Session } from 'chdb';
import { Health, Logger } from '@flowmesh/common';
import { FLOW_COLUMNS, FLOWS_TABLE, migrate, SqlRunner } from './schema';
import { EncodedBatch, FlowStore, TabularResult } from './storage';
import { parseTabSeparated } from './tab-separated';

export interface ChdbStoreOptions {
  /** The engine's data directory (one per process; chDB refuses a second one). */
  path: string;
  memoryLimitBytes: number;
  /** Prefix of this store's temporary insert files; unique per data directory (the pid follows it). */
  filePrefix: string;
  logger: Logger;
}

const INSERT_COLUMNS = FLOW_COLUMNS.map((c) => c.name).join(', ');

/** RowBinary files go to tmpfs when there is one: the bytes never touch a disk before the INSERT reads them. */
export function insertFileDir(): string {
  return existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
}

/**
 * Embedded ClickHouse (chDB 3.4). Every call goes through `Session.queryAsync`, which runs on a libuv
 * worker thread: the event loop keeps receiving UDP while a batch is inserted (main.ts raises
 * UV_THREADPOOL_SIZE because of that). Inserts are RowBinary files on tmpfs read by
 * `INSERT … FROM INFILE` — 2–2.5× faster than session.insert with text formats, and the addon's raw
 * insert corrupts binary formats.
 */
export class ChdbStore implements FlowStore, SqlRunner {
  readonly name = 'storage';
  private session?: Session;
  private readonly fileDir = insertFileDir();
  private seq = 0;
  private lastError?: string;
  private inFlight = 0;

  constructor(private readonly o: ChdbStoreOptions) {}

  async start(): Promise<void> {
    const path = resolve(this.o.path);
    mkdirSync(path, { recursive: true });
    this.removeStaleFiles();
    this.session = new Session(path, { connectionArgs: [`--max_server_memory_usage=${this.o.memoryLimitBytes}`] });
    const applied = await migrate(this);
    this.o.logger.info('store open', { engine: 'chdb', path, insertFiles: this.fileDir, memoryLimitBytes: this.o.memoryLimitBytes, migrationsApplied: applied });
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
    const file = join(this.fileDir, `${this.o.filePrefix}${process.pid}-${++this.seq}.rowbinary`);
    this.inFlight++;
    try {
      await writeFile(file, batch.data);
      await this.run(`INSERT INTO ${FLOWS_TABLE} (${INSERT_COLUMNS}) FROM INFILE '${file.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}' FORMAT RowBinary`);
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
   * TabSeparated rather than JSON: chDB 3.4 garbles JSON output of an empty result WITH TOTALS (it
   * writes the totals before the header), and TSV reads the same on ClickHouse 18.16.
   */
  async select(sql: string): Promise<TabularResult> {
    if (!this.session) throw new Error('store not open');
    return parseTabSeparated((await this.session.queryAsync(sql, { format: 'TabSeparated' })).text());
  }

  /** SqlRunner for the migrations. */
  async exec(sql: string): Promise<void> {
    await this.run(sql);
  }

  private async run(sql: string): Promise<void> {
    if (!this.session) throw new Error('store not open');
    await this.session.queryAsync(sql);
  }

  /** Files a crashed predecessor left behind: their rows were never committed (no spool yet), so they go. */
  private removeStaleFiles(): void {
    let removed = 0;
    for (const f of readdirSync(this.fileDir)) {
      if (!f.startsWith(this.o.filePrefix) || !f.endsWith('.rowbinary')) continue;
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
