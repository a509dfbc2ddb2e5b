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
    if (w !== i) b.copyRow(i, w);
    w++;
  }
  b.length = w;
  return w - from;
}
