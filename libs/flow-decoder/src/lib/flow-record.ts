/**
 * Record view of a FlowBatch row: one plain object per flow with canonical snake_case names, text
 * addresses and MACs. It allocates per record, so it is for tools, tests and APIs, not the hot path
 * (use the batch columns there). `flowRecordToJson` is the NDJSON shape `flowmesh decode` prints.
 */
import { bytes16ToIpText, macToText } from './addr';
import { DIRECTION, FLOW_TYPE, type ExtraField, type FlowBatch } from './flow-batch';

export interface FlowRecord {
  /** epoch ms */
  time_received: number;
  /** epoch ms */
  flow_start: number;
  /** epoch ms */
  flow_end: number;
  /** IPv4 dotted, IPv6 RFC 5952 */
  exporter_addr: string;
  observation_domain: number;
  /** FLOW_TYPE value: 5, 9, 10, 65 */
  flow_type: number;
  sampling_rate: number;
  ip_version: number;
  src_addr: string;
  dst_addr: string;
  src_port: number;
  dst_port: number;
  protocol: number;
  tcp_flags: number;
  tos: number;
  bytes: number;
  packets: number;
  in_if: number;
  out_if: number;
  src_as: number;
  dst_as: number;
  next_hop: string;
  src_mask: number;
  dst_mask: number;
  /** DIRECTION value: 0 unknown, 1 ingress, 2 egress */
  direction: number;
  vlan: number;
  /** aa:bb:cc:dd:ee:ff */
  src_mac: string;
  dst_mac: string;
  /** enterprise and unknown fields; empty when the record has none */
  extra: ExtraField[];
}

/** Row `i` of `batch` as a record (throws RangeError for a row outside the batch). */
export function flowRecordAt(batch: FlowBatch, i: number): FlowRecord {
  if (!Number.isInteger(i) || i < 0 || i >= batch.length) throw new RangeError(`row ${i} outside batch of ${batch.length}`);
  const o = i * 16;
  const b = batch;
  return {
    time_received: b.time_received[i],
    flow_start: b.flow_start[i],
    flow_end: b.flow_end[i],
    exporter_addr: bytes16ToIpText(b.exporter_addr, o),
    observation_domain: b.observation_domain[i],
    flow_type: b.flow_type[i],
    sampling_rate: b.sampling_rate[i],
    ip_version: b.ip_version[i],
    src_addr: bytes16ToIpText(b.src_addr, o),
    dst_addr: bytes16ToIpText(b.dst_addr, o),
    src_port: b.src_port[i],
    dst_port: b.dst_port[i],
    protocol: b.protocol[i],
    tcp_flags: b.tcp_flags[i],
    tos: b.tos[i],
    bytes: b.bytes[i],
    packets: b.packets[i],
    in_if: b.in_if[i],
    out_if: b.out_if[i],
    src_as: b.src_as[i],
    dst_as: b.dst_as[i],
    next_hop: bytes16ToIpText(b.next_hop, o),
    src_mask: b.src_mask[i],
    dst_mask: b.dst_mask[i],
    direction: b.direction[i],
    vlan: b.vlan[i],
    src_mac: macToText(b.src_mac[i]),
    dst_mac: macToText(b.dst_mac[i]),
    extra: b.extra[i] ?? [],
  };
}

const FLOW_TYPE_NAMES = new Map<number, string>(Object.entries(FLOW_TYPE).map(([k, v]) => [v, k]));
const DIRECTION_NAMES = new Map<number, string>(Object.entries(DIRECTION).map(([k, v]) => [v, k]));

/** IANA IEs whose raw value is an address or a MAC: rendered as text under "extra". */
const IE_V4 = new Set([8, 12, 15, 18, 47, 130, 225, 226]);
const IE_V6 = new Set([27, 28, 62, 63, 131, 281, 282]);
const IE_MAC = new Set([56, 57, 80, 81, 414]);

/** Names of the IANA IEs the decoders put in `extra` most often; others print as ie<id>. */
export const EXTRA_IE_NAMES: Readonly<Record<number, string>> = {
  18: 'bgpNextHopIPv4Address',
  32: 'icmpTypeCodeIPv4',
  59: 'postVlanId',
  63: 'bgpNextHopIPv6Address',
  96: 'applicationName',
  128: 'bgpNextAdjacentAsNumber',
  129: 'bgpPrevAdjacentAsNumber',
  130: 'exporterIPv4Address',
  131: 'exporterIPv6Address',
  136: 'flowEndReason',
  139: 'icmpTypeCodeIPv6',
  176: 'icmpTypeIPv4',
  177: 'icmpCodeIPv4',
  178: 'icmpTypeIPv6',
  179: 'icmpCodeIPv6',
  245: 'dot1qCustomerVlanId',
};

/** The JSON key of an extra field: the IANA name, ie<id>, or <pen>.<id> for enterprise fields. */
export function extraFieldKey(e: ExtraField): string {
  return e.pen === 0 ? (EXTRA_IE_NAMES[e.id] ?? `ie${e.id}`) : `${e.pen}.${e.id}`;
}

function hex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += (b[i] < 16 ? '0' : '') + b[i].toString(16);
  return s;
}

/** The JSON value of an extra field: addresses and MACs as text, other bytes as hex. */
export function extraFieldValue(e: ExtraField): number | string {
  const v = e.value;
  if (e.pen === 0) {
    if (IE_V4.has(e.id) && typeof v === 'number') return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
    if (IE_V6.has(e.id) && v instanceof Uint8Array && v.length === 16) return bytes16ToIpText(v, 0);
    if (IE_MAC.has(e.id) && typeof v === 'number') return macToText(v);
  }
  return v instanceof Uint8Array ? hex(v) : v;
}

/** Epoch ms as ISO 8601 UTC with milliseconds; a value Date cannot hold prints as the number's text. */
export function msToIso(ms: number): string {
  return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : String(ms);
}

export type FlowRecordJson = Record<string, unknown>;

/**
 * The NDJSON object of one record (what `flowmesh decode` prints): canonical names, text addresses
 * and MACs, times ISO 8601 UTC with ms, counters as numbers, flow_type and direction as names, and
 * `extra` (only when the record has extra fields) as an object keyed by `extraFieldKey`.
 */
export function flowRecordToJson(r: FlowRecord): FlowRecordJson {
  const o: FlowRecordJson = {
    time_received: msToIso(r.time_received),
    flow_start: msToIso(r.flow_start),
    flow_end: msToIso(r.flow_end),
    exporter_addr: r.exporter_addr,
    observation_domain: r.observation_domain,
    flow_type: FLOW_TYPE_NAMES.get(r.flow_type) ?? r.flow_type,
    sampling_rate: r.sampling_rate,
    ip_version: r.ip_version,
    src_addr: r.src_addr,
    dst_addr: r.dst_addr,
    src_port: r.src_port,
    dst_port: r.dst_port,
    protocol: r.protocol,
    tcp_flags: r.tcp_flags,
    tos: r.tos,
    bytes: r.bytes,
    packets: r.packets,
    in_if: r.in_if,
    out_if: r.out_if,
    src_as: r.src_as,
    dst_as: r.dst_as,
    next_hop: r.next_hop,
    src_mask: r.src_mask,
    dst_mask: r.dst_mask,
    direction: DIRECTION_NAMES.get(r.direction) ?? r.direction,
    vlan: r.vlan,
    src_mac: r.src_mac,
    dst_mac: r.dst_mac,
  };
  if (r.extra.length > 0) {
    const x: Record<string, number | string> = {};
    for (const e of r.extra) x[extraFieldKey(e)] = extraFieldValue(e);
    o.extra = x;
  }
  return o;
}
