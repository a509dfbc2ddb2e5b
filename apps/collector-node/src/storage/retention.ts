import type { RetentionConfig } from './storage.config';
import { ServerFeatures, SqlRunner } from './schema';

/** Each table, its time column and how many days it keeps. */
export function retentionTargets(r: RetentionConfig): { table: string; column: string; days: number }[] {
  return [
    { table: 'flows', column: 'time_received', days: r.rawDays },
    { table: 'flows_1m', column: 'ts', days: r.minuteDays },
    { table: 'flows_1h', column: 'ts', days: r.hourDays },
    { table: 'flows_src_1h', column: 'ts', days: r.hourDays },
    { table: 'flows_dst_1h', column: 'ts', days: r.hourDays },
  ];
}

const DAY_MS = 86_400_000;

/**
 * The partitions (toYYYYMMDD or toYYYYMM values) wholly older than `days` before `nowMs`. A partition's
 * end is the end of its last day; one day of margin covers a server time zone other than UTC, so a table
 * always keeps at least `days` days.
 */
export function expiredPartitions(partitions: readonly string[], days: number, nowMs: number): string[] {
  const cutoff = nowMs - days * DAY_MS;
  return partitions.filter((p) => {
    let end: number;
    if (/^\d{8}$/.test(p)) end = Date.UTC(+p.slice(0, 4), +p.slice(4, 6) - 1, +p.slice(6, 8) + 1);
    else if (/^\d{6}$/.test(p)) end = Date.UTC(+p.slice(0, 4), +p.slice(4, 6), 1);
    else return false; // not a partition this schema makes: leave it alone
    return end + DAY_MS <= cutoff;
  });
}

export interface RetentionResult {
  /** 'ttl' on servers with TTL (statements run only when a table's TTL differs), 'partitions' otherwise. */
  mode: 'ttl' | 'partitions';
  /** ALTER statements run now. */
  changed: string[];
}

/**
 * Enforces the retention config. TTL servers: sets `TTL <col> + INTERVAL n DAY` on each table when it
 * differs (a MODIFY TTL rewrites nothing with ttl_only_drop_parts). 18.16: drops the partitions older than
 * the retention (partitioned by day: toYYYYMMDD, hourly rollup by month); the store runs this on a timer.
 */
export async function applyRetention(db: SqlRunner, database: string, f: ServerFeatures, r: RetentionConfig, nowMs = Date.now()): Promise<RetentionResult> {
  const changed: string[] = [];
  const targets = retentionTargets(r);
  const names = targets.map((t) => `'${t.table}'`).join(', ');
  if (f.ttl) {
    const rows = (await db.select(`SELECT name, create_table_query FROM system.tables WHERE database = '${database}' AND name IN (${names})`)).rows;
    const ddl = new Map(rows.map(([n, q]) => [n, q]));
    for (const t of targets) {
      const have = ddl.get(t.table);
      if (have === undefined || have.includes(`TTL ${t.column} + toIntervalDay(${t.days})`)) continue;
      const sql = `ALTER TABLE ${database}.${t.table} MODIFY TTL ${t.column} + toIntervalDay(${t.days})`;
      await db.exec(sql);
      changed.push(sql);
    }
    return { mode: 'ttl', changed };
  }
  const parts = (await db.select(`SELECT DISTINCT table, partition FROM system.parts WHERE database = '${database}' AND active AND table IN (${names})`)).rows;
  for (const t of targets) {
    const mine = parts.filter(([table]) => table === t.table).map(([, p]) => p.replace(/^'|'$/g, ''));
    for (const p of expiredPartitions(mine, t.days, nowMs)) {
      const sql = `ALTER TABLE ${database}.${t.table} DROP PARTITION ${p}`;
      await db.exec(sql);
      changed.push(sql);
    }
  }
  return { mode: 'partitions', changed };
}
