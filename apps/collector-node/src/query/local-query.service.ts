import { Inject, Injectable } from '@nestjs/common';
import { bytes16ToIpText } from '@flowmesh/flow-decoder';
import { FLOWS_TABLE } from '../storage/schema';
import { FLOW_STORE, FlowStore } from '../storage/storage';
import { ADDRESS_DIMENSIONS, AggregateDimension, AggregateGroup, AggregateRequestDto, AggregateResponseDto } from './local-query.dto';
import { NODE_ID } from './tokens';

/**
 * Partial aggregates for the master's federated queries. The SQL holds no user text: the dimension is
 * one of an allow-list of column names, the times are validated integers. Addresses are grouped on the
 * raw 16 bytes and turned into text here (a.b.c.d for IPv4-mapped, RFC 5952 otherwise), which is the
 * same on ClickHouse 18.16 and chDB 26.x. Totals come from the same query (WITH TOTALS), so they always
 * equal the sum of the groups. Counts above 2^53 lose precision in JSON numbers (the contract's type).
 */
@Injectable()
export class LocalQueryService {
  constructor(
    @Inject(FLOW_STORE) private readonly store: FlowStore,
    @Inject(NODE_ID) private readonly nodeId: string,
  ) {}

  async aggregate(q: AggregateRequestDto): Promise<AggregateResponseDto> {
    const t0 = performance.now();
    const where = timeRange(q.from, q.to);
    const by = q.by ?? null;
    const sums = 'sum(bytes) AS b, sum(packets) AS p, count() AS f';
    let totals: string[] | undefined;
    let groups: AggregateGroup[] = [];
    if (by === null) {
      totals = (await this.store.select(`SELECT ${sums} FROM ${FLOWS_TABLE} WHERE ${where}`)).rows[0];
    } else {
      const r = await this.store.select(`SELECT ${keyExpr(by)} AS k, ${sums} FROM ${FLOWS_TABLE} WHERE ${where} GROUP BY k WITH TOTALS ORDER BY b DESC, k`);
      const address = ADDRESS_DIMENSIONS.has(by);
      const raw = Buffer.alloc(16);
      groups = r.rows.map(([k, b, p, f]) => {
        let key = k;
        if (address) {
          raw.write(k, 'hex');
          key = bytes16ToIpText(raw, 0);
        }
        return { key, bytes: Number(b), packets: Number(p), flows: Number(f) };
      });
      totals = r.totals?.slice(1);
    }
    return {
      node: this.nodeId,
      totals: { bytes: Number(totals?.[0] ?? 0), packets: Number(totals?.[1] ?? 0), flows: Number(totals?.[2] ?? 0) },
      groups,
      elapsedMs: Math.round((performance.now() - t0) * 1000) / 1000,
    };
  }
}

/** One past DateTime's last second (2106-02-07): a `to` at or beyond it means "no upper bound". */
const DATETIME_END = 4294967296;

/** [from, to) in epoch ms over a DateTime (whole seconds): second s qualifies when s*1000 ∈ [from, to). */
export function timeRange(fromMs: number, toMs: number): string {
  const clamp = (ms: number) => Math.min(Math.max(Math.ceil(ms / 1000), 0), DATETIME_END);
  const lo = clamp(fromMs);
  const hi = clamp(toMs);
  if (!Number.isSafeInteger(lo) || !Number.isSafeInteger(hi)) throw new Error('time range must be integers');
  if (hi === DATETIME_END) return `time_received >= toDateTime(${lo})`;
  return `time_received >= toDateTime(${lo}) AND time_received < toDateTime(${hi})`;
}

export function keyExpr(by: AggregateDimension): string {
  // `by` is one of AGGREGATE_DIMENSIONS (validated); the switch keeps it that way if a caller skips the DTO.
  switch (by) {
    case 'src_addr':
    case 'dst_addr':
    case 'exporter_addr':
    case 'next_hop':
      return `hex(${by})`;
    case 'src_port':
    case 'dst_port':
    case 'protocol':
    case 'in_if':
    case 'out_if':
    case 'src_as':
    case 'dst_as':
    case 'tos':
    case 'ip_version':
    case 'flow_type':
      return `toString(${by})`;
    default:
      throw new Error(`not a dimension: ${String(by)}`);
  }
}
