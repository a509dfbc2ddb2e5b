import { cellKind, listingColumns, NodeQueryRequest, partialColumns } from '@flowmesh/flow-query';
import { NodeQueryStatus } from './query-response.dto';

/** A node's answer to POST /internal/v2/query. */
export interface PartialResponse {
  node: string;
  columns: string[];
  rows: Array<Array<number | string>>;
  tables?: string[];
  elapsedMs?: number;
}

export interface PartialOutcome {
  id: string;
  status: NodeQueryStatus;
  error?: string;
  elapsedMs: number;
  result?: PartialResponse;
}

const HEX32 = /^[0-9A-F]{32}$/;
const SET = /^[0-9A-F,]*$/;

/** Why `body` is not a valid answer to `req` from node `id`, or null. Every cell is checked before it reaches the merge. */
export function partialProblem(body: unknown, id: string, req: NodeQueryRequest): string | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'body is not a JSON object';
  const b = body as Record<string, unknown>;
  if (b.node !== id) return `answered as node ${JSON.stringify(b.node)}, expected ${JSON.stringify(id)}`;
  const expected = req.mode === 'flows' ? listingColumns() : partialColumns(req);
  if (!Array.isArray(b.columns) || b.columns.join(',') !== expected.join(',')) return `columns are not ${expected.join(',')}`;
  if (!Array.isArray(b.rows)) return 'rows is not an array';
  const kinds = expected.map((c) => (c === 's_' && req.sort ? cellKind(req.sort.field) : cellKind(c)));
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

/** Calls one node's partial query. Never throws: a failure is an outcome ('timeout' past the deadline, 'error' otherwise). */
export async function fetchPartial(id: string, apiUrl: string, request: NodeQueryRequest, timeoutMs: number): Promise<PartialOutcome> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  try {
    const url = new URL('internal/v2/query', apiUrl.endsWith('/') ? apiUrl : apiUrl + '/').toString();
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(request),
      signal: controller.signal,
    });
    const text = await res.text();
    if (!res.ok) return { id, status: 'error', error: `HTTP ${res.status}: ${text.slice(0, 300)}`, elapsedMs: elapsed() };
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return { id, status: 'error', error: 'invalid partial answer: not JSON', elapsedMs: elapsed() };
    }
    const problem = partialProblem(body, id, request);
    if (problem) return { id, status: 'error', error: `invalid partial answer: ${problem}`, elapsedMs: elapsed() };
    return { id, status: 'ok', elapsedMs: elapsed(), result: body as PartialResponse };
  } catch (e) {
    if (timedOut) return { id, status: 'timeout', error: `no answer within ${timeoutMs} ms`, elapsedMs: elapsed() };
    const err = e as Error & { cause?: { code?: string; message?: string } };
    const detail = err.cause?.code ?? err.cause?.message ?? err.message;
    return { id, status: 'error', error: `${err.message}${detail && detail !== err.message ? ` (${detail})` : ''}`, elapsedMs: elapsed() };
  } finally {
    clearTimeout(timer);
  }
}
