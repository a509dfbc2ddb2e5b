/**
 * The federated query vocabulary shared by the master and the collector nodes: dimensions, metrics,
 * intervals, the rollup planner, the node's partial-query contract (v2) and the SQL a node runs for it.
 * Pure: no framework, no I/O. Every identifier in the SQL comes from a fixed list below and every
 * literal from a validated number or 32 hex digits; user text never reaches SQL.
 */
import { FilterField, FilterNode, filterFields } from './filter-ast';
import { compileFilterToSql } from './filter-sql';

/** Dimensions a query may group by. */
export const QUERY_DIMENSIONS = [
  'src_addr', 'dst_addr', 'src_port', 'dst_port', 'protocol', 'exporter_addr', 'next_hop',
  'in_if', 'out_if', 'src_as', 'dst_as', 'tos', 'ip_version', 'flow_type', 'direction',
] as const;
export type QueryDimension = (typeof QUERY_DIMENSIONS)[number];
export const ADDRESS_DIMENSIONS: ReadonlySet<string> = new Set(['src_addr', 'dst_addr', 'exporter_addr', 'next_hop']);

/** Fields a query may count distinct values of (metric name `distinct_<field>`). */
export const DISTINCT_FIELDS = ['src_addr', 'dst_addr', 'src_port', 'dst_port', 'exporter_addr', 'src_as', 'dst_as', 'protocol'] as const;
export type DistinctField = (typeof DISTINCT_FIELDS)[number];

export const BASE_METRICS = ['bytes', 'packets', 'flows', 'bps', 'pps'] as const;
export const QUERY_METRICS = [...BASE_METRICS, ...DISTINCT_FIELDS.map((f) => `distinct_${f}` as const)] as const;
export type QueryMetric = (typeof QUERY_METRICS)[number];

export function distinctFieldOf(metric: QueryMetric): DistinctField | undefined {
  return metric.startsWith('distinct_') ? (metric.slice('distinct_'.length) as DistinctField) : undefined;
}

/** Time-series intervals (seconds); buckets are aligned to the epoch (UTC). */
export const QUERY_INTERVALS: Readonly<Record<string, number>> = {
  '1m': 60, '5m': 300, '10m': 600, '15m': 900, '30m': 1800, '1h': 3600, '3h': 10_800, '6h': 21_600, '12h': 43_200, '1d': 86_400,
};

/** Columns of the rollup tables flows_1m / flows_1h besides the bucket `ts` and the sums. */
export const ROLLUP_FIELDS: ReadonlySet<string> = new Set([
  'exporter_addr', 'flow_type', 'ip_version', 'protocol', 'in_if', 'out_if', 'src_as', 'dst_as', 'tos', 'direction',
]);

export const QUERY_TABLES = ['flows', 'flows_1m', 'flows_1h', 'flows_src_1h', 'flows_dst_1h'] as const;
export type QueryTable = (typeof QUERY_TABLES)[number];
const TABLE_STEP: Record<QueryTable, number> = { flows: 1, flows_1m: 60, flows_1h: 3600, flows_src_1h: 3600, flows_dst_1h: 3600 };

/**
 * The hourly address rollups ("top talkers"): per hour, exporter and source (or destination) address.
 * They answer a query that groups and filters on that one address and the exporter only.
 */
export const ADDRESS_ROLLUP_TABLES: Readonly<Record<'src_addr' | 'dst_addr', QueryTable>> = { src_addr: 'flows_src_1h', dst_addr: 'flows_dst_1h' };

/** The fields each rollup table can group, filter and sum by (the raw table: every field). */
function tableFields(t: QueryTable): ReadonlySet<string> | undefined {
  switch (t) {
    case 'flows_1m':
    case 'flows_1h':
      return ROLLUP_FIELDS;
    case 'flows_src_1h':
      return SRC_ROLLUP_FIELDS;
    case 'flows_dst_1h':
      return DST_ROLLUP_FIELDS;
    default:
      return undefined;
  }
}
const SRC_ROLLUP_FIELDS: ReadonlySet<string> = new Set(['src_addr', 'exporter_addr']);
const DST_ROLLUP_FIELDS: ReadonlySet<string> = new Set(['dst_addr', 'exporter_addr']);

/** One piece of the time range, read from one table: [from, to) in epoch seconds. */
export interface QuerySegment {
  table: QueryTable;
  from: number;
  to: number;
}

export interface PlanInput {
  /** Epoch ms, [from, to). */
  fromMs: number;
  toMs: number;
  groupBy: readonly string[];
  filterFields: readonly string[];
  distinct: readonly string[];
  /** Series interval in seconds, if any. */
  intervalS?: number;
  /** Rollup tables this store has (a store without rollups answers from the raw table). */
  rollups: readonly QueryTable[];
}

export interface QueryPlan {
  segments: QuerySegment[];
  /** Why the coarsest usable table is what it is (shown in answers, asserted in tests). */
  reason: string;
}

/**
 * The coarsest tables that can answer exactly. A rollup is usable only when every grouped, filtered
 * and distinct-counted field is one of its columns (bytes/packets filters test single flows, so they
 * need the raw table). The range is cut into an aligned middle read from the rollup and unaligned
 * edges read from finer tables, so `-1h` (never hour-aligned) still reads mostly minutes. A series
 * interval must be a multiple of the table's step. The raw table's time axis is whole seconds.
 */
export function planQuery(i: PlanInput): QueryPlan {
  const from = Math.ceil(i.fromMs / 1000);
  const to = Math.max(from, Math.ceil(i.toMs / 1000));
  const fields = [...i.groupBy, ...i.filterFields, ...i.distinct];
  const needs = fields.filter((f) => !ROLLUP_FIELDS.has(f));
  if (needs.length > 0) {
    const talkers = addressRollupFor(i, fields);
    if (talkers) {
      const segments = cut(from, to, [talkers]);
      return { segments, reason: `tables: ${[...new Set(segments.map((s) => s.table))].join(', ') || 'none'}` };
    }
    return { segments: [{ table: 'flows', from, to }], reason: `raw: ${[...new Set(needs)].sort().join(', ')} not in the rollups` };
  }
  const usable = (['flows_1h', 'flows_1m'] as const).filter(
    (t) => i.rollups.includes(t) && (i.intervalS === undefined || i.intervalS % TABLE_STEP[t] === 0),
  );
  const segments = cut(from, to, usable);
  const tables = [...new Set(segments.map((s) => s.table))];
  const reason = usable.length === 0 ? (i.rollups.length === 0 ? 'raw: no rollups in the store' : 'raw: interval is not a multiple of a rollup step') : `tables: ${tables.join(', ') || 'none'}`;
  return { segments, reason };
}

/** The address rollup that holds every field of the query, if any (no distinct counts; hourly series only). */
function addressRollupFor(i: PlanInput, fields: readonly string[]): QueryTable | undefined {
  if (i.distinct.length > 0 || (i.intervalS !== undefined && i.intervalS % 3600 !== 0)) return undefined;
  for (const t of Object.values(ADDRESS_ROLLUP_TABLES)) {
    const have = tableFields(t)!;
    if (i.rollups.includes(t) && fields.every((f) => have.has(f))) return t;
  }
  return undefined;
}

function cut(from: number, to: number, usable: readonly QueryTable[]): QuerySegment[] {
  if (from >= to) return [];
  const [coarse, ...finer] = usable;
  if (!coarse) return [{ table: 'flows', from, to }];
  const step = TABLE_STEP[coarse];
  const lo = Math.ceil(from / step) * step;
  const hi = Math.floor(to / step) * step;
  if (lo >= hi) return cut(from, to, finer);
  return [...cut(from, lo, finer), { table: coarse, from: lo, to: hi }, ...cut(hi, to, finer)];
}

/** The filter with every channel/profile reference replaced by the filter it names (for a node, which has no resolver). */
export function expandReferences(node: FilterNode): FilterNode {
  switch (node.type) {
    case 'and':
    case 'or':
      return { ...node, children: node.children.map(expandReferences) };
    case 'not':
      return { ...node, child: expandReferences(node.child) };
    case 'ref':
      return expandReferences(node.filter);
    default:
      return node;
  }
}

/** Fields a flow listing may sort on. */
export const SORT_FIELDS = ['time_received', 'bytes', 'packets', 'src_addr', 'dst_addr', 'src_port', 'dst_port', 'protocol', 'flow_start', 'flow_end'] as const;
export type SortField = (typeof SORT_FIELDS)[number];

/**
 * Columns of a flow listing row, in order. They double as the listing's total order: the sort field
 * first, then all of these ascending, then (on the master) the node id. Two rows equal in every one of
 * them are the same flow twice; the cursor counts how many of those were already shown.
 */
export const LISTING_COLUMNS = [
  'time_received', 'flow_start', 'flow_end', 'src_addr', 'dst_addr', 'src_port', 'dst_port', 'protocol', 'bytes', 'packets',
  'tcp_flags', 'tos', 'exporter_addr', 'in_if', 'out_if', 'src_as', 'dst_as', 'next_hop', 'sampling_rate', 'flow_type', 'ip_version', 'direction',
] as const;
export type ListingColumn = (typeof LISTING_COLUMNS)[number];
const TIME_COLUMNS: ReadonlySet<string> = new Set(['time_received', 'flow_start', 'flow_end']);

/** Kind of a value as it travels in partial answers: 'addr' = 32 uppercase hex digits, 'num' = integer, 'set' = comma-joined distinct values. */
export type CellKind = 'addr' | 'num' | 'set';
export function cellKind(column: string): CellKind {
  if (column.startsWith('d_')) return 'set';
  return ADDRESS_DIMENSIONS.has(column.replace(/^(g_|o_)/, '')) ? 'addr' : 'num';
}

/** The columns of a node's answer to `r` (a listing page or a partial aggregate) and how each cell travels (`s_`: as its sort field). */
export function answerColumns(r: Pick<NodeQueryRequest, 'mode' | 'groupBy' | 'interval' | 'distinct' | 'sort'>): { columns: string[]; kinds: CellKind[] } {
  const columns = r.mode === 'flows' ? listingColumns() : partialColumns(r);
  return { columns, kinds: columns.map((c) => (c === 's_' && r.sort ? cellKind(r.sort.field) : cellKind(c))) };
}

/** One answer row as it travels: 'num' cells as numbers, the others as text. */
export function typedRow(cells: readonly unknown[], kinds: readonly CellKind[]): Array<number | string> {
  return cells.map((v, i) => (kinds[i] === 'num' ? Number(v) : String(v)));
}

/**
 * Which flow tables a store (or a cluster, through `suffix`-named Distributed tables) has, listed at most
 * every `ttlMs`; segments over a table it lacks (a rollup an older schema has not got) read the raw table,
 * which holds the same flows and sums.
 */
export class KnownTables {
  private cache?: { at: number; names: Set<string> };

  constructor(
    private readonly list: () => Promise<string[]>,
    private readonly suffix = '',
    private readonly ttlMs = 30_000,
  ) {}

  async available(segments: QuerySegment[]): Promise<QuerySegment[]> {
    if (segments.every((s) => s.table === 'flows')) return segments;
    if (!this.cache || Date.now() - this.cache.at > this.ttlMs) this.cache = { at: Date.now(), names: new Set(await this.list()) };
    const names = this.cache.names;
    return segments.map((s) => (names.has(`${s.table}${this.suffix}`) ? s : { ...s, table: 'flows' as QueryTable }));
  }
}

/** Where a listing page continues on one node: rows strictly after `values` (or at them, skipping `skip`). */
export interface ListingAfter {
  /** The sort key then LISTING_COLUMNS values of the last row shown (addresses as 32 hex digits). */
  values: Array<number | string>;
  /** true: rows equal to `values` still come, after skipping `skip` of them; false: only rows greater. */
  inclusive: boolean;
  skip: number;
}

/** Body of a node's POST /internal/v2/query (the master builds it; the node validates it again). */
export interface NodeQueryRequest {
  mode: 'aggregate' | 'flows';
  /** Epoch ms [from, to): the listing's time range (aggregates use `segments`). */
  from: number;
  to: number;
  /** Canonical nfdump filter text without channel/profile references (the node parses it again). */
  filter: string;
  groupBy: QueryDimension[];
  /** Series bucket in seconds; absent: no time axis. */
  interval?: number;
  distinct: DistinctField[];
  segments: QuerySegment[];
  sort?: { field: SortField; desc: boolean };
  limit?: number;
  after?: ListingAfter;
  limits: { timeoutMs: number; maxRows: number; maxMemoryBytes: number };
}

/** Column names of a node's partial aggregate, in order: [t], g_<dim>..., bytes, packets, flows, d_<field>... */
export function partialColumns(r: Pick<NodeQueryRequest, 'groupBy' | 'interval' | 'distinct'>): string[] {
  return [...(r.interval ? ['t'] : []), ...r.groupBy.map((g) => `g_${g}`), 'bytes', 'packets', 'flows', ...r.distinct.map((d) => `d_${d}`)];
}

const ALLOWED: ReadonlySet<string> = new Set([...QUERY_DIMENSIONS, ...DISTINCT_FIELDS, ...LISTING_COLUMNS]);
function ident(name: string): string {
  if (!ALLOWED.has(name)) throw new Error(`not a query column: ${JSON.stringify(name)}`);
  return name;
}
function int(n: number, what: string): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${what} must be a non-negative integer`);
  return String(n);
}
const HEX32 = /^[0-9A-Fa-f]{32}$/;
function literal(column: string, v: number | string): string {
  if (cellKind(column) === 'addr') {
    if (typeof v !== 'string' || !HEX32.test(v)) throw new Error(`${column}: expected 32 hex digits`);
    return `unhex('${v.toUpperCase()}')`;
  }
  if (typeof v !== 'number') throw new Error(`${column}: expected an integer`);
  return TIME_COLUMNS.has(column) ? `toDateTime(${int(v, column)})` : int(v, column);
}
/** Value of a column as it travels: addresses as hex, times as epoch seconds, numbers as numbers. */
function outExpr(column: string): string {
  if (cellKind(column) === 'addr') return `hex(${ident(column)})`;
  return TIME_COLUMNS.has(column) ? `toUInt32(${ident(column)})` : ident(column);
}

export interface SqlNames {
  /** Database of the flow tables (default 'flowmesh'). */
  database?: string;
  /** Appended to every table name: '_all' reads a cluster's Distributed tables (deploy/clickhouse/cluster.sql). */
  tableSuffix?: string;
}
const DB_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SUFFIX = /^[A-Za-z0-9_]{0,32}$/;
function table(t: QueryTable, o: SqlNames): string {
  const db = o.database ?? 'flowmesh';
  const suffix = o.tableSuffix ?? '';
  if (!DB_NAME.test(db) || !SUFFIX.test(suffix) || !QUERY_TABLES.includes(t)) throw new Error('bad table');
  return `${db}.${t}${suffix}`;
}

function settings(r: NodeQueryRequest, readonly: boolean): string {
  const s = [
    `max_execution_time = ${int(Math.max(1, Math.ceil(r.limits.timeoutMs / 1000)), 'timeout')}`,
    `max_memory_usage = ${int(r.limits.maxMemoryBytes, 'maxMemoryBytes')}`,
    `max_result_rows = ${int(r.limits.maxRows + 1, 'maxRows')}`,
    `result_overflow_mode = 'throw'`,
  ];
  // readonly last: once set, no later setting may change.
  if (readonly) s.push('readonly = 1');
  return `SETTINGS ${s.join(', ')}`;
}

/** Throws unless table `t` holds every grouped and filtered field (rollups hold no distinct values). */
function assertTableAnswers(t: QueryTable, dims: readonly string[], distinct: readonly string[], filter: FilterNode): void {
  const has = tableFields(t);
  if (has && (distinct.length || filterFields(filter).some((f) => !has.has(f)) || dims.some((d) => !has.has(d)))) {
    throw new Error(`${t} cannot answer this query`);
  }
}

/**
 * The partial aggregate a node computes: one row per (bucket, group) with scaled sums and, per
 * distinct-counted field, the group's distinct values (comma-joined) so the master's merge is exact.
 * Rollup segments contribute their pre-summed, sampling-scaled columns; the raw table contributes
 * bytes × sampling_rate (0 = unsampled = 1) per flow.
 */
export function buildPartialSql(r: NodeQueryRequest, filter: FilterNode, o: SqlNames & { readonly?: boolean } = {}): string {
  const dims = r.groupBy.map(ident);
  const distinct = r.distinct.map(ident);
  const parts = r.segments.map((s) => {
    const raw = s.table === 'flows';
    const time = raw ? 'time_received' : 'ts';
    assertTableAnswers(s.table, dims, distinct, filter);
    const cols = [
      `toUInt32(${time}) AS t_`,
      ...dims.map((d, i) => `${d} AS k${i}`),
      raw ? 'bytes * if(sampling_rate = 0, 1, sampling_rate) AS b_' : 'bytes_scaled AS b_',
      raw ? 'packets * if(sampling_rate = 0, 1, sampling_rate) AS p_' : 'packets_scaled AS p_',
      raw ? 'toUInt64(1) AS f_' : 'flows AS f_',
      ...distinct.map((d, i) => `${d} AS v${i}`),
    ];
    const where = `${time} >= toDateTime(${int(s.from, 'from')}) AND ${time} < toDateTime(${int(s.to, 'to')}) AND ${compileFilterToSql(filter)}`;
    return `SELECT ${cols.join(', ')} FROM ${table(s.table, o)} WHERE ${where}`;
  });
  if (parts.length === 0) parts.push(`SELECT toUInt32(0) AS t_, ${dims.map((d, i) => `${d} AS k${i}, `).join('')}toUInt64(0) AS b_, toUInt64(0) AS p_, toUInt64(0) AS f_${distinct.map((d, i) => `, ${d} AS v${i}`).join('')} FROM ${table('flows', o)} WHERE 0`);
  const keyOut = dims.map((d, i) => (ADDRESS_DIMENSIONS.has(d) ? `hex(k${i}) AS g_${d}` : `k${i} AS g_${d}`));
  const bucket = r.interval ? [`intDiv(t_, ${int(r.interval, 'interval')}) * ${int(r.interval, 'interval')} AS t`] : [];
  const sets = distinct.map((d, i) => `arrayStringConcat(groupUniqArray(${ADDRESS_DIMENSIONS.has(d) ? `hex(v${i})` : `toString(v${i})`}), ',') AS d_${d}`);
  const groupKeys = [...(r.interval ? ['t'] : []), ...dims.map((d) => `g_${d}`)];
  return (
    `SELECT ${[...bucket, ...keyOut, 'sum(b_) AS bytes', 'sum(p_) AS packets', 'sum(f_) AS flows', ...sets].join(', ')} ` +
    `FROM (${parts.join(' UNION ALL ')}) ` +
    (groupKeys.length ? `GROUP BY ${groupKeys.join(', ')} ` : '') +
    settings(r, o.readonly ?? true)
  );
}

/**
 * The partial aggregate of ONE segment as a flat GROUP BY on its table, with the same columns as
 * buildPartialSql. On a Distributed table the shards aggregate their own rows and the server merges the
 * partial states (a subquery would ship every row to the initiator); the segments' answers are then
 * merged like nodes' partials (equal groups sum, distinct sets unite).
 */
export function buildSegmentAggregateSql(r: NodeQueryRequest, segment: QuerySegment, filter: FilterNode, o: SqlNames & { readonly?: boolean } = {}): string {
  const dims = r.groupBy.map(ident);
  const distinct = r.distinct.map(ident);
  const raw = segment.table === 'flows';
  const time = raw ? 'time_received' : 'ts';
  assertTableAnswers(segment.table, dims, distinct, filter);
  const scale = 'if(sampling_rate = 0, 1, sampling_rate)';
  const cols = [
    ...(r.interval ? [`intDiv(toUInt32(${time}), ${int(r.interval, 'interval')}) * ${int(r.interval, 'interval')} AS t`] : []),
    ...dims.map((d) => (ADDRESS_DIMENSIONS.has(d) ? `hex(${d}) AS g_${d}` : `${d} AS g_${d}`)),
    raw ? `sum(bytes * ${scale}) AS bytes` : 'sum(bytes_scaled) AS bytes',
    raw ? `sum(packets * ${scale}) AS packets` : 'sum(packets_scaled) AS packets',
    raw ? 'count() AS flows' : 'sum(flows) AS flows',
    ...distinct.map((d) => `arrayStringConcat(groupUniqArray(${ADDRESS_DIMENSIONS.has(d) ? `hex(${d})` : `toString(${d})`}), ',') AS d_${d}`),
  ];
  const where = `${time} >= toDateTime(${int(segment.from, 'from')}) AND ${time} < toDateTime(${int(segment.to, 'to')}) AND ${compileFilterToSql(filter)}`;
  const groupKeys = [...(r.interval ? ['t'] : []), ...dims.map((d) => `g_${d}`)];
  return (
    `SELECT ${cols.join(', ')} FROM ${table(segment.table, o)} WHERE ${where} ` +
    (groupKeys.length ? `GROUP BY ${groupKeys.join(', ')} ` : '') +
    settings(r, o.readonly ?? true)
  );
}

/** The order of a listing: the sort field (asc or desc), then every listing column ascending. */
export function listingOrder(sort: { field: SortField; desc: boolean }): Array<{ column: string; desc: boolean }> {
  return [{ column: ident(sort.field), desc: sort.desc }, ...LISTING_COLUMNS.map((c) => ({ column: c, desc: false }))];
}

/** `row > after` (or >=) in the listing order, as a lexicographic comparison (tuple comparison is not in every version). */
export function afterCondition(order: Array<{ column: string; desc: boolean }>, after: ListingAfter): string {
  if (after.values.length !== order.length) throw new Error(`after.values must hold ${order.length} values`);
  let expr = after.inclusive ? '1' : '0';
  for (let i = order.length - 1; i >= 0; i--) {
    const { column, desc } = order[i];
    const lit = literal(column, after.values[i]);
    expr = `(${column} ${desc ? '<' : '>'} ${lit} OR (${column} = ${lit} AND ${expr}))`;
  }
  return expr;
}

/** A node's page of flows: raw table, [from, to), filter, after the cursor, `limit + skip` rows in listing order. */
export function buildListingSql(r: NodeQueryRequest, filter: FilterNode, o: SqlNames & { readonly?: boolean } = {}): string {
  if (!r.sort || r.limit === undefined) throw new Error('a listing needs sort and limit');
  const order = listingOrder(r.sort);
  const from = Math.ceil(r.from / 1000);
  const to = Math.max(from, Math.ceil(r.to / 1000));
  const where = [`time_received >= toDateTime(${int(from, 'from')})`, `time_received < toDateTime(${int(to, 'to')})`, compileFilterToSql(filter)];
  if (r.after) where.push(afterCondition(order, r.after));
  const cols = [`${outExpr(r.sort.field)} AS s_`, ...LISTING_COLUMNS.map((c) => `${outExpr(c)} AS o_${c}`)];
  // ORDER BY the stored columns (not the hex/epoch outputs), so addresses sort bytewise as the cursor compares them.
  const orderBy = order.map((c) => `${c.column}${c.desc ? ' DESC' : ''}`);
  return (
    `SELECT ${cols.join(', ')} FROM ${table('flows', o)} WHERE ${where.join(' AND ')} ` +
    `ORDER BY ${orderBy.join(', ')} LIMIT ${int(r.limit + (r.after?.skip ?? 0), 'limit')} ` +
    settings({ ...r, limits: { ...r.limits, maxRows: r.limit + (r.after?.skip ?? 0) } }, o.readonly ?? true)
  );
}

/**
 * Drops up to `skip` leading rows of a listing page whose order key equals `values`: flows equal in every
 * column that an earlier page already showed (the cursor counts them; SQL cannot skip "n of the equal ones").
 */
export function skipShownRows(rows: Array<Array<number | string>>, values: Array<number | string>, skip: number): Array<Array<number | string>> {
  const norm = (v: number | string) => (typeof v === 'string' ? v.toUpperCase() : v);
  let n = 0;
  while (n < rows.length && n < skip && values.every((v, i) => norm(rows[n][i]) === norm(v))) n++;
  return rows.slice(n);
}

/** Growing window sizes (seconds) a listing by receive time tries before the whole range. */
export const LISTING_WINDOWS_S = [300, 3600, 6 * 3600, 86_400, 7 * 86_400] as const;

/**
 * The [from, to) ranges (epoch ms) a page of a listing reads, smallest first. Sorted by time_received, a
 * page's rows are the newest (desc) or oldest (asc) of the range after the cursor: if a window at that end
 * holds `limit` of them, they are the page — the store reads those minutes of the primary key instead of
 * every matching row of the range. `edgeS` (epoch seconds) is where the store's rows of the range begin
 * (asc) or end (desc), so a store whose flows stop early still starts where its flows are. Other sorts
 * read the whole range at once.
 */
export function listingWindows(r: Pick<NodeQueryRequest, 'from' | 'to' | 'sort' | 'after'>, edgeS?: number): Array<{ from: number; to: number }> {
  const whole = { from: r.from, to: r.to };
  if (r.sort?.field !== 'time_received') return [whole];
  const out: Array<{ from: number; to: number }> = [];
  for (const w of LISTING_WINDOWS_S) {
    let win: { from: number; to: number };
    if (r.sort.desc) {
      const end = Math.min(r.to, edgeS !== undefined ? (edgeS + 1) * 1000 : r.after ? (Number(r.after.values[0]) + 1) * 1000 : r.to);
      win = { from: Math.max(r.from, end - w * 1000), to: end };
    } else {
      const start = Math.max(r.from, edgeS !== undefined ? edgeS * 1000 : r.after ? Number(r.after.values[0]) * 1000 : r.from);
      win = { from: start, to: Math.min(r.to, start + w * 1000) };
    }
    if (win.from <= r.from && win.to >= r.to) break;
    out.push(win);
  }
  out.push(whole);
  return out;
}

/**
 * SQL for where a listing page by time_received can start: the newest (desc) or oldest (asc) receive
 * second of the store's rows in the range, up to (from) the cursor's second — the filter is not applied,
 * so the store reads the time column only. One row, one cell; 0 when there are none.
 */
export function buildListingEdgeSql(r: NodeQueryRequest, o: SqlNames & { readonly?: boolean } = {}): string {
  if (!r.sort || r.sort.field !== 'time_received') throw new Error('only a listing by time_received has an edge');
  const from = Math.ceil(r.from / 1000);
  const to = Math.max(from, Math.ceil(r.to / 1000));
  const where = [`time_received >= toDateTime(${int(from, 'from')})`, `time_received < toDateTime(${int(to, 'to')})`];
  if (r.after) {
    const t = int(Number(r.after.values[0]), 'after');
    where.push(r.sort.desc ? `time_received <= toDateTime(${t})` : `time_received >= toDateTime(${t})`);
  }
  return `SELECT toUInt32(${r.sort.desc ? 'max' : 'min'}(time_received)), count() FROM ${table('flows', o)} WHERE ${where.join(' AND ')} ${settings({ ...r, limits: { ...r.limits, maxRows: 1 } }, o.readonly ?? true)}`;
}

/**
 * One listing page: runs the listing SQL over listingWindows(r) until a window fills the page (after
 * dropping the rows the cursor already showed); `select` runs SQL and returns typed rows.
 */
export async function runListingPage(
  r: NodeQueryRequest,
  filter: FilterNode,
  o: SqlNames & { readonly?: boolean },
  select: (sql: string) => Promise<Array<Array<number | string>>>,
): Promise<Array<Array<number | string>>> {
  if (r.limit === undefined) throw new Error('a listing needs a limit');
  let edgeS: number | undefined;
  if (r.sort?.field === 'time_received') {
    const [[edge, count] = [0, 0]] = await select(buildListingEdgeSql(r, o));
    if (!Number(count)) return [];
    edgeS = Number(edge);
  }
  const windows = listingWindows(r, edgeS);
  let rows: Array<Array<number | string>> = [];
  for (const [i, w] of windows.entries()) {
    rows = await select(buildListingSql({ ...r, from: w.from, to: w.to }, filter, o));
    if (r.after && r.after.inclusive && r.after.skip > 0) rows = skipShownRows(rows, r.after.values, r.after.skip);
    if (rows.length >= r.limit || i === windows.length - 1) break;
  }
  return rows.slice(0, r.limit);
}

/** Row columns of a listing answer: s_ (the sort value) then LISTING_COLUMNS. */
export function listingColumns(): string[] {
  return ['s_', ...LISTING_COLUMNS];
}

/** Filter fields for the planner (canonical names). */
export function plannerFilterFields(filter: FilterNode): FilterField[] {
  return filterFields(filter);
}
