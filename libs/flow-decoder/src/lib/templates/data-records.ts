import type { ExtraField, FlowBatch } from '../flow-batch';
import type { PacketContext } from '../decoder-state';
import { readUint, u16, u32 } from '../reader';
import * as T from './template-compiler';
import type { CompiledTemplate } from './template-compiler';
import { fastDecoderFor, NOT_COVERED_SLOT, type FastDecode } from './template-codegen';

const NTP_UNIX_OFFSET_S = 2208988800;

function allZero(b: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (b[i] !== 0) return false;
  return true;
}

export function ntpToMs(b: Uint8Array, off: number): number {
  const sec = u32(b, off);
  const frac = u32(b, off + 4);
  if (sec === 0 && frac === 0) return -1;
  return (sec - NTP_UNIX_OFFSET_S) * 1000 + Math.floor((frac * 1000) / 4294967296);
}

export function pushExtra(out: FlowBatch, row: number, t: CompiledTemplate, f: number, b: Uint8Array, off: number, len: number): void {
  const value: number | Uint8Array = len <= 6 ? readUint(b, off, len) : b.slice(off, off + len);
  const e: ExtraField = { pen: t.pens[f], id: t.ids[f], value };
  const list = out.extra[row];
  if (list === undefined) out.extra[row] = [e];
  else list.push(e);
}

function applyField(
  ctx: PacketContext,
  out: FlowBatch,
  row: number,
  op: number,
  b: Uint8Array,
  off: number,
  len: number,
  t: CompiledTemplate,
  f: number,
): void {
  switch (op) {
    case T.OP_SKIP:
      return;
    case T.OP_BYTES:
      out.bytes[row] = readUint(b, off, len);
      return;
    case T.OP_PACKETS:
      out.packets[row] = readUint(b, off, len);
      return;
    case T.OP_SRC4: {
      const a = out.src_addr;
      const o = row * 16;
      a[o + 10] = 255;
      a[o + 11] = 255;
      a[o + 12] = b[off];
      a[o + 13] = b[off + 1];
      a[o + 14] = b[off + 2];
      a[o + 15] = b[off + 3];
      if (ctx.ipv === 0) ctx.ipv = 4;
      return;
    }
    case T.OP_DST4: {
      const a = out.dst_addr;
      const o = row * 16;
      a[o + 10] = 255;
      a[o + 11] = 255;
      a[o + 12] = b[off];
      a[o + 13] = b[off + 1];
      a[o + 14] = b[off + 2];
      a[o + 15] = b[off + 3];
      if (ctx.ipv === 0) ctx.ipv = 4;
      return;
    }
    case T.OP_NH4: {
      const a = out.next_hop;
      const o = row * 16;
      a[o + 10] = 255;
      a[o + 11] = 255;
      a[o + 12] = b[off];
      a[o + 13] = b[off + 1];
      a[o + 14] = b[off + 2];
      a[o + 15] = b[off + 3];
      return;
    }
    case T.OP_SRC6:
    case T.OP_DST6:
    case T.OP_NH6: {
      if (allZero(b, off, off + 16)) return;
      const a = op === T.OP_SRC6 ? out.src_addr : op === T.OP_DST6 ? out.dst_addr : out.next_hop;
      const o = row * 16;
      for (let i = 0; i < 16; i++) a[o + i] = b[off + i];
      if (op !== T.OP_NH6) ctx.ipv = 6;
      return;
    }
    case T.OP_SPORT:
      out.src_port[row] = readUint(b, off, len);
      return;
    case T.OP_DPORT:
      out.dst_port[row] = readUint(b, off, len);
      return;
    case T.OP_ICMP_TYPECODE:
      out.dst_port[row] = len >= 2 ? (b[off + len - 2] << 8) | b[off + len - 1] : b[off];
      return;
    case T.OP_ICMP_TYPE:
      out.dst_port[row] = (out.dst_port[row] & 0xff) | (b[off + len - 1] << 8);
      return;
    case T.OP_ICMP_CODE:
      out.dst_port[row] = (out.dst_port[row] & 0xff00) | b[off + len - 1];
      return;
    case T.OP_PROTO:
      out.protocol[row] = b[off + len - 1];
      return;
    case T.OP_TCPFLAGS:
      out.tcp_flags[row] = b[off + len - 1];
      return;
    case T.OP_TOS:
      out.tos[row] = b[off + len - 1];
      return;
    case T.OP_INIF:
      out.in_if[row] = readUint(b, off, len);
      return;
    case T.OP_OUTIF:
      out.out_if[row] = readUint(b, off, len);
      return;
    case T.OP_SRCAS:
      out.src_as[row] = readUint(b, off, len);
      return;
    case T.OP_DSTAS:
      out.dst_as[row] = readUint(b, off, len);
      return;
    case T.OP_SMASK:
      out.src_mask[row] = b[off + len - 1];
      return;
    case T.OP_DMASK:
      out.dst_mask[row] = b[off + len - 1];
      return;
    case T.OP_DIR: {
      const v = readUint(b, off, len);
      out.direction[row] = v === 0 ? 1 : v === 1 ? 2 : 0;
      return;
    }
    case T.OP_VLAN:
      out.vlan[row] = readUint(b, off, len) & 0xfff;
      return;
    case T.OP_VLAN_ALT:
      if (out.vlan[row] === 0) out.vlan[row] = readUint(b, off, len) & 0xfff;
      return;
    case T.OP_SMAC:
      out.src_mac[row] = readUint(b, off, 6);
      return;
    case T.OP_SMAC_ALT:
      if (out.src_mac[row] === 0) out.src_mac[row] = readUint(b, off, 6);
      return;
    case T.OP_DMAC:
      out.dst_mac[row] = readUint(b, off, 6);
      return;
    case T.OP_DMAC_ALT:
      if (out.dst_mac[row] === 0) out.dst_mac[row] = readUint(b, off, 6);
      return;
    case T.OP_BYTES_ALT:
      if (out.bytes[row] === 0) out.bytes[row] = readUint(b, off, len);
      return;
    case T.OP_PACKETS_ALT:
      if (out.packets[row] === 0) out.packets[row] = readUint(b, off, len);
      return;
    case T.OP_IPVER: {
      const v = b[off + len - 1];
      if (v === 4 || v === 6) ctx.ipvExplicit = v;
      return;
    }
    case T.OP_FIRST_UP:
      ctx.firstUp = readUint(b, off, len);
      return;
    case T.OP_LAST_UP:
      ctx.lastUp = readUint(b, off, len);
      return;
    case T.OP_START_S:
      ctx.startMs = readUint(b, off, len) * 1000;
      return;
    case T.OP_END_S:
      ctx.endMs = readUint(b, off, len) * 1000;
      return;
    case T.OP_START_MS:
      ctx.startMs = readUint(b, off, len);
      return;
    case T.OP_END_MS:
      ctx.endMs = readUint(b, off, len);
      return;
    case T.OP_START_NTP:
      ctx.startMs = ntpToMs(b, off);
      return;
    case T.OP_END_NTP:
      ctx.endMs = ntpToMs(b, off);
      return;
    case T.OP_START_DELTA:
      ctx.startMs = Math.floor(ctx.exportMs - readUint(b, off, len) / 1000);
      return;
    case T.OP_END_DELTA:
      ctx.endMs = Math.floor(ctx.exportMs - readUint(b, off, len) / 1000);
      return;
    case T.OP_SYSINIT:
      ctx.initMs = readUint(b, off, len);
      return;
    case T.OP_SAMPLER_ID:
      ctx.samplerId = readUint(b, off, len);
      return;
    case T.OP_SAMPLING_INTERVAL:
      ctx.rate = readUint(b, off, len);
      return;
    case T.OP_PKT_INTERVAL:
      ctx.pktInterval = readUint(b, off, len);
      return;
    case T.OP_PKT_SPACE:
      ctx.pktSpace = readUint(b, off, len);
      return;
    default:
      pushExtra(out, row, t, f, b, off, len);
  }
}

const HELPERS = { extra: pushExtra, readUint, ntpToMs };

function resetScratch(ctx: PacketContext): void {
  ctx.firstUp = -1;
  ctx.lastUp = -1;
  ctx.startMs = -1;
  ctx.endMs = -1;
  ctx.initMs = -1;
  ctx.samplerId = -1;
  ctx.rate = 0;
  ctx.pktInterval = 0;
  ctx.pktSpace = 0;
  ctx.ipv = 0;
  ctx.ipvExplicit = 0;
}

function uptimeToMs(ctx: PacketContext, up: number): number {
  if (ctx.sysUptime >= 0) return ctx.exportMs - ((ctx.sysUptime - up) | 0);
  const init = ctx.initMs > 0 ? ctx.initMs : ctx.dom.systemInitMs;
  return init > 0 ? init + up : -1;
}

/** Rate from the record's own sampling fields, 0 when it has none. */
function recordRate(ctx: PacketContext): number {
  if (ctx.rate > 0) return ctx.rate;
  if (ctx.pktInterval > 0) {
    return ctx.pktSpace > 0 ? Math.round((ctx.pktInterval + ctx.pktSpace) / ctx.pktInterval) : ctx.pktInterval;
  }
  return 0;
}

function finalizeRow(ctx: PacketContext, out: FlowBatch, row: number): void {
  let s = ctx.startMs;
  let e = ctx.endMs;
  if (s < 0 && ctx.firstUp >= 0) s = uptimeToMs(ctx, ctx.firstUp);
  if (e < 0 && ctx.lastUp >= 0) e = uptimeToMs(ctx, ctx.lastUp);
  if (s < 0) s = e >= 0 ? e : ctx.exportMs;
  if (e < 0) e = s;
  out.flow_start[row] = s;
  out.flow_end[row] = e;

  let rate = recordRate(ctx);
  if (rate === 0) {
    const dom = ctx.dom;
    if (ctx.samplerId >= 0 && dom.samplers !== null) rate = dom.samplers.get(ctx.samplerId) ?? 0;
    if (rate === 0) rate = dom.fallbackRate;
  }
  out.sampling_rate[row] = rate >= 1 ? rate : 1;
  out.ip_version[row] = ctx.ipvExplicit !== 0 ? ctx.ipvExplicit : ctx.ipv;
}

/**
 * Decodes the flow records of one data set body b[start..end) into ctx.out.
 * Returns the number of data records the set held (for IPFIX sequence accounting).
 */
export function decodeFlowRecords(ctx: PacketContext, t: CompiledTemplate, b: Uint8Array, start: number, end: number): number {
  let slot = t.fast;
  // counted once per packet: a template redefined in every packet (template churn) stays interpreted
  // instead of costing a code generation each time
  if (slot === undefined && ctx.codegenAfter > 0 && t.usePacket !== ctx.packetSerial) {
    t.usePacket = ctx.packetSerial;
    if (++t.uses >= ctx.codegenAfter) slot = t.fast = fastDecoderFor(t, HELPERS, ctx.mayGenerate);
  }
  if (slot !== undefined && slot.fn === null && slot !== NOT_COVERED_SLOT) {
    // evicted or deferred (budget): interpret, and ask again after codegenAfter more packets
    t.fast = undefined;
    t.uses = 0;
  } else if (slot !== undefined && slot.fn !== null && ctx.words !== null) {
    const n = (slot.fn as FastDecode)(ctx, t, b, start, end);
    ctx.records += n;
    const p = ctx.fastEnd;
    if (p < 0) ctx.fail('bad_record');
    else if (!ctx.aborted && p < end && !allZero(b, p, end)) ctx.fail('bad_record');
    return n;
  }
  const ops = t.ops;
  const nOps = t.nFields * 4;
  const fixed = t.fixedLength;
  const minLength = t.minLength;
  let n = 0;
  let p = start;
  for (;;) {
    const remain = end - p;
    if (remain < minLength) {
      if (remain > 0 && !allZero(b, p, end)) ctx.fail('bad_record');
      break;
    }
    const row = ctx.nextRow();
    if (row < 0) break;
    const out = ctx.out;
    ctx.writeCommon(row);
    resetScratch(ctx);
    if (fixed > 0) {
      for (let k = 0; k < nOps; k += 4) {
        applyField(ctx, out, row, ops[k], b, p + ops[k + 1], ops[k + 2], t, ops[k + 3]);
      }
      p += fixed;
    } else {
      let q = p;
      let bad = false;
      for (let k = 0; k < nOps; k += 4) {
        let len = ops[k + 2];
        if (len === T.VARIABLE_LENGTH) {
          if (q >= end) {
            bad = true;
            break;
          }
          len = b[q++];
          if (len === 255) {
            if (q + 2 > end) {
              bad = true;
              break;
            }
            len = u16(b, q);
            q += 2;
          }
        }
        if (q + len > end) {
          bad = true;
          break;
        }
        applyField(ctx, out, row, ops[k], b, q, len, t, ops[k + 3]);
        q += len;
      }
      if (bad) {
        out.pop();
        ctx.fail('bad_record');
        break;
      }
      p = q;
    }
    finalizeRow(ctx, out, row);
    n++;
    ctx.records++;
  }
  return n;
}

/**
 * Options data: learns sampling (IE 34/50/305/306 keyed by IE 48/302) and IPFIX systemInitTimeMilliseconds (160)
 * for the domain. Returns the number of records.
 */
export function decodeOptionsRecords(ctx: PacketContext, t: CompiledTemplate, b: Uint8Array, start: number, end: number): number {
  const ops = t.ops;
  const nOps = t.nFields * 4;
  let n = 0;
  let p = start;
  const dom = ctx.dom;
  for (;;) {
    const remain = end - p;
    if (remain < t.minLength) {
      if (remain > 0 && !allZero(b, p, end)) ctx.fail('bad_record');
      break;
    }
    resetScratch(ctx);
    let q = p;
    let bad = false;
    for (let k = 0; k < nOps; k += 4) {
      let len = ops[k + 2];
      if (len === T.VARIABLE_LENGTH) {
        if (q >= end) {
          bad = true;
          break;
        }
        len = b[q++];
        if (len === 255) {
          if (q + 2 > end) {
            bad = true;
            break;
          }
          len = u16(b, q);
          q += 2;
        }
      }
      if (q + len > end) {
        bad = true;
        break;
      }
      const op = ops[k];
      if (op === T.OP_SAMPLER_ID) ctx.samplerId = readUint(b, q, len);
      else if (op === T.OP_SAMPLING_INTERVAL) ctx.rate = readUint(b, q, len);
      else if (op === T.OP_PKT_INTERVAL) ctx.pktInterval = readUint(b, q, len);
      else if (op === T.OP_PKT_SPACE) ctx.pktSpace = readUint(b, q, len);
      else if (op === T.OP_SYSINIT) ctx.initMs = readUint(b, q, len);
      q += len;
    }
    if (bad) {
      ctx.fail('bad_record');
      break;
    }
    const rate = recordRate(ctx);
    if (rate > 0) dom.setSampler(ctx.samplerId, rate);
    if (ctx.initMs > 0) dom.systemInitMs = ctx.initMs;
    p = q;
    n++;
  }
  return n;
}
