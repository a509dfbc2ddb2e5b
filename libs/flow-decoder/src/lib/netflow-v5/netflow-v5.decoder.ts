import { FLOW_TYPE } from '../flow-batch';
import { checkSequence, PacketContext, PROTO_V5, SequenceState } from '../decoder-state';
import { u16, u32 } from '../reader';
import type { TemplateCache } from '../templates/template-cache';

export const V5_HEADER_LENGTH = 24;
export const V5_RECORD_LENGTH = 48;

/** ::ffff:a.b.c.d as native little-endian words: w[2] = 0xffff0000, w[3] = the 4 packet bytes. */
function copyV4Words(dst: Uint32Array, row: number, b: Uint8Array, off: number): void {
  const o = row * 4;
  dst[o] = 0;
  dst[o + 1] = 0;
  dst[o + 2] = 0xffff0000;
  dst[o + 3] = b[off] | (b[off + 1] << 8) | (b[off + 2] << 16) | (b[off + 3] << 24);
}

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
    const w = ctx.words;
    if (w !== null) {
      copyV4Words(w.src, row, b, p);
      copyV4Words(w.dst, row, b, p + 4);
      copyV4Words(w.nextHop, row, b, p + 8);
    } else {
      copyV4(out.src_addr, row, b, p);
      copyV4(out.dst_addr, row, b, p + 4);
      copyV4(out.next_hop, row, b, p + 8);
    }
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
  ctx.records += written;
  dom.records += written;
}
