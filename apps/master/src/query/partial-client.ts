import { answerColumns, NodeQueryRequest, QUERY_TABLES } from '@flowmesh/flow-query';
import { callNode, NodeCallOutcome } from './node-call';

/** A node's answer to POST /internal/v2/query. */
export interface PartialResponse {
  node: string;
  columns: string[];
  rows: Array<Array<number | string>>;
  tables?: string[];
  elapsedMs?: number;
}

export type PartialOutcome = NodeCallOutcome<PartialResponse>;

const HEX32 = /^[0-9A-F]{32}$/;
const SET = /^[0-9A-F,]*$/;

/** Why `body` is not a valid answer to `req` from node `id`, or null. Every cell is checked before it reaches the merge. */
export function partialProblem(body: unknown, id: string, req: NodeQueryRequest): string | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'body is not a JSON object';
  const b = body as Record<string, unknown>;
  if (b.node !== id) return `answered as node ${JSON.stringify(b.node)}, expected ${JSON.stringify(id)}`;
  const { columns: expected, kinds } = answerColumns(req);
  if (!Array.isArray(b.columns) || b.columns.join(',') !== expected.join(',')) return `columns are not ${expected.join(',')}`;
  if (!Array.isArray(b.rows)) return 'rows is not an array';
  if (b.tables !== undefined && !(Array.isArray(b.tables) && b.tables.every((t) => (QUERY_TABLES as readonly unknown[]).includes(t)))) return 'tables is not a list of flow tables';
  const rows = b.rows as unknown[];
  if (req.mode === 'flows' && req.limit !== undefined && rows.length > req.limit) return `more than ${req.limit} rows`;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    if (!Array.isArray(r) || r.length !== kinds.length) return `rows[${i}] is not an array of ${kinds.length} cells`;
    for (let j = 0; j < kinds.length; j++) {
      const v = r[j] as unknown;
      const k = kinds[j];
      const ok = k === 'num' ? typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 : typeof v === 'string' && (k === 'addr' ? HEX32.test(v) : SET.test(v));
      if (!ok) return `rows[${i}][${j}] (${expected[j]}) is not a valid ${k}`;
    }
  }
  return null;
}

/** Calls one node's partial query. Never throws (see callNode). */
export function fetchPartial(id: string, apiUrl: string, request: NodeQueryRequest, timeoutMs: number): Promise<PartialOutcome> {
  return callNode<PartialResponse>(id, apiUrl, 'internal/v2/query', request, timeoutMs, 'partial answer', (body) => partialProblem(body, id, request));
}
