import { IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';

/** Dimensions a partial aggregate may be grouped by (the node↔master contract). */
export const AGGREGATE_DIMENSIONS = [
  'src_addr',
  'dst_addr',
  'src_port',
  'dst_port',
  'protocol',
  'exporter_addr',
  'next_hop',
  'in_if',
  'out_if',
  'src_as',
  'dst_as',
  'tos',
  'ip_version',
  'flow_type',
] as const;
export type AggregateDimension = (typeof AGGREGATE_DIMENSIONS)[number];

export const ADDRESS_DIMENSIONS: ReadonlySet<AggregateDimension> = new Set(['src_addr', 'dst_addr', 'exporter_addr', 'next_hop']);

/** The largest time a JS Date holds; the store clamps to DateTime's range (to 2106). */
const MAX_EPOCH_MS = 8.64e15;

export class AggregateRequestDto {
  /** Epoch ms, inclusive (time axis: time_received). */
  @IsInt() @Min(0) @Max(MAX_EPOCH_MS)
  from: number;
  /** Epoch ms, exclusive. */
  @IsInt() @Min(0) @Max(MAX_EPOCH_MS)
  to: number;
  /** null or absent: totals only. */
  @IsOptional() @IsIn(AGGREGATE_DIMENSIONS)
  by?: AggregateDimension | null;
}

export interface AggregateCounts {
  bytes: number;
  packets: number;
  flows: number;
}

export interface AggregateGroup extends AggregateCounts {
  key: string;
}

export interface AggregateResponseDto {
  node: string;
  totals: AggregateCounts;
  groups: AggregateGroup[];
  elapsedMs: number;
}
