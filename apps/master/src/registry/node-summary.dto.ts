import { ListenerInfo, NodeView } from '@flowmesh/config-sync';

export interface IngestRateDto {
  flowsPerSecond: number;
  packetsPerSecond: number;
}

/** Losses and backlog as of the last heartbeat (null for a node that does not report them). */
export interface NodeLossDto {
  droppedPackets: number;
  droppedFlows: number;
  kernelDrops: number;
  spoolBytes: number;
  spoolAgeSeconds: number;
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
  loss: NodeLossDto | null;
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
    loss:
      hb && hb.droppedPackets !== undefined
        ? { droppedPackets: hb.droppedPackets, droppedFlows: hb.droppedFlows ?? 0, kernelDrops: hb.kernelDrops ?? 0, spoolBytes: hb.spoolBytes ?? 0, spoolAgeSeconds: hb.spoolAgeSeconds ?? 0 }
        : null,
  };
}
