import { OrderMetric, ORDER_METRICS } from './dimensions';

const SAFE_PATH = /^[A-Za-z0-9_./-]+$/;

/** A file path as a ClickHouse string literal. Only paths the master made itself reach SQL; anything else is refused. */
export function sqlPath(path: string): string {
  if (!SAFE_PATH.test(path)) throw new Error(`refusing to put path ${JSON.stringify(path)} into SQL`);
  return `'${path}'`;
}

export interface MergeSqlInput {
  /** JSONCompactEachRow file of [key, bytes, packets, flows], one line per node group. */
  groupsFile: string;
  /** JSONCompactEachRow file of [bytes, packets, flows], one line per node that answered. */
  totalsFile: string;
  orderBy: OrderMetric;
  top: number;
  maxExecutionSeconds: number;
  maxMemoryBytes: number;
}

/**
 * One query that merges the partial aggregates exactly: groups are summed per key over all nodes
 * before ranking (so the top-N equals the top-N of one store holding every flow), totals are the
 * sum of node totals, and `other` is totals minus the top rows (never below 0, should a node's totals
 * undercount its groups). Rows come back tagged by `kind`.
 *
 * JIT off (compile_*): chDB 26.7's JIT returned wrong values for greatest(Int128, 0) once an
 * expression had been compiled (after 3 runs); these queries are small, JIT buys nothing here.
 */
export function buildMergeSql(i: MergeSqlInput): string {
  if (!ORDER_METRICS.includes(i.orderBy)) throw new Error(`orderBy ${JSON.stringify(i.orderBy)} is not a metric`);
  if (!Number.isSafeInteger(i.top) || i.top < 1) throw new Error(`top ${i.top} is not a positive integer`);
  const m = i.orderBy;
  const groups = `file(${sqlPath(i.groupsFile)}, 'JSONCompactEachRow', 'key String, bytes UInt64, packets UInt64, flows UInt64')`;
  const totals = `file(${sqlPath(i.totalsFile)}, 'JSONCompactEachRow', 'bytes UInt64, packets UInt64, flows UInt64')`;
  return `
WITH
  merged AS (
    SELECT key, sum(bytes) AS bytes, sum(packets) AS packets, sum(flows) AS flows
    FROM ${groups}
    GROUP BY key
  ),
  top_rows AS (
    SELECT key, bytes, packets, flows, row_number() OVER (ORDER BY ${m} DESC, key ASC) AS rank
    FROM merged
    ORDER BY ${m} DESC, key ASC
    LIMIT ${i.top}
  ),
  top_sum AS (SELECT sum(bytes) AS bytes, sum(packets) AS packets, sum(flows) AS flows FROM top_rows),
  node_totals AS (SELECT sum(bytes) AS bytes, sum(packets) AS packets, sum(flows) AS flows FROM ${totals})
SELECT kind, rank, key, bytes, packets, flows FROM (
  SELECT 'top' AS kind, rank, key, bytes, packets, flows FROM top_rows
  UNION ALL
  SELECT 'totals' AS kind, 0 AS rank, '' AS key, bytes, packets, flows FROM node_totals
  UNION ALL
  SELECT 'other' AS kind, 0 AS rank, '' AS key,
    if(t.bytes > s.bytes, t.bytes - s.bytes, 0) AS bytes,
    if(t.packets > s.packets, t.packets - s.packets, 0) AS packets,
    if(t.flows > s.flows, t.flows - s.flows, 0) AS flows
  FROM node_totals AS t CROSS JOIN top_sum AS s
)
ORDER BY kind = 'top' DESC, rank ASC, kind ASC
SETTINGS output_format_json_quote_64bit_integers = 0, compile_expressions = 0, compile_aggregate_expressions = 0, compile_sort_description = 0, max_execution_time = ${i.maxExecutionSeconds}, max_memory_usage = ${i.maxMemoryBytes}, max_threads = 2
`;
}
