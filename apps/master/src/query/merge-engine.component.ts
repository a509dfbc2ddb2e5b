import { Injectable } from '@nestjs/common';
import { accessSync, constants, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Session } from 'chdb';
import { Component, Health, Logger } from '@flowmesh/common';
import { MasterConfig } from '../config/master.config';
import { OrderMetric } from './dimensions';
import { buildMergeSql } from './merge-sql';
import { CountersDto, TopRowDto } from './query-response.dto';
import { AggregateResponse } from './aggregate-client';

export interface MergeResult {
  totals: CountersDto;
  top: TopRowDto[];
  other: CountersDto;
}

interface MergedRow {
  kind: 'top' | 'totals' | 'other';
  rank: number;
  key: string;
  bytes: number;
  packets: number;
  flows: number;
}

/** The engine gets at most this much memory per merge (chDB would otherwise allow most of the machine). */
const MERGE_MAX_MEMORY_BYTES = 2 * 1024 ** 3;
const WRITE_CHUNK_ROWS = 10_000;

/** tmpfs when there is one: the partials are written once and read once. */
function tmpRoot(): string {
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return tmpdir();
  }
}

/**
 * Merges nodes' partial aggregates with ClickHouse (embedded chDB): the partials are written to a
 * tmpfs file and read back with file(), so no node-supplied text is ever part of the SQL.
 */
@Injectable()
export class MergeEngine implements Component {
  readonly name = 'merge-engine';
  private session?: Session;
  private workDir?: string;
  private seq = 0;
  private lastError?: string;
  private readonly log = new Logger('master.merge-engine');

  constructor(private readonly config: MasterConfig) {}

  async start(): Promise<void> {
    const dbDir = resolve(this.config.dataDir, 'master', 'chdb');
    mkdirSync(dbDir, { recursive: true });
    this.session = new Session(dbDir);
    this.workDir = mkdtempSync(join(tmpRoot(), `flowmesh-master-${process.pid}-`));
    await this.session.queryAsync('SELECT 1', { format: 'CSV' });
    this.log.info('merge engine ready', { dbDir, workDir: this.workDir });
  }

  async stop(): Promise<void> {
    this.session?.close();
    this.session = undefined;
    if (this.workDir) rmSync(this.workDir, { recursive: true, force: true });
    this.workDir = undefined;
  }

  health(): Health {
    if (!this.session?.open) return { status: 'error', reason: 'chDB session is not open' };
    if (this.lastError) return { status: 'warning', reason: `last merge failed: ${this.lastError}` };
    return { status: 'ok' };
  }

  /**
   * Writes `lines` (JSONCompactEachRow, one partial row each) to a tmpfs file and runs the SQL that
   * `buildSql(file)` makes over it; returns the rows as JSON objects (JSONEachRow).
   */
  async mergeLines(lines: string[], buildSql: (file: string) => string, timeoutMs: number): Promise<Array<Record<string, unknown>>> {
    if (!this.session || !this.workDir) throw new Error('merge engine is not started');
    const file = join(this.workDir, `q${++this.seq}-partials.jsonl`);
    try {
      const h = await open(file, 'w');
      try {
        for (let i = 0; i < lines.length; i += WRITE_CHUNK_ROWS) await h.write(lines.slice(i, i + WRITE_CHUNK_ROWS).join('\n') + '\n');
      } finally {
        await h.close();
      }
      const res = await this.session.queryAsync(buildSql(file), { format: 'JSONEachRow', timeout: timeoutMs });
      this.lastError = undefined;
      return res.text().split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as Record<string, unknown>);
    } catch (e) {
      this.lastError = (e as Error).message.slice(0, 300);
      throw e;
    } finally {
      await rm(file, { force: true });
    }
  }

  /** Runs SQL on the engine's own session (tests use it to build stores beside the merge). */
  async run(sql: string, format = 'JSONEachRow'): Promise<string> {
    if (!this.session) throw new Error('merge engine is not started');
    return (await this.session.queryAsync(sql, { format })).text();
  }

  async merge(partials: AggregateResponse[], orderBy: OrderMetric, top: number, timeoutMs: number): Promise<MergeResult> {
    if (!this.session || !this.workDir) throw new Error('merge engine is not started');
    const n = ++this.seq;
    const groupsFile = join(this.workDir, `q${n}-groups.jsonl`);
    const totalsFile = join(this.workDir, `q${n}-totals.jsonl`);
    try {
      await writePartials(groupsFile, totalsFile, partials);
      const sql = buildMergeSql({
        groupsFile,
        totalsFile,
        orderBy,
        top,
        maxExecutionSeconds: Math.max(1, Math.ceil(timeoutMs / 1000)),
        maxMemoryBytes: MERGE_MAX_MEMORY_BYTES,
      });
      const res = await this.session.queryAsync(sql, { format: 'JSONEachRow', timeout: timeoutMs });
      const rows = parseRows(res.text());
      this.lastError = undefined;
      const pick = (r: MergedRow | undefined): CountersDto => ({ bytes: r?.bytes ?? 0, packets: r?.packets ?? 0, flows: r?.flows ?? 0 });
      return {
        top: rows.filter((r) => r.kind === 'top').map((r) => ({ key: r.key, bytes: r.bytes, packets: r.packets, flows: r.flows })),
        totals: pick(rows.find((r) => r.kind === 'totals')),
        other: pick(rows.find((r) => r.kind === 'other')),
      };
    } catch (e) {
      this.lastError = (e as Error).message.slice(0, 300);
      throw e;
    } finally {
      await Promise.all([rm(groupsFile, { force: true }), rm(totalsFile, { force: true })]);
    }
  }
}

function parseRows(text: string): MergedRow[] {
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as MergedRow);
}

async function writePartials(groupsFile: string, totalsFile: string, partials: AggregateResponse[]): Promise<void> {
  const g = await open(groupsFile, 'w');
  try {
    for (const p of partials) {
      for (let i = 0; i < p.groups.length; i += WRITE_CHUNK_ROWS) {
        let chunk = '';
        for (const row of p.groups.slice(i, i + WRITE_CHUNK_ROWS)) {
          chunk += JSON.stringify([row.key, row.bytes, row.packets, row.flows]) + '\n';
        }
        await g.write(chunk);
      }
    }
  } finally {
    await g.close();
  }
  const t = await open(totalsFile, 'w');
  try {
    let text = '';
    for (const p of partials) text += JSON.stringify([p.totals.bytes, p.totals.packets, p.totals.flows]) + '\n';
    await t.write(text);
  } finally {
    await t.close();
  }
}
