import { Counter, Registry } from 'prom-client';

/** Why the node itself (not the kernel, not the decoder) gave up on input. Bounded label values. */
export const PACKET_DROP_REASONS = ['not_allowed', 'backpressure', 'worker_restart'] as const;
export const FLOW_DROP_REASONS = ['backpressure', 'spool_full', 'worker_restart', 'clock_future', 'clock_past', 'shutdown'] as const;
export type PacketDropReason = (typeof PACKET_DROP_REASONS)[number];
export type FlowDropReason = (typeof FLOW_DROP_REASONS)[number];

/** Application drops, by reason: datagrams dropped before decoding, flows dropped after it. */
export class IngestDropMetrics {
  readonly packets: Counter<'reason'>;
  readonly flows: Counter<'reason'>;
  /** Running totals by reason (for the heartbeat and tests). */
  readonly totals: Record<string, number> = {};

  constructor(registry: Registry) {
    this.packets = new Counter({
      name: 'flowmesh_collector_ingest_dropped_packets_total',
      help: 'Datagrams the node dropped before decoding, by reason',
      labelNames: ['reason'],
      registers: [registry],
    });
    this.flows = new Counter({
      name: 'flowmesh_collector_ingest_dropped_flows_total',
      help: 'Decoded flow records the node dropped before they reached the spool, by reason',
      labelNames: ['reason'],
      registers: [registry],
    });
    for (const reason of PACKET_DROP_REASONS) this.packets.inc({ reason }, 0);
    for (const reason of FLOW_DROP_REASONS) this.flows.inc({ reason }, 0);
  }

  dropPackets(reason: PacketDropReason, n = 1): void {
    this.packets.inc({ reason }, n);
    this.totals[`packets_${reason}`] = (this.totals[`packets_${reason}`] ?? 0) + n;
  }

  dropFlows(reason: FlowDropReason, n: number): void {
    if (n <= 0) return;
    this.flows.inc({ reason }, n);
    this.totals[`flows_${reason}`] = (this.totals[`flows_${reason}`] ?? 0) + n;
  }

  total(kind: 'packets' | 'flows'): number {
    let n = 0;
    for (const [k, v] of Object.entries(this.totals)) if (k.startsWith(`${kind}_`)) n += v;
    return n;
  }
}
