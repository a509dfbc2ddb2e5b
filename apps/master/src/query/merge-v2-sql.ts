import { cellKind, distinctFieldOf, LISTING_COLUMNS, QueryMetric, SortField } from '@flowmesh/flow-query';
import { sqlPath } from './merge-sql';

/** Settings of every merge: JIT off (see merge-sql.ts), bounded time, memory and threads. */
export function mergeSettings(maxExecutionSeconds: number, maxMemoryBytes: number): string {
  return (
    `SETTINGS output_format_json_quote_64bit_integers = 0, compile_expressions = 0, compile_aggregate_expressions = 0, ` +
    `compile_sort_description = 0, max_execution_time = ${Math.max(1, Math.ceil(maxExecutionSeconds))}, max_memory_usage = ${Math.floor(maxMemoryBytes)}, max_threads = 2`
  );
}

function colType(c: string): string {
  const k = cellKind(c);
  return k === 'num' ? (c === 't' ? 'UInt32' : 'UInt64') : 'String';
}

/** file() over a JSONCompactEachRow file of partial rows (columns as partialColumns()). */
function source(file: string, columns: string[]): string {
  return `file(${sqlPath(file)}, 'JSONCompactEachRow', '${columns.map((c) => `${c} ${colType(c)}`).join(', ')}')`;
}

export interface AggregateMergeInput {
  file: string;
  columns: string[];
  groupBy: string[];
  distinct: string[];
  metrics: QueryMetric[];
  orderBy: QueryMetric;
  top: number;
  /** Range length for bps/pps. */
  seconds: number;
  settings: string;
}

function rankExpr(m: QueryMetric): string {
  const d = distinctFieldOf(m);
  if (d) return `length(s_${d})`;
  return m === 'bps' || m === 'bytes' ? 'mb' : m === 'pps' || m === 'packets' ? 'mp' : 'mf';
}

/** Metric columns over rows that already hold merged sums and sets (per group). */
function rowMetrics(i: { metrics: QueryMetric[]; seconds: number }, agg: boolean): string[] {
  const col: Record<string, string> = { bytes: 'mb', packets: 'mp', flows: 'mf' };
  const s = (c: string) => (agg ? `sum(${col[c]})` : col[c]);
  return i.metrics.map((m) => {
    const d = distinctFieldOf(m);
    if (d) return `${agg ? `length(groupUniqArrayArray(s_${d}))` : `length(s_${d})`} AS ${m}`;
    if (m === 'bps') return `${s('bytes')} * 8 / ${i.seconds} AS bps`;
    if (m === 'pps') return `${s('packets')} / ${i.seconds} AS pps`;
    return `${s(m)} AS ${m}`;
  });
}

function mergedCte(i: { file: string; columns: string[]; distinct: string[] }, keys: string[]): string {
  const sets = i.distinct.map((d) => `arrayFilter(x -> x != '', groupUniqArrayArray(splitByChar(',', d_${d}))) AS s_${d}`);
  return (
    `SELECT ${[...keys, 'sum(bytes) AS mb', 'sum(packets) AS mp', 'sum(flows) AS mf', ...sets].join(', ')} ` +
    `FROM ${source(i.file, i.columns)}` + (keys.length ? ` GROUP BY ${keys.join(', ')}` : '')
  );
}

/**
 * Top-N with an `other` row and totals, in one pass over the merged groups: groups are summed per key
 * over all nodes (distinct values as sets, unioned) before ranking, so the answer equals one store's.
 * Rows: r = 0 totals, r = 1 other, r = k + 1 the k-th top group.
 */
export function buildAggregateMergeSql(i: AggregateMergeInput): string {
  const keys = i.groupBy.map((g) => `g_${g}`);
  if (keys.length === 0) {
    return `SELECT 0 AS r, ${rowMetrics(i, false).join(', ')} FROM (${mergedCte(i, [])}) ${i.settings}`;
  }
  const order = [`${rankExpr(i.orderBy)} DESC`, ...keys.map((k) => `${k} ASC`)].join(', ');
  const keyOut = keys.map((k) => `if(r > 1, any(${k}), ${cellKind(k) === 'num' ? 'toUInt64(0)' : "''"}) AS ${k}`);
  return (
    `SELECT r, ${[...keyOut, ...rowMetrics(i, true)].join(', ')} FROM (` +
    `SELECT *, if(rank <= ${i.top}, rank + 1, 1) AS r FROM (SELECT *, row_number() OVER (ORDER BY ${order}) AS rank FROM (${mergedCte(i, keys)}))` +
    `) GROUP BY GROUPING SETS ((r), ()) ORDER BY r = 0, r = 1, r ${i.settings}`
  );
}

/**
 * A time series: per bucket, the top-N groups (ranked over the whole range) and `other`. Rows: t, r
 * (0 = other, k = the k-th group), keys, metrics; bps/pps per bucket second.
 */
export function buildSeriesMergeSql(i: AggregateMergeInput & { interval: number }): string {
  const keys = i.groupBy.map((g) => `g_${g}`);
  const perBucket = { metrics: i.metrics, seconds: i.interval };
  if (keys.length === 0) {
    return `SELECT t, 1 AS r, ${rowMetrics(perBucket, false).join(', ')} FROM (${mergedCte(i, ['t'])}) ORDER BY t ${i.settings}`;
  }
  const order = [`${rankExpr(i.orderBy)} DESC`, ...keys.map((k) => `${k} ASC`)].join(', ');
  const totals = `SELECT ${keys.join(', ')}, sum(m.mb) AS mb, sum(m.mp) AS mp, sum(m.mf) AS mf${i.distinct.map((d) => `, groupUniqArrayArray(m.s_${d}) AS s_${d}`).join('')} FROM merged AS m GROUP BY ${keys.join(', ')}`;
  const ranked = `SELECT ${keys.join(', ')}, row_number() OVER (ORDER BY ${order}) AS rank FROM (${totals})`;
  const keyOut = keys.map((k) => `if(r > 0, any(${k}), ${cellKind(k) === 'num' ? 'toUInt64(0)' : "''"}) AS ${k}`);
  return (
    `WITH merged AS (${mergedCte(i, ['t', ...keys])}) ` +
    `SELECT t, r, ${[...keyOut, ...rowMetrics(perBucket, true)].join(', ')} FROM (` +
    `SELECT m.*, if(k.rank <= ${i.top}, k.rank, 0) AS r FROM merged AS m INNER JOIN (${ranked}) AS k USING (${keys.join(', ')})` +
    `) GROUP BY t, r ORDER BY t, r = 0, r ${i.settings}`
  );
}

/** The first `limit` flows of all nodes' pages in the listing order (ties: node id). */
export function buildListingMergeSql(i: { file: string; sort: { field: SortField; desc: boolean }; limit: number; settings: string }): string {
  const sKind = cellKind(i.sort.field) === 'addr' ? 'String' : 'UInt64';
  const cols = ['node String', `s_ ${sKind}`, ...LISTING_COLUMNS.map((c) => `o_${c} ${colType(`o_${c}`)}`)];
  const order = [`s_${i.sort.desc ? ' DESC' : ''}`, ...LISTING_COLUMNS.map((c) => `o_${c}`), 'node'];
  return `SELECT * FROM file(${sqlPath(i.file)}, 'JSONCompactEachRow', '${cols.join(', ')}') ORDER BY ${order.join(', ')} LIMIT ${i.limit} ${i.settings}`;
}
