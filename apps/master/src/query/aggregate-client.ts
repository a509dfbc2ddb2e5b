import { QueryDimension } from './dimensions';
import { CountersDto, NodeQueryStatus, TopRowDto } from './query-response.dto';

/** Body of a node's POST /internal/v1/aggregate: time_received in [from, to), epoch ms. */
export interface AggregateRequest {
  from: number;
  to: number;
  by: QueryDimension | null;
}

/** A node's partial aggregate: its totals and ALL its groups (the master merges them exactly). */
export interface AggregateResponse {
  node: string;
  totals: CountersDto;
  groups: TopRowDto[];
  elapsedMs?: number;
}

export interface NodeOutcome {
  id: string;
  status: NodeQueryStatus;
  error?: string;
  elapsedMs: number;
  result?: AggregateResponse;
}

const COUNTERS = ['bytes', 'packets', 'flows'] as const;
const MAX_ERROR_TEXT = 300;

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 && Number.isInteger(v);
}

/** Why `body` breaks the aggregate contract, or null. Keys may come as numbers; they are made text. */
export function aggregateProblem(body: unknown, expectedNode: string): string | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'body is not a JSON object';
  const b = body as Record<string, unknown>;
  if (b.node !== expectedNode) return `answered as node ${JSON.stringify(b.node)}, expected ${JSON.stringify(expectedNode)}`;
  const totals = b.totals as Record<string, unknown> | null;
  if (typeof totals !== 'object' || totals === null) return 'totals is missing';
  for (const c of COUNTERS) if (!isCount(totals[c])) return `totals.${c} is not a non-negative integer`;
  if (!Array.isArray(b.groups)) return 'groups is not an array';
  const groups = b.groups as unknown[];
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i] as Record<string, unknown> | null;
    if (typeof g !== 'object' || g === null) return `groups[${i}] is not an object`;
    if (typeof g.key === 'number') g.key = String(g.key);
    else if (typeof g.key !== 'string') return `groups[${i}].key is not text`;
    for (const c of COUNTERS) if (!isCount(g[c])) return `groups[${i}].${c} is not a non-negative integer`;
  }
  return null;
}

function aggregateUrl(apiUrl: string): string {
  return new URL('internal/v1/aggregate', apiUrl.endsWith('/') ? apiUrl : apiUrl + '/').toString();
}

/**
 * Calls one node's aggregate endpoint. Never throws: every failure becomes an outcome with a status
 * ('timeout' when the deadline passed, 'error' otherwise) and a reason.
 */
export async function fetchAggregate(id: string, apiUrl: string, request: AggregateRequest, timeoutMs: number): Promise<NodeOutcome> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  try {
    const res = await fetch(aggregateUrl(apiUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(request),
      signal: controller.signal,
    });
    const text = await res.text();
    if (!res.ok) {
      return { id, status: 'error', error: `HTTP ${res.status}: ${text.slice(0, MAX_ERROR_TEXT)}`, elapsedMs: elapsed() };
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return { id, status: 'error', error: 'invalid aggregate response: not JSON', elapsedMs: elapsed() };
    }
    const problem = aggregateProblem(body, id);
    if (problem) return { id, status: 'error', error: `invalid aggregate response: ${problem}`, elapsedMs: elapsed() };
    return { id, status: 'ok', elapsedMs: elapsed(), result: body as AggregateResponse };
  } catch (e) {
    if (timedOut) return { id, status: 'timeout', error: `no answer within ${timeoutMs} ms`, elapsedMs: elapsed() };
    const err = e as Error & { cause?: { code?: string; message?: string } };
    const detail = err.cause?.code ?? err.cause?.message ?? err.message;
    return { id, status: 'error', error: `${err.message}${detail && detail !== err.message ? ` (${detail})` : ''}`, elapsedMs: elapsed() };
  } finally {
    clearTimeout(timer);
  }
}
