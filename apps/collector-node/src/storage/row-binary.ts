import type { FlowBatch } from '@flowmesh/flow-decoder';
import { isBatchId } from './storage';

/**
 * Bytes per row in RowBinary (fixed width: no strings, no nullables): FLOW_COLUMNS in order, then
 * batch_id (schema.ts RAW_COLUMNS).
 */
export const ROW_BINARY_ROW_BYTES =
  3 * 4 + // time_received, flow_start, flow_end: DateTime = UInt32 seconds
  4 * 16 + // exporter_addr, src_addr, dst_addr, next_hop: FixedString(16)
  4 + 1 + 4 + 1 + // observation_domain, flow_type, sampling_rate, ip_version
  2 + 2 + 1 + 1 + 1 + // src_port, dst_port, protocol, tcp_flags, tos
  8 + 8 + // bytes, packets: UInt64
  4 * 4 + // in_if, out_if, src_as, dst_as
  1 + 1 + 1 + 2 + // src_mask, dst_mask, direction, vlan
  8 + 8 + // src_mac, dst_mac: UInt64
  8; // batch_id: UInt64

const TWO_32 = 4294967296;

/**
 * Little-endian cursor writer over one caller-sized buffer (RowBinary is little-endian). No growth, no
 * per-field allocation: the size of a batch is known before encoding.
 */
export class RowBinaryWriter {
  pos = 0;
  private readonly view: DataView;

  constructor(readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  u8(v: number): void {
    this.buf[this.pos++] = v;
  }
  u16(v: number): void {
    this.view.setUint16(this.pos, v, true);
    this.pos += 2;
  }
  u32(v: number): void {
    this.view.setUint32(this.pos, v, true);
    this.pos += 4;
  }
  /** A non-negative integer held in a double (exact up to 2^53); NaN and negatives become 0. */
  u64(v: number): void {
    if (!(v > 0)) v = 0;
    this.view.setUint32(this.pos, v % TWO_32, true);
    this.view.setUint32(this.pos + 4, Math.min(Math.floor(v / TWO_32), 0xffffffff), true);
    this.pos += 8;
  }
  /** A UInt64 given as its two 32-bit halves. */
  u64Halves(lo: number, hi: number): void {
    this.view.setUint32(this.pos, lo, true);
    this.view.setUint32(this.pos + 4, hi, true);
    this.pos += 8;
  }
  /** Epoch milliseconds as a DateTime (whole seconds, clamped to the type's range). */
  dateTimeMs(ms: number): void {
    let s = Math.floor(ms / 1000);
    if (!(s > 0)) s = 0;
    else if (s > 0xffffffff) s = 0xffffffff;
    this.u32(s);
  }
  fixed16(src: Uint8Array, off: number): void {
    const b = this.buf;
    let p = this.pos;
    for (let i = off, end = off + 16; i < end; i++) b[p++] = src[i];
    this.pos = p;
  }
  /** 16 bytes from a view over an address column, as four 32-bit moves (the hot path: ~4× the byte loop). */
  fixed16View(src: DataView, off: number): void {
    const v = this.view;
    const p = this.pos;
    v.setUint32(p, src.getUint32(off));
    v.setUint32(p + 4, src.getUint32(off + 4));
    v.setUint32(p + 8, src.getUint32(off + 8));
    v.setUint32(p + 12, src.getUint32(off + 12));
    this.pos = p + 16;
  }
}

/**
 * Encodes rows [0, batch.length) in FLOW_COLUMNS order plus `batchId` (16 lowercase hex digits, a
 * UInt64) as the last column of every row; returns a new buffer of exactly that size. Throws on an
 * invalid batch id (a programming error, not input).
 */
export function encodeRowBinary(batch: FlowBatch, batchId: string, alloc: (bytes: number) => Buffer = Buffer.allocUnsafe): Buffer {
  if (!isBatchId(batchId)) throw new Error(`invalid batch id ${JSON.stringify(String(batchId).slice(0, 40))}: want 16 lowercase hex digits`);
  const idHi = parseInt(batchId.slice(0, 8), 16);
  const idLo = parseInt(batchId.slice(8), 16);
  const out = alloc(batch.length * ROW_BINARY_ROW_BYTES);
  const w = new RowBinaryWriter(out);
  const view = (a: Uint8Array) => new DataView(a.buffer, a.byteOffset, a.byteLength);
  const exporter = view(batch.exporter_addr);
  const src = view(batch.src_addr);
  const dst = view(batch.dst_addr);
  const nextHop = view(batch.next_hop);
  for (let i = 0; i < batch.length; i++) {
    const a = i * 16;
    w.dateTimeMs(batch.time_received[i]);
    w.dateTimeMs(batch.flow_start[i]);
    w.dateTimeMs(batch.flow_end[i]);
    w.fixed16View(exporter, a);
    w.u32(batch.observation_domain[i]);
    w.u8(batch.flow_type[i]);
    w.u32(batch.sampling_rate[i]);
    w.u8(batch.ip_version[i]);
    w.fixed16View(src, a);
    w.fixed16View(dst, a);
    w.u16(batch.src_port[i]);
    w.u16(batch.dst_port[i]);
    w.u8(batch.protocol[i]);
    w.u8(batch.tcp_flags[i]);
    w.u8(batch.tos[i]);
    w.u64(batch.bytes[i]);
    w.u64(batch.packets[i]);
    w.u32(batch.in_if[i]);
    w.u32(batch.out_if[i]);
    w.u32(batch.src_as[i]);
    w.u32(batch.dst_as[i]);
    w.fixed16View(nextHop, a);
    w.u8(batch.src_mask[i]);
    w.u8(batch.dst_mask[i]);
    w.u8(batch.direction[i]);
    w.u16(batch.vlan[i]);
    w.u64(batch.src_mac[i]);
    w.u64(batch.dst_mac[i]);
    w.u64Halves(idLo, idHi);
  }
  if (w.pos !== out.length) throw new Error(`RowBinary size mismatch: wrote ${w.pos} of ${out.length} bytes`);
  return out;
}
