import { FLOW_TYPE } from '../flow-batch';
import { checkSequence, PacketContext, PROTO_V5, SequenceState } from '../decoder-state';
import { u16, u32 } from '../reader';
import type { TemplateCache } from '../templates/template-cache';

export const V5_HEADER_LENGTH = 24;
export const V5_RECORD_LENGTH = 48;

function copyV4(dst: Uint8Array, row: number, b: Uint8Array, off: number): void {
  const o = row * 16;
  for (let i = 0; i < 10; i++) dst[o + i] = 0;
  dst[o + 10] = 255;
  dst[o + 11] = 255;
  dst[o + 12] = b[off];
  dst[o + 13] = b[off + 1];
  dst[o + 14] = b[off + 2];
  dst[o + 15] = b[off + 3];
}

/** NetFlow v5: fixed 24-byte header + count × 48-byte records. */
export function decodeNetflowV5(ctx: PacketContext, cache: TemplateCache, b: Uint8Array): void {
  const dom = ctx.exporter.domain(PROTO_V5, 0);
  ctx.dom = dom;
  ctx.flowType = FLOW_TYPE.netflow_v5;
  if (b.length < V5_HEADER_LENGTH) {
    ctx.fail('too_short');
    return;
  }
  dom.packets++;
  const count = u16(b, 2);
  const uptime = u32(b, 4);
  const secs = u32(b, 8);
  const nsecs = u32(b, 12);
  const seq = u32(b, 16);
  const engine = u16(b, 20);
  const interval = u16(b, 22) & 0x3fff;
  const rate = interval <= 1 ? 1 : interval;
  const exportMs = secs * 1000 + Math.floor(nsecs / 1e6);
  ctx.exportMs = exportMs;
  ctx.sysUptime = uptime;

  let n = count;
  const available = Math.floor((b.length - V5_HEADER_LENGTH) / V5_RECORD_LENGTH);
  if (n > available) {
    ctx.fail('truncated');
    n = available;
  }

  if (dom.seqByEngine === null) dom.seqByEngine = new Map();
  let st = dom.seqByEngine.get(engine);
  if (st === undefined) {
    st = new SequenceState();
    dom.seqByEngine.set(engine, st);
  }
  checkSequence(dom, st, seq, count, cache.opts.sequenceResetRecords, uptime);

  const written =
    ctx.words === null
      ? v5RecordsPortable(ctx, b, n, rate, exportMs, uptime)
      : (b.byteOffset & 3) === 0 && n > 0
        ? v5RecordsAligned(ctx, b, n, rate, exportMs, uptime)
        : v5RecordsFast(ctx, b, n, rate, exportMs, uptime);
  ctx.records += written;
  dom.records += written;
}

/**
 * The hot path (little-endian hosts): the fixed 48-byte layout straight into the columns, held in
 * locals (onFull flushes and clears the same batch, so the columns do not change), addresses as
 * 32-bit words, every column written so the batch's row zeroing is skipped.
 */
function v5RecordsFast(ctx: PacketContext, b: Uint8Array, n: number, rate: number, exportMs: number, uptime: number): number {
  const out = ctx.out;
  const w = ctx.words!;
  const WE = w.exporter;
  const WS = w.src;
  const WD = w.dst;
  const WN = w.nextHop;
  const aw = ctx.exporter.addrWords;
  const e0 = aw[0];
  const e1 = aw[1];
  const e2 = aw[2];
  const e3 = aw[3];
  const tr = ctx.timeReceived;
  const od = ctx.dom.domain;
  const ft = ctx.flowType;
  const K_time_received = out.time_received;
  const K_observation_domain = out.observation_domain;
  const K_flow_type = out.flow_type;
  const K_sampling_rate = out.sampling_rate;
  const K_ip_version = out.ip_version;
  const K_in_if = out.in_if;
  const K_out_if = out.out_if;
  const K_packets = out.packets;
  const K_bytes = out.bytes;
  const K_flow_start = out.flow_start;
  const K_flow_end = out.flow_end;
  const K_src_port = out.src_port;
  const K_dst_port = out.dst_port;
  const K_tcp_flags = out.tcp_flags;
  const K_protocol = out.protocol;
  const K_tos = out.tos;
  const K_src_as = out.src_as;
  const K_dst_as = out.dst_as;
  const K_src_mask = out.src_mask;
  const K_dst_mask = out.dst_mask;
  const K_direction = out.direction;
  const K_vlan = out.vlan;
  const K_src_mac = out.src_mac;
  const K_dst_mac = out.dst_mac;
  const K_extra = out.extra;
  let written = 0;
  for (let r = 0, p = V5_HEADER_LENGTH; r < n; r++, p += V5_RECORD_LENGTH) {
    let row: number;
    if (out.length < out.capacity) row = out.length++;
    else {
      row = ctx.nextRow();
      if (row < 0) break;
    }
    const o = row * 4;
    K_time_received[row] = tr;
    WE[o] = e0;
    WE[o + 1] = e1;
    WE[o + 2] = e2;
    WE[o + 3] = e3;
    K_observation_domain[row] = od;
    K_flow_type[row] = ft;
    K_sampling_rate[row] = rate;
    K_ip_version[row] = 4;
    WS[o] = 0;
    WS[o + 1] = 0;
    WS[o + 2] = 0xffff0000;
    WS[o + 3] = b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24);
    WD[o] = 0;
    WD[o + 1] = 0;
    WD[o + 2] = 0xffff0000;
    WD[o + 3] = b[p + 4] | (b[p + 5] << 8) | (b[p + 6] << 16) | (b[p + 7] << 24);
    WN[o] = 0;
    WN[o + 1] = 0;
    WN[o + 2] = 0xffff0000;
    WN[o + 3] = b[p + 8] | (b[p + 9] << 8) | (b[p + 10] << 16) | (b[p + 11] << 24);
    K_in_if[row] = (b[p + 12] << 8) | b[p + 13];
    K_out_if[row] = (b[p + 14] << 8) | b[p + 15];
    K_packets[row] = ((b[p + 16] << 24) | (b[p + 17] << 16) | (b[p + 18] << 8) | b[p + 19]) >>> 0;
    K_bytes[row] = ((b[p + 20] << 24) | (b[p + 21] << 16) | (b[p + 22] << 8) | b[p + 23]) >>> 0;
    K_flow_start[row] = exportMs - ((uptime - ((b[p + 24] << 24) | (b[p + 25] << 16) | (b[p + 26] << 8) | b[p + 27])) | 0);
    K_flow_end[row] = exportMs - ((uptime - ((b[p + 28] << 24) | (b[p + 29] << 16) | (b[p + 30] << 8) | b[p + 31])) | 0);
    K_src_port[row] = (b[p + 32] << 8) | b[p + 33];
    K_dst_port[row] = (b[p + 34] << 8) | b[p + 35];
    K_tcp_flags[row] = b[p + 37];
    K_protocol[row] = b[p + 38];
    K_tos[row] = b[p + 39];
    K_src_as[row] = (b[p + 40] << 8) | b[p + 41];
    K_dst_as[row] = (b[p + 42] << 8) | b[p + 43];
    K_src_mask[row] = b[p + 44];
    K_dst_mask[row] = b[p + 45];
    K_direction[row] = 0;
    K_vlan[row] = 0;
    K_src_mac[row] = 0;
    K_dst_mac[row] = 0;
    K_extra[row] = undefined;
    written++;
  }
  return written;
}

/** Any host: the same fields through the byte columns. */
function v5RecordsPortable(ctx: PacketContext, b: Uint8Array, n: number, rate: number, exportMs: number, uptime: number): number {
  let written = 0;
  for (let r = 0; r < n; r++) {
    let out = ctx.out;
    let row: number;
    // every column is written below, so the batch's zeroing in next() is skipped when there is room
    if (out.length < out.capacity) row = out.length++;
    else {
      row = ctx.nextRow();
      if (row < 0) break;
      out = ctx.out;
    }
    const p = V5_HEADER_LENGTH + r * V5_RECORD_LENGTH;
    ctx.writeCommon(row);
    out.sampling_rate[row] = rate;
    out.ip_version[row] = 4;
    copyV4(out.src_addr, row, b, p);
    copyV4(out.dst_addr, row, b, p + 4);
    copyV4(out.next_hop, row, b, p + 8);
    out.in_if[row] = u16(b, p + 12);
    out.out_if[row] = u16(b, p + 14);
    out.packets[row] = u32(b, p + 16);
    out.bytes[row] = u32(b, p + 20);
    out.flow_start[row] = exportMs - ((uptime - u32(b, p + 24)) | 0);
    out.flow_end[row] = exportMs - ((uptime - u32(b, p + 28)) | 0);
    out.src_port[row] = u16(b, p + 32);
    out.dst_port[row] = u16(b, p + 34);
    out.tcp_flags[row] = b[p + 37];
    out.protocol[row] = b[p + 38];
    out.tos[row] = b[p + 39];
    out.src_as[row] = u16(b, p + 40);
    out.dst_as[row] = u16(b, p + 42);
    out.src_mask[row] = b[p + 44];
    out.dst_mask[row] = b[p + 45];
    out.direction[row] = 0;
    out.vlan[row] = 0;
    out.src_mac[row] = 0;
    out.dst_mac[row] = 0;
    out.extra[row] = undefined;
    written++;
  }
  return written;
}

/** Big-endian uint32 from a little-endian word read (byte swap). */
function bswap(x: number): number {
  return ((x << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) >>> 0;
}

/**
 * The hot path for a 4-byte-aligned payload on a little-endian host (what dgram hands out): the
 * records are read as 32-bit words, 12 loads per record instead of 46 byte loads. Addresses need no
 * swap at all (the address columns hold the wire bytes as native words). Same output as v5RecordsFast.
 */
function v5RecordsAligned(ctx: PacketContext, b: Uint8Array, n: number, rate: number, exportMs: number, uptime: number): number {
  const U = new Uint32Array(b.buffer, b.byteOffset, (V5_HEADER_LENGTH + n * V5_RECORD_LENGTH) >>> 2);
  const out = ctx.out;
  const w = ctx.words!;
  const WE = w.exporter;
  const WS = w.src;
  const WD = w.dst;
  const WN = w.nextHop;
  const aw = ctx.exporter.addrWords;
  const e0 = aw[0];
  const e1 = aw[1];
  const e2 = aw[2];
  const e3 = aw[3];
  const tr = ctx.timeReceived;
  const od = ctx.dom.domain;
  const ft = ctx.flowType;
  const K_time_received = out.time_received;
  const K_observation_domain = out.observation_domain;
  const K_flow_type = out.flow_type;
  const K_sampling_rate = out.sampling_rate;
  const K_ip_version = out.ip_version;
  const K_in_if = out.in_if;
  const K_out_if = out.out_if;
  const K_packets = out.packets;
  const K_bytes = out.bytes;
  const K_flow_start = out.flow_start;
  const K_flow_end = out.flow_end;
  const K_src_port = out.src_port;
  const K_dst_port = out.dst_port;
  const K_tcp_flags = out.tcp_flags;
  const K_protocol = out.protocol;
  const K_tos = out.tos;
  const K_src_as = out.src_as;
  const K_dst_as = out.dst_as;
  const K_src_mask = out.src_mask;
  const K_dst_mask = out.dst_mask;
  const K_direction = out.direction;
  const K_vlan = out.vlan;
  const K_src_mac = out.src_mac;
  const K_dst_mac = out.dst_mac;
  const K_extra = out.extra;
  let written = 0;
  for (let r = 0, q = V5_HEADER_LENGTH >>> 2; r < n; r++, q += V5_RECORD_LENGTH >>> 2) {
    let row: number;
    if (out.length < out.capacity) row = out.length++;
    else {
      row = ctx.nextRow();
      if (row < 0) break;
    }
    const o = row * 4;
    K_time_received[row] = tr;
    WE[o] = e0;
    WE[o + 1] = e1;
    WE[o + 2] = e2;
    WE[o + 3] = e3;
    K_observation_domain[row] = od;
    K_flow_type[row] = ft;
    K_sampling_rate[row] = rate;
    K_ip_version[row] = 4;
    WS[o] = 0;
    WS[o + 1] = 0;
    WS[o + 2] = 0xffff0000;
    WS[o + 3] = U[q];
    WD[o] = 0;
    WD[o + 1] = 0;
    WD[o + 2] = 0xffff0000;
    WD[o + 3] = U[q + 1];
    WN[o] = 0;
    WN[o + 1] = 0;
    WN[o + 2] = 0xffff0000;
    WN[o + 3] = U[q + 2];
    const ifs = U[q + 3];
    K_in_if[row] = ((ifs & 0xff) << 8) | ((ifs >>> 8) & 0xff);
    K_out_if[row] = ((ifs >>> 8) & 0xff00) | (ifs >>> 24);
    K_packets[row] = bswap(U[q + 4]);
    K_bytes[row] = bswap(U[q + 5]);
    K_flow_start[row] = exportMs - ((uptime - bswap(U[q + 6])) | 0);
    K_flow_end[row] = exportMs - ((uptime - bswap(U[q + 7])) | 0);
    const ports = U[q + 8];
    K_src_port[row] = ((ports & 0xff) << 8) | ((ports >>> 8) & 0xff);
    K_dst_port[row] = ((ports >>> 8) & 0xff00) | (ports >>> 24);
    const m = U[q + 9];
    K_tcp_flags[row] = (m >>> 8) & 0xff;
    K_protocol[row] = (m >>> 16) & 0xff;
    K_tos[row] = m >>> 24;
    const as = U[q + 10];
    K_src_as[row] = ((as & 0xff) << 8) | ((as >>> 8) & 0xff);
    K_dst_as[row] = ((as >>> 8) & 0xff00) | (as >>> 24);
    const masks = U[q + 11];
    K_src_mask[row] = masks & 0xff;
    K_dst_mask[row] = (masks >>> 8) & 0xff;
    K_direction[row] = 0;
    K_vlan[row] = 0;
    K_src_mac[row] = 0;
    K_dst_mac[row] = 0;
    K_extra[row] = undefined;
    written++;
  }
  return written;
}
