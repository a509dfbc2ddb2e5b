import { ListenerInfo, NodeView } from '@flowmesh/config-sync';

export interface IngestRateDto {
  flowsPerSecond: number;
  packetsPerSecond: number;
}

export interface NodeTotalsDto {
  packets: number;
  flows: number;
  storedRows: number;
  decodeErrors: number;
}

/** One node as GET /api/v1/nodes shows it. Rates and totals are as of `lastHeartbeat` (null before the first one). */
export interface NodeSummaryDto {
  id: string;
  group: string | null;
  hostname: string;
  addresses: string[];
  apiUrl: string;
  listeners: ListenerInfo[];
  version: string;
  pid: number;
  startedAt: string;
  lastHeartbeat: string | null;
  status: 'up' | 'down';
  ready: boolean;
  ingest: IngestRateDto | null;
  totals: NodeTotalsDto | null;
}

export interface NodeListResponseDto {
  nodes: NodeSummaryDto[];
  up: number;
  down: number;
}

export function toNodeSummary(v: NodeView): NodeSummaryDto {
  const hb = v.heartbeat;
  return {
    id: v.id,
    group: v.group ?? null,
    hostname: v.hostname,
    addresses: v.addresses ?? [],
    apiUrl: v.apiUrl,
    listeners: (v.listeners ?? []).map((l) => ({ protocol: l.protocol, address: l.address, port: l.port })),
    version: v.version,
    pid: v.pid,
    startedAt: v.startedAt,
    lastHeartbeat: v.lastHeartbeat,
    status: v.status,
    ready: v.status === 'up' && hb?.ready === true,
    ingest: hb ? { flowsPerSecond: hb.flowsPerSecond, packetsPerSecond: hb.packetsPerSecond } : null,
    totals: hb ? { packets: hb.packets, flows: hb.flows, storedRows: hb.storedRows, decodeErrors: hb.decodeErrors } : null,
  };
}
