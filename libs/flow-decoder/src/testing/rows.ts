/** Test-only: one FlowBatch row as a plain object with text addresses. */
import { bytes16ToIpText, macToText } from '../lib/addr';
import type { ExtraField, FlowBatch } from '../lib/flow-batch';

export interface Row {
  time_received: number;
  flow_start: number;
  flow_end: number;
  exporter_addr: string;
  observation_domain: number;
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
  direction: number;
  vlan: number;
  src_mac: string;
  dst_mac: string;
  extra: ExtraField[] | undefined;
}

export function row(b: FlowBatch, i: number): Row {
  if (i >= b.length) throw new Error(`row ${i} >= length ${b.length}`);
  return {
    time_received: b.time_received[i],
    flow_start: b.flow_start[i],
    flow_end: b.flow_end[i],
    exporter_addr: bytes16ToIpText(b.exporter_addr, i * 16),
    observation_domain: b.observation_domain[i],
    flow_type: b.flow_type[i],
    sampling_rate: b.sampling_rate[i],
    ip_version: b.ip_version[i],
    src_addr: bytes16ToIpText(b.src_addr, i * 16),
    dst_addr: bytes16ToIpText(b.dst_addr, i * 16),
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
    next_hop: bytes16ToIpText(b.next_hop, i * 16),
    src_mask: b.src_mask[i],
    dst_mask: b.dst_mask[i],
    direction: b.direction[i],
    vlan: b.vlan[i],
    src_mac: macToText(b.src_mac[i]),
    dst_mac: macToText(b.dst_mac[i]),
    extra: b.extra[i],
  };
}

export function rows(b: FlowBatch): Row[] {
  const list: Row[] = [];
  for (let i = 0; i < b.length; i++) list.push(row(b, i));
  return list;
}
