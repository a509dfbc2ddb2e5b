import { QueryDimension } from './dimensions';
import { callNode, NodeCallOutcome } from './node-call';
import { CountersDto, TopRowDto } from './query-response.dto';

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

export type NodeOutcome = NodeCallOutcome<AggregateResponse>;

const COUNTERS = ['bytes', 'packets', 'flows'] as const;

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

/** Calls one node's aggregate endpoint. Never throws (see callNode). */
export function fetchAggregate(id: string, apiUrl: string, request: AggregateRequest, timeoutMs: number): Promise<NodeOutcome> {
  return callNode<AggregateResponse>(id, apiUrl, 'internal/v1/aggregate', request, timeoutMs, 'aggregate response', (body) => aggregateProblem(body, id));
}
