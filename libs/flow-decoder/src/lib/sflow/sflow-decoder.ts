/**
 * sFlow version 5 datagrams -> FlowBatch rows (flow samples) and interface counters (counter samples).
 *
 * One flow sample = one row: bytes = frame length of the sampled packet, packets = 1,
 * sampling_rate = the sample's rate (scaling is left to the query), flow_start = flow_end =
 * time_received. exporter_addr is the datagram's source; the agent address, when it differs, is kept
 * in `extra` as IPFIX exporterIPv4Address (130) / exporterIPv6Address (131). observation_domain is the
 * sub-agent id. For ICMP/ICMPv6 read from a packet header, dst_port = type * 256 + code and src_port = 0
 * (the nfdump convention).
 *
 * Layouts: sFlow v5 specification (sflow.org/sflow_version_5.txt). All reads are bounds-checked;
 * malformed input is counted under a DecodeErrorReason, never thrown.
 */
import { FLOW_TYPE, type ExtraField, type FlowBatch } from '../flow-batch';
import type { DecodeErrorReason } from '../decode-error';
import { bytes16ToIpText, ipv4ToBytes16 } from '../addr';
import { readUint, u16, u32 } from '../reader';

/** Extra-field ids used by this decoder (IANA IPFIX information elements, pen 0). */
export const SFLOW_EXTRA_IE = {
  agentIPv4: 130, // exporterIPv4Address: agent address when it is not the datagram's source
  agentIPv6: 131, // exporterIPv6Address
  bgpNextHopIPv4: 18, // extended gateway next hop
  bgpNextHopIPv6: 63,
  bgpPrevAdjacentAs: 129, // extended gateway src_peer_as
  bgpNextAdjacentAs: 128, // first AS of the destination path
  postVlanId: 59, // extended switch dst_vlan, when it differs from src_vlan
  innerVlanId: 245, // dot1qCustomerVlanId: inner tag of a QinQ frame
} as const;

/** Generic interface counters (counter record enterprise 0, format 1). */
export interface SflowInterfaceCounters {
  agentAddr: string;
  subAgentId: number;
  sourceIdType: number;
  sourceIdIndex: number;
  sampleSequence: number;
  timeReceivedMs: number;
  uptimeMs: number;
  ifIndex: number;
  ifType: number;
  ifSpeed: number;
  ifDirection: number;
  ifStatus: number;
  ifInOctets: number;
  ifInUcastPkts: number;
  ifInMulticastPkts: number;
  ifInBroadcastPkts: number;
  ifInDiscards: number;
  ifInErrors: number;
  ifInUnknownProtos: number;
  ifOutOctets: number;
  ifOutUcastPkts: number;
  ifOutMulticastPkts: number;
  ifOutBroadcastPkts: number;
  ifOutDiscards: number;
  ifOutErrors: number;
  ifPromiscuousMode: number;
}

/** Receives what is not a flow: counter samples. */
export interface SflowSink {
  interfaceCounters(c: SflowInterfaceCounters): void;
}

export interface SflowResult {
  /** Rows appended to `out` (possibly across onFull flushes). */
  records: number;
  /** Malformed parts counted (samples or records skipped, or the datagram refused). */
  errors: number;
  /** The first error's reason, when errors > 0. */
  error?: DecodeErrorReason;
  /** Count per reason, allocated only when an error happened. */
  errorsByReason?: Record<string, number>;
  /** The datagram header was read: agentAddr, subAgentId, sequence and uptimeMs are valid. */
  headerValid: boolean;
  samples: number;
  flowSamples: number;
  counterSamples: number;
  /** Samples and records of formats this decoder does not read (skipped by their length, not errors). */
  skipped: number;
  /** Datagram header, for per-(agent, sub-agent) sequence tracking; agentAddr '' when unreadable. */
  agentAddr: string;
  subAgentId: number;
  sequence: number;
  uptimeMs: number;
}

const HEADER_PROTO_ETHERNET = 1;
const HEADER_PROTO_IPV4 = 11;
const HEADER_PROTO_IPV6 = 12;

/** Per-sample decoding state (module scratch: decoding is synchronous and never re-entered). */
const st = {
  row: 0,
  /** 0 nothing, 1 from a sampled IPv4/IPv6 record, 2 from a packet header. */
  l3: 0,
  /** 0 nothing, 1 ethernet frame data / sampled IP record, 2 packet header frame length. */
  bytesFrom: 0,
  vlanFromSwitch: false,
  ok: true,
};

export function decodeSflow(
  payload: Uint8Array,
  exporterBytes16: Uint8Array,
  timeReceivedMs: number,
  out: FlowBatch,
  onFull?: (b: FlowBatch) => void,
  sink?: SflowSink,
): SflowResult {
  const res: SflowResult = {
    records: 0,
    errors: 0,
    samples: 0,
    flowSamples: 0,
    counterSamples: 0,
    skipped: 0,
    headerValid: false,
    agentAddr: '',
    subAgentId: 0,
    sequence: 0,
    uptimeMs: 0,
  };
  const b = payload;
  const end = b.length;
  if (end < 8) return fail(res, 'too_short');
  if (u32(b, 0) !== 5) return fail(res, 'bad_version');
  const addrType = u32(b, 4);
  const alen = addrType === 1 ? 4 : addrType === 2 ? 16 : -1;
  if (alen < 0) return fail(res, 'bad_address');
  let off = 8 + alen;
  if (off + 16 > end) return fail(res, 'too_short');
  const agentOff = 8;
  res.agentAddr = addrText(b, agentOff, alen);
  res.subAgentId = u32(b, off);
  res.sequence = u32(b, off + 4);
  res.uptimeMs = u32(b, off + 8);
  res.headerValid = true;
  const nSamples = u32(b, off + 12);
  off += 16;
  const agentIsSource = sameAddress(b, agentOff, alen, exporterBytes16);

  for (let i = 0; i < nSamples; i++) {
    if (off + 8 > end) {
      fail(res, 'truncated');
      break;
    }
    const fmt = u32(b, off);
    const len = u32(b, off + 4);
    const body = off + 8;
    if (len > end - body) {
      fail(res, 'truncated');
      break;
    }
    const sEnd = body + len;
    res.samples++;
    const format = fmt >>> 12 === 0 ? fmt & 0xfff : -1;
    if (format === 1 || format === 3) {
      res.flowSamples++;
      const stop = flowSample(b, body, sEnd, format === 3, res, exporterBytes16, timeReceivedMs, out, onFull, agentOff, alen, agentIsSource);
      if (stop) break;
    } else if (format === 2 || format === 4) {
      res.counterSamples++;
      counterSample(b, body, sEnd, format === 4, res, timeReceivedMs, sink);
    } else {
      res.skipped++;
    }
    off = sEnd;
  }
  return res;
}

function fail(res: SflowResult, reason: DecodeErrorReason): SflowResult {
  res.errors++;
  if (res.error === undefined) res.error = reason;
  if (res.errorsByReason === undefined) res.errorsByReason = {};
  res.errorsByReason[reason] = (res.errorsByReason[reason] ?? 0) + 1;
  return res;
}

/** Returns true when decoding of the datagram must stop (batch full). */
function flowSample(
  b: Uint8Array,
  body: number,
  sEnd: number,
  expanded: boolean,
  res: SflowResult,
  exporter: Uint8Array,
  timeReceivedMs: number,
  out: FlowBatch,
  onFull: ((b: FlowBatch) => void) | undefined,
  agentOff: number,
  alen: number,
  agentIsSource: boolean,
): boolean {
  const need = expanded ? 44 : 32;
  if (sEnd - body < need) {
    fail(res, 'bad_sample');
    return false;
  }
  let row = out.next();
  if (row < 0 && onFull !== undefined) {
    onFull(out);
    row = out.next();
  }
  if (row < 0) {
    fail(res, 'batch_full');
    return true;
  }
  let inIf: number;
  let outIf: number;
  let p: number;
  if (expanded) {
    // sequence, source_id type, source_id index, rate, pool, drops, input fmt/value, output fmt/value
    out.sampling_rate[row] = u32(b, body + 12);
    inIf = u32(b, body + 24) === 0 ? u32(b, body + 28) : 0;
    outIf = u32(b, body + 32) === 0 ? u32(b, body + 36) : 0;
    p = body + 40;
  } else {
    // sequence, source_id, rate, pool, drops, input, output; the top 2 bits of input/output are a format
    out.sampling_rate[row] = u32(b, body + 8);
    const input = u32(b, body + 20);
    const output = u32(b, body + 24);
    inIf = input >>> 30 === 0 && (input & 0x3fffffff) !== 0x3fffffff ? input & 0x3fffffff : 0;
    outIf = output >>> 30 === 0 && (output & 0x3fffffff) !== 0x3fffffff ? output & 0x3fffffff : 0;
    p = body + 28;
  }
  const nRecords = u32(b, p);
  p += 4;
  out.time_received[row] = timeReceivedMs;
  out.flow_start[row] = timeReceivedMs;
  out.flow_end[row] = timeReceivedMs;
  const ea = out.exporter_addr;
  const eo = row * 16;
  for (let i = 0; i < 16; i++) ea[eo + i] = exporter[i];
  out.observation_domain[row] = res.subAgentId;
  out.flow_type[row] = FLOW_TYPE.sflow_v5;
  out.packets[row] = 1;
  out.in_if[row] = inIf;
  out.out_if[row] = outIf;
  if (!agentIsSource) {
    addExtra(
      out,
      row,
      alen === 4 ? SFLOW_EXTRA_IE.agentIPv4 : SFLOW_EXTRA_IE.agentIPv6,
      alen === 4 ? u32(b, agentOff) : b.slice(agentOff, agentOff + 16),
    );
  }
  st.row = row;
  st.l3 = 0;
  st.bytesFrom = 0;
  st.vlanFromSwitch = false;
  st.ok = true;
  for (let r = 0; r < nRecords; r++) {
    if (p + 8 > sEnd) {
      out.pop();
      fail(res, 'bad_sample');
      return false;
    }
    const fmt = u32(b, p);
    const len = u32(b, p + 4);
    const rb = p + 8;
    if (len > sEnd - rb) {
      out.pop();
      fail(res, 'bad_flow_record');
      return false;
    }
    if (fmt >>> 12 === 0) flowRecord(b, fmt & 0xfff, rb, rb + len, out, res);
    else res.skipped++;
    if (!st.ok) {
      out.pop();
      fail(res, 'bad_flow_record');
      return false;
    }
    p = rb + len;
  }
  res.records++;
  return false;
}

function flowRecord(b: Uint8Array, format: number, p: number, end: number, out: FlowBatch, res: SflowResult): void {
  const row = st.row;
  const len = end - p;
  switch (format) {
    case 1: {
      // raw packet header: header_protocol, frame_length, stripped, header_size, header bytes
      if (len < 16) {
        st.ok = false;
        return;
      }
      const proto = u32(b, p);
      const frameLength = u32(b, p + 4);
      const hsize = u32(b, p + 12);
      if (hsize > len - 16) {
        st.ok = false;
        return;
      }
      out.bytes[row] = frameLength;
      st.bytesFrom = 2;
      const h = p + 16;
      if (st.l3 === 2) return; // a second header record: the first one wins
      if (proto === HEADER_PROTO_ETHERNET) decodeEthernet(b, h, h + hsize, out);
      else if (proto === HEADER_PROTO_IPV4 || proto === HEADER_PROTO_IPV6) decodeIp(b, h, h + hsize, out);
      return;
    }
    case 2: {
      // ethernet frame data: length, src_mac(6+2), dst_mac(6+2), type
      if (len < 24) {
        st.ok = false;
        return;
      }
      if (st.bytesFrom === 0) out.bytes[row] = u32(b, p);
      if (out.src_mac[row] === 0) out.src_mac[row] = mac(b, p + 4);
      if (out.dst_mac[row] === 0) out.dst_mac[row] = mac(b, p + 12);
      return;
    }
    case 3: {
      // sampled IPv4: length, protocol, src, dst, src_port, dst_port, tcp_flags, tos
      if (len < 32) {
        st.ok = false;
        return;
      }
      if (st.bytesFrom < 2) {
        out.bytes[row] = u32(b, p);
        st.bytesFrom = 1;
      }
      if (st.l3 === 2) return;
      st.l3 = 1;
      out.ip_version[row] = 4;
      out.protocol[row] = u32(b, p + 4) & 0xff;
      ipv4ToBytes16(u32(b, p + 8), out.src_addr, row * 16);
      ipv4ToBytes16(u32(b, p + 12), out.dst_addr, row * 16);
      out.src_port[row] = u32(b, p + 16) & 0xffff;
      out.dst_port[row] = u32(b, p + 20) & 0xffff;
      out.tcp_flags[row] = u32(b, p + 24) & 0xff;
      out.tos[row] = u32(b, p + 28) & 0xff;
      return;
    }
    case 4: {
      // sampled IPv6: length, protocol, src(16), dst(16), src_port, dst_port, tcp_flags, priority
      if (len < 56) {
        st.ok = false;
        return;
      }
      if (st.bytesFrom < 2) {
        out.bytes[row] = u32(b, p);
        st.bytesFrom = 1;
      }
      if (st.l3 === 2) return;
      st.l3 = 1;
      out.ip_version[row] = 6;
      out.protocol[row] = u32(b, p + 4) & 0xff;
      copy16(b, p + 8, out.src_addr, row * 16);
      copy16(b, p + 24, out.dst_addr, row * 16);
      out.src_port[row] = u32(b, p + 40) & 0xffff;
      out.dst_port[row] = u32(b, p + 44) & 0xffff;
      out.tcp_flags[row] = u32(b, p + 48) & 0xff;
      out.tos[row] = u32(b, p + 52) & 0xff;
      return;
    }
    case 1001: {
      // extended switch: src_vlan, src_priority, dst_vlan, dst_priority
      if (len < 16) {
        st.ok = false;
        return;
      }
      const srcVlan = u32(b, p) & 0xfff;
      const dstVlan = u32(b, p + 8) & 0xfff;
      out.vlan[row] = srcVlan;
      st.vlanFromSwitch = true;
      if (dstVlan !== 0 && dstVlan !== srcVlan) addExtra(out, row, SFLOW_EXTRA_IE.postVlanId, dstVlan);
      return;
    }
    case 1002: {
      // extended router: next_hop address, src_mask_len, dst_mask_len
      const a = readAddress(b, p, end);
      if (a < 0 || a + 8 > end) {
        st.ok = false;
        return;
      }
      writeAddress(b, p, out.next_hop, row * 16);
      out.src_mask[row] = Math.min(u32(b, a), 128);
      out.dst_mask[row] = Math.min(u32(b, a + 4), 128);
      return;
    }
    case 1003: {
      // extended gateway: next_hop, as, src_as, src_peer_as, dst_as_path<segments>, communities<>, localpref
      const a = readAddress(b, p, end);
      if (a < 0 || a + 16 > end) {
        st.ok = false;
        return;
      }
      const t = u32(b, p);
      if (t === 1) addExtra(out, row, SFLOW_EXTRA_IE.bgpNextHopIPv4, u32(b, p + 4));
      else if (t === 2) addExtra(out, row, SFLOW_EXTRA_IE.bgpNextHopIPv6, b.slice(p + 8, p + 24));
      out.src_as[row] = u32(b, a + 4);
      const srcPeer = u32(b, a + 8);
      if (srcPeer !== 0) addExtra(out, row, SFLOW_EXTRA_IE.bgpPrevAdjacentAs, srcPeer);
      const nSeg = u32(b, a + 12);
      let q = a + 16;
      let firstAs = 0;
      let lastAs = 0;
      for (let s = 0; s < nSeg; s++) {
        if (q + 8 > end) {
          st.ok = false;
          return;
        }
        const n = u32(b, q + 4);
        q += 8;
        if (n > (end - q) / 4) {
          st.ok = false;
          return;
        }
        if (n > 0) {
          if (firstAs === 0) firstAs = u32(b, q);
          lastAs = u32(b, q + (n - 1) * 4);
        }
        q += n * 4;
      }
      out.dst_as[row] = lastAs;
      if (firstAs !== 0) addExtra(out, row, SFLOW_EXTRA_IE.bgpNextAdjacentAs, firstAs);
      return;
    }
    default:
      res.skipped++;
  }
}

/** Offset just past an sFlow address (type + 4 or 16 bytes), or -1. */
function readAddress(b: Uint8Array, p: number, end: number): number {
  if (p + 4 > end) return -1;
  const t = u32(b, p);
  const n = t === 1 ? 4 : t === 2 ? 16 : t === 0 ? 0 : -1;
  if (n < 0 || p + 4 + n > end) return -1;
  return p + 4 + n;
}

function writeAddress(b: Uint8Array, p: number, dst: Uint8Array, off: number): void {
  const t = u32(b, p);
  if (t === 1) ipv4ToBytes16(u32(b, p + 4), dst, off);
  else if (t === 2) copy16(b, p + 4, dst, off);
}

function copy16(b: Uint8Array, p: number, dst: Uint8Array, off: number): void {
  for (let i = 0; i < 16; i++) dst[off + i] = b[p + i];
}

function mac(b: Uint8Array, p: number): number {
  return u16(b, p) * 4294967296 + u32(b, p + 2);
}

function addExtra(out: FlowBatch, row: number, id: number, value: number | Uint8Array): void {
  const f: ExtraField = { pen: 0, id, value };
  const list = out.extra[row];
  if (list === undefined) out.extra[row] = [f];
  else list.push(f);
}

function decodeEthernet(b: Uint8Array, p: number, end: number, out: FlowBatch): void {
  const row = st.row;
  if (p + 14 > end) return;
  out.dst_mac[row] = mac(b, p);
  out.src_mac[row] = mac(b, p + 6);
  let type = u16(b, p + 12);
  p += 14;
  let tags = 0;
  while (type === 0x8100 || type === 0x88a8 || type === 0x9100) {
    if (p + 4 > end) return;
    const id = u16(b, p) & 0xfff;
    if (tags === 0) {
      if (!st.vlanFromSwitch) out.vlan[row] = id;
    } else if (tags === 1) {
      addExtra(out, row, SFLOW_EXTRA_IE.innerVlanId, id);
    }
    tags++;
    type = u16(b, p + 2);
    p += 4;
  }
  if (type === 0x8847 || type === 0x8848) {
    // MPLS: skip the label stack, then guess the payload from the IP version nibble.
    for (;;) {
      if (p + 4 > end) return;
      const bottom = (b[p + 2] & 1) !== 0;
      p += 4;
      if (bottom) break;
    }
    decodeIp(b, p, end, out);
    return;
  }
  if (type === 0x0800 || type === 0x86dd) decodeIp(b, p, end, out);
}

function decodeIp(b: Uint8Array, p: number, end: number, out: FlowBatch): void {
  if (p >= end) return;
  const v = b[p] >> 4;
  if (v === 4) decodeIpv4(b, p, end, out);
  else if (v === 6) decodeIpv6(b, p, end, out);
}

function decodeIpv4(b: Uint8Array, p: number, end: number, out: FlowBatch): void {
  const row = st.row;
  if (p + 20 > end) return;
  const ihl = (b[p] & 0x0f) * 4;
  if (ihl < 20) return;
  st.l3 = 2;
  out.ip_version[row] = 4;
  out.tos[row] = b[p + 1];
  const proto = b[p + 9];
  out.protocol[row] = proto;
  ipv4ToBytes16(u32(b, p + 12), out.src_addr, row * 16);
  ipv4ToBytes16(u32(b, p + 16), out.dst_addr, row * 16);
  // Only the first fragment carries the transport header.
  const fragOffset = u16(b, p + 6) & 0x1fff;
  out.src_port[row] = 0;
  out.dst_port[row] = 0;
  out.tcp_flags[row] = 0;
  if (fragOffset === 0) decodeL4(b, p + ihl, end, proto, out);
}

function decodeIpv6(b: Uint8Array, p: number, end: number, out: FlowBatch): void {
  const row = st.row;
  if (p + 40 > end) return;
  st.l3 = 2;
  out.ip_version[row] = 6;
  out.tos[row] = ((b[p] & 0x0f) << 4) | (b[p + 1] >> 4);
  copy16(b, p + 8, out.src_addr, row * 16);
  copy16(b, p + 24, out.dst_addr, row * 16);
  out.src_port[row] = 0;
  out.dst_port[row] = 0;
  out.tcp_flags[row] = 0;
  let next = b[p + 6];
  let q = p + 40;
  // Extension headers: hop-by-hop 0, routing 43, fragment 44, AH 51, destination options 60,
  // mobility 135, HIP 139, shim6 140. The protocol is the first header that is none of them.
  for (let hops = 0; hops < 16; hops++) {
    if (next === 0 || next === 43 || next === 60 || next === 135 || next === 139 || next === 140 || next === 51) {
      if (q + 8 > end) break;
      const hlen = next === 51 ? (b[q + 1] + 2) * 4 : (b[q + 1] + 1) * 8;
      next = b[q];
      q += hlen;
    } else if (next === 44) {
      if (q + 8 > end) break;
      const fragOffset = u16(b, q + 2) >> 3;
      next = b[q];
      q += 8;
      if (fragOffset !== 0) {
        out.protocol[row] = next;
        return;
      }
    } else {
      out.protocol[row] = next;
      decodeL4(b, q, end, next, out);
      return;
    }
  }
  // The header was cut inside the extension chain: the transport protocol is unknown.
  out.protocol[row] = next;
}

function decodeL4(b: Uint8Array, p: number, end: number, proto: number, out: FlowBatch): void {
  const row = st.row;
  switch (proto) {
    case 6: // TCP
      if (p + 4 <= end) {
        out.src_port[row] = u16(b, p);
        out.dst_port[row] = u16(b, p + 2);
      }
      if (p + 14 <= end) out.tcp_flags[row] = b[p + 13];
      return;
    case 17: // UDP
    case 33: // DCCP
    case 132: // SCTP
    case 136: // UDP-Lite
      if (p + 4 <= end) {
        out.src_port[row] = u16(b, p);
        out.dst_port[row] = u16(b, p + 2);
      }
      return;
    case 1: // ICMP
    case 58: // ICMPv6
      if (p + 2 <= end) out.dst_port[row] = b[p] * 256 + b[p + 1];
      return;
  }
}

function counterSample(
  b: Uint8Array,
  body: number,
  sEnd: number,
  expanded: boolean,
  res: SflowResult,
  timeReceivedMs: number,
  sink: SflowSink | undefined,
): void {
  const need = expanded ? 16 : 12;
  if (sEnd - body < need) {
    fail(res, 'bad_sample');
    return;
  }
  const seq = u32(b, body);
  let srcType: number;
  let srcIndex: number;
  let p: number;
  if (expanded) {
    srcType = u32(b, body + 4);
    srcIndex = u32(b, body + 8);
    p = body + 12;
  } else {
    const id = u32(b, body + 4);
    srcType = id >>> 24;
    srcIndex = id & 0xffffff;
    p = body + 8;
  }
  const n = u32(b, p);
  p += 4;
  for (let r = 0; r < n; r++) {
    if (p + 8 > sEnd) {
      fail(res, 'bad_sample');
      return;
    }
    const fmt = u32(b, p);
    const len = u32(b, p + 4);
    const rb = p + 8;
    if (len > sEnd - rb) {
      fail(res, 'bad_counter_record');
      return;
    }
    if (fmt === 1) {
      if (len < 88) {
        fail(res, 'bad_counter_record');
        return;
      }
      sink?.interfaceCounters({
        agentAddr: res.agentAddr,
        subAgentId: res.subAgentId,
        sourceIdType: srcType,
        sourceIdIndex: srcIndex,
        sampleSequence: seq,
        timeReceivedMs,
        uptimeMs: res.uptimeMs,
        ifIndex: u32(b, rb),
        ifType: u32(b, rb + 4),
        ifSpeed: readUint(b, rb + 8, 8),
        ifDirection: u32(b, rb + 16),
        ifStatus: u32(b, rb + 20),
        ifInOctets: readUint(b, rb + 24, 8),
        ifInUcastPkts: u32(b, rb + 32),
        ifInMulticastPkts: u32(b, rb + 36),
        ifInBroadcastPkts: u32(b, rb + 40),
        ifInDiscards: u32(b, rb + 44),
        ifInErrors: u32(b, rb + 48),
        ifInUnknownProtos: u32(b, rb + 52),
        ifOutOctets: readUint(b, rb + 56, 8),
        ifOutUcastPkts: u32(b, rb + 64),
        ifOutMulticastPkts: u32(b, rb + 68),
        ifOutBroadcastPkts: u32(b, rb + 72),
        ifOutDiscards: u32(b, rb + 76),
        ifOutErrors: u32(b, rb + 80),
        ifPromiscuousMode: u32(b, rb + 84),
      });
    } else {
      res.skipped++;
    }
    p = rb + len;
  }
}

function addrText(b: Uint8Array, p: number, alen: number): string {
  if (alen === 4) return `${b[p]}.${b[p + 1]}.${b[p + 2]}.${b[p + 3]}`;
  return bytes16ToIpText(b, p);
}

/** Is the agent address (4 or 16 bytes at b[p]) the same as the 16-byte exporter address? */
function sameAddress(b: Uint8Array, p: number, alen: number, ex16: Uint8Array): boolean {
  if (ex16.length < 16) return false;
  if (alen === 4) {
    for (let i = 0; i < 10; i++) if (ex16[i] !== 0) return false;
    if (ex16[10] !== 0xff || ex16[11] !== 0xff) return false;
    return ex16[12] === b[p] && ex16[13] === b[p + 1] && ex16[14] === b[p + 2] && ex16[15] === b[p + 3];
  }
  for (let i = 0; i < 16; i++) if (ex16[i] !== b[p + i]) return false;
  return true;
}
