import type { FlowBatch } from '@flowmesh/flow-decoder';
import type { ExporterSettings } from '../exporters/exporter-policy';

export interface ClockPolicy {
  maxFutureMs: number;
  maxPastMs: number;
  action: 'clamp' | 'drop';
}

/** Records changed by the policies: clock skew by kind (clamped or dropped, per the action). */
export interface RowPolicyCounts {
  future: number;
  past: number;
}

/**
 * Applies per-exporter sampling settings and the clock-skew policy to rows [from, batch.length), all of
 * one exporter. Dropped rows are removed by compacting the batch in place. Returns the rows kept.
 */
export function applyRowPolicy(b: FlowBatch, from: number, s: ExporterSettings | undefined, clock: ClockPolicy, counts: RowPolicyCounts): number {
  const override = s?.samplingRate;
  const fallback = s?.defaultSamplingRate;
  const drop = clock.action === 'drop';
  let w = from;
  for (let i = from; i < b.length; i++) {
    if (override !== undefined) b.sampling_rate[i] = override;
    else if (fallback !== undefined && b.sampling_rate[i] <= 1) b.sampling_rate[i] = fallback;
    const rx = b.time_received[i];
    const hi = rx + clock.maxFutureMs;
    const lo = rx - clock.maxPastMs;
    const st = b.flow_start[i];
    const en = b.flow_end[i];
    const future = st > hi || en > hi;
    const past = !future && (st < lo || en < lo);
    if (future || past) {
      if (future) counts.future++;
      else counts.past++;
      if (drop) continue;
      if (st > hi || st < lo) b.flow_start[i] = rx;
      if (en > hi || en < lo) b.flow_end[i] = rx;
      if (b.flow_start[i] > b.flow_end[i]) b.flow_start[i] = b.flow_end[i];
    }
    if (w !== i) copyRow(b, i, w);
    w++;
  }
  b.length = w;
  return w - from;
}

function copyRow(b: FlowBatch, from: number, to: number): void {
  b.time_received[to] = b.time_received[from];
  b.flow_start[to] = b.flow_start[from];
  b.flow_end[to] = b.flow_end[from];
  b.exporter_addr.copyWithin(to * 16, from * 16, from * 16 + 16);
  b.observation_domain[to] = b.observation_domain[from];
  b.flow_type[to] = b.flow_type[from];
  b.sampling_rate[to] = b.sampling_rate[from];
  b.ip_version[to] = b.ip_version[from];
  b.src_addr.copyWithin(to * 16, from * 16, from * 16 + 16);
  b.dst_addr.copyWithin(to * 16, from * 16, from * 16 + 16);
  b.src_port[to] = b.src_port[from];
  b.dst_port[to] = b.dst_port[from];
  b.protocol[to] = b.protocol[from];
  b.tcp_flags[to] = b.tcp_flags[from];
  b.tos[to] = b.tos[from];
  b.bytes[to] = b.bytes[from];
  b.packets[to] = b.packets[from];
  b.in_if[to] = b.in_if[from];
  b.out_if[to] = b.out_if[from];
  b.src_as[to] = b.src_as[from];
  b.dst_as[to] = b.dst_as[from];
  b.next_hop.copyWithin(to * 16, from * 16, from * 16 + 16);
  b.src_mask[to] = b.src_mask[from];
  b.dst_mask[to] = b.dst_mask[from];
  b.direction[to] = b.direction[from];
  b.vlan[to] = b.vlan[from];
  b.src_mac[to] = b.src_mac[from];
  b.dst_mac[to] = b.dst_mac[from];
  b.extra[to] = b.extra[from];
}
