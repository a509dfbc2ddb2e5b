import type { SynthFlow } from './flow-mix';

/** Cursor writer over a caller-sized Buffer; big-endian, no bounds growth (sizes are known). */
export class ByteWriter {
  pos = 0;
  constructor(readonly buf: Buffer) {}
  u8(v: number): void {
    this.buf[this.pos++] = v & 0xff;
  }
  u16(v: number): void {
    this.buf.writeUInt16BE(v & 0xffff, this.pos);
    this.pos += 2;
  }
  u32(v: number): void {
    this.buf.writeUInt32BE(v >>> 0, this.pos);
    this.pos += 4;
  }
  /** A non-negative integer ≤ 2^53 as 8 bytes. */
  u64(v: number): void {
    this.u32(Math.floor(v / 0x100000000));
    this.u32(v % 0x100000000);
  }
  bytes(b: Uint8Array): void {
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  zeros(n: number): void {
    this.buf.fill(0, this.pos, this.pos + n);
    this.pos += n;
  }
  /** A copy of what was written so far. */
  take(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }
}

export const PEN_DOCUMENTATION = 32473; // RFC 5612
export const V5_HEADER = 24;
export const V5_RECORD = 48;
export const V9_HEADER = 20;
export const IPFIX_HEADER = 16;
export const TEMPLATE_V4 = 256;
export const TEMPLATE_V6 = 257;
/** The exporter booted this long before the generator's base time (v5/v9 sysUptime). */
export const UPTIME_AT_BASE_MS = 3_600_000;
export const VARLEN = 0xffff;

export interface EncodeContext {
  /** Epoch ms of sysUptime 0 (v5/v9 record times are relative to it). */
  bootMs: number;
  /** Index of the record inside its message (drives the varlen 3-octet form). */
  index: number;
}

interface FieldSpec {
  id: number;
  len: number;
  pen?: number;
  put(w: ByteWriter, f: SynthFlow, ctx: EncodeContext): void;
}

const f = (id: number, len: number, put: FieldSpec['put'], pen?: number): FieldSpec => ({ id, len, put, pen });
const addr = (id: number, len: number, pick: (x: SynthFlow) => Uint8Array): FieldSpec => f(id, len, (w, x) => w.bytes(pick(x)));
const num = (id: number, len: number, pick: (x: SynthFlow) => number): FieldSpec =>
  f(id, len, (w, x) => {
    const v = pick(x);
    if (len === 1) w.u8(v);
    else if (len === 2) w.u16(v);
    else if (len === 4) w.u32(v);
    else w.u64(v);
  });

/** Fields shared by the IPv4 and IPv6 layouts after the three addresses. */
function commonFields(ifLen: number, ctrLen: number, times: FieldSpec[]): FieldSpec[] {
  return [
    num(10, ifLen, (x) => x.inIf), num(14, ifLen, (x) => x.outIf),
    num(2, ctrLen, (x) => x.packets), num(1, ctrLen, (x) => x.bytes),
    ...times,
    num(7, 2, (x) => x.srcPort), num(11, 2, (x) => x.dstPort),
    num(6, 1, (x) => x.tcpFlags), num(4, 1, (x) => x.protocol), num(5, 1, (x) => x.tos),
    num(16, 4, (x) => x.srcAs), num(17, 4, (x) => x.dstAs),
  ];
}

const v4Addrs = [addr(8, 4, (x) => x.src), addr(12, 4, (x) => x.dst), addr(15, 4, (x) => x.nextHop)];
const v6Addrs = [addr(27, 16, (x) => x.src), addr(28, 16, (x) => x.dst), addr(62, 16, (x) => x.nextHop)];
const v4Masks = [num(9, 1, (x) => x.srcMask), num(13, 1, (x) => x.dstMask)];
const v6Masks = [num(29, 1, (x) => x.srcMask), num(30, 1, (x) => x.dstMask)];

// NetFlow v9 (RFC 3954): FIRST_SWITCHED (22) / LAST_SWITCHED (21) are sysUptime milliseconds.
const v9Times = [
  f(22, 4, (w, x, c) => w.u32(x.startMs - c.bootMs)),
  f(21, 4, (w, x, c) => w.u32(x.endMs - c.bootMs)),
];
// IPFIX: flowStartMilliseconds (152) / flowEndMilliseconds (153), absolute.
const ipfixTimes = [f(152, 8, (w, x) => w.u64(x.startMs)), f(153, 8, (w, x) => w.u64(x.endMs))];

export type IpfixVariant = 'ipfix' | 'ipfix-varlen' | 'ipfix-ent';

const varlenFields = [
  f(96, VARLEN, (w, x, c) => {
    // RFC 7011 §7: the 3-octet form is legal for short values too; exercise it every 16th record.
    if (c.index % 16 === 15) {
      w.u8(255);
      w.u16(x.app.length);
    } else {
      w.u8(x.app.length);
    }
    w.bytes(x.app);
  }),
];
const entFields = [
  f(1, 4, (w, x) => w.u32(x.ent1), PEN_DOCUMENTATION),
  f(2, 8, (w, x) => {
    w.u32(x.ent2Hi);
    w.u32(x.ent2Lo);
  }, PEN_DOCUMENTATION),
];

export interface Layout {
  v4: FieldSpec[];
  v6: FieldSpec[];
}

export const V9_LAYOUT: Layout = {
  v4: [...v4Addrs, ...commonFields(2, 4, v9Times), ...v4Masks],
  v6: [...v6Addrs, ...commonFields(2, 4, v9Times), ...v6Masks],
};

export function ipfixLayout(variant: IpfixVariant): Layout {
  const extra = variant === 'ipfix-varlen' ? varlenFields : variant === 'ipfix-ent' ? entFields : [];
  return {
    v4: [...v4Addrs, ...commonFields(4, 8, ipfixTimes), ...v4Masks, ...extra],
    v6: [...v6Addrs, ...commonFields(4, 8, ipfixTimes), ...v6Masks, ...extra],
  };
}

function writeRecords(w: ByteWriter, fields: FieldSpec[], flows: SynthFlow[], ctx: EncodeContext): void {
  for (const flow of flows) {
    for (const field of fields) field.put(w, flow, ctx);
    ctx.index++;
  }
}

const scratch = (): ByteWriter => new ByteWriter(Buffer.alloc(65_535));

// ------------------------------------------------------------------ NetFlow v5

/** Header fields left zero here (uptime, time, sequence) are stamped at send time. */
export function encodeV5(flows: SynthFlow[], bootMs: number, sourceId: number): Buffer {
  const w = new ByteWriter(Buffer.alloc(V5_HEADER + V5_RECORD * flows.length));
  w.u16(5);
  w.u16(flows.length);
  w.zeros(16); // sysUptime, unix_secs, unix_nsecs, flow_sequence
  w.u8((sourceId >>> 8) & 0xff); // engine_type
  w.u8(sourceId & 0xff); // engine_id
  w.u16(0); // sampling: none
  const as16 = (asn: number): number => (asn > 0xffff ? 23456 : asn); // AS_TRANS (RFC 6793)
  for (const x of flows) {
    w.bytes(x.src);
    w.bytes(x.dst);
    w.bytes(x.nextHop);
    w.u16(x.inIf);
    w.u16(x.outIf);
    w.u32(x.packets);
    w.u32(x.bytes);
    w.u32(x.startMs - bootMs);
    w.u32(x.endMs - bootMs);
    w.u16(x.srcPort);
    w.u16(x.dstPort);
    w.u8(0);
    w.u8(x.tcpFlags);
    w.u8(x.protocol);
    w.u8(x.tos);
    w.u16(as16(x.srcAs));
    w.u16(as16(x.dstAs));
    w.u8(x.srcMask);
    w.u8(x.dstMask);
    w.u16(0);
  }
  return w.buf;
}

// ------------------------------------------------------------------ NetFlow v9

export function encodeV9Data(flows4: SynthFlow[], flows6: SynthFlow[], bootMs: number, sourceId: number): Buffer {
  const w = scratch();
  w.u16(9);
  w.u16(flows4.length + flows6.length);
  w.zeros(12); // sysUptime, unix_secs, package_sequence
  w.u32(sourceId);
  const ctx: EncodeContext = { bootMs, index: 0 };
  for (const [tid, fields, flows] of [[TEMPLATE_V4, V9_LAYOUT.v4, flows4], [TEMPLATE_V6, V9_LAYOUT.v6, flows6]] as const) {
    if (flows.length === 0) continue;
    const start = w.pos;
    w.u16(tid);
    w.u16(0);
    writeRecords(w, fields, flows, ctx);
    w.zeros((4 - ((w.pos - start) % 4)) % 4); // RFC 3954: flowsets pad to 32 bits
    w.buf.writeUInt16BE(w.pos - start, start + 2);
  }
  return w.take();
}

export function encodeV9Template(sourceId: number): Buffer {
  const w = scratch();
  w.u16(9);
  w.u16(2);
  w.zeros(12);
  w.u32(sourceId);
  const start = w.pos;
  w.u16(0); // template flowset
  w.u16(0);
  for (const [tid, fields] of [[TEMPLATE_V4, V9_LAYOUT.v4], [TEMPLATE_V6, V9_LAYOUT.v6]] as const) {
    w.u16(tid);
    w.u16(fields.length);
    for (const fs of fields) {
      w.u16(fs.id);
      w.u16(fs.len);
    }
  }
  w.buf.writeUInt16BE(w.pos - start, start + 2);
  return w.take();
}

// ------------------------------------------------------------------ IPFIX

export function encodeIpfixData(layout: Layout, flows4: SynthFlow[], flows6: SynthFlow[], domain: number): Buffer {
  const w = scratch();
  w.u16(10);
  w.u16(0);
  w.zeros(8); // export time, sequence
  w.u32(domain);
  const ctx: EncodeContext = { bootMs: 0, index: 0 };
  for (const [tid, fields, flows] of [[TEMPLATE_V4, layout.v4, flows4], [TEMPLATE_V6, layout.v6, flows6]] as const) {
    if (flows.length === 0) continue;
    const start = w.pos;
    w.u16(tid);
    w.u16(0);
    writeRecords(w, fields, flows, ctx);
    w.buf.writeUInt16BE(w.pos - start, start + 2);
  }
  w.buf.writeUInt16BE(w.pos, 2);
  return w.take();
}

export function encodeIpfixTemplate(layout: Layout, domain: number): Buffer {
  const w = scratch();
  w.u16(10);
  w.u16(0);
  w.zeros(8);
  w.u32(domain);
  const start = w.pos;
  w.u16(2); // template set
  w.u16(0);
  for (const [tid, fields] of [[TEMPLATE_V4, layout.v4], [TEMPLATE_V6, layout.v6]] as const) {
    w.u16(tid);
    w.u16(fields.length);
    for (const fs of fields) {
      w.u16(fs.pen === undefined ? fs.id : fs.id | 0x8000);
      w.u16(fs.len);
      if (fs.pen !== undefined) w.u32(fs.pen);
    }
  }
  w.buf.writeUInt16BE(w.pos - start, start + 2);
  w.buf.writeUInt16BE(w.pos, 2);
  return w.take();
}

// ------------------------------------------------------------------ header stamping

/**
 * Patches the clock and sequence fields of a datagram in place. `seq` is the
 * protocol's own counter (v5/IPFIX: records before; v9: packets before).
 * sysUptime advances in whole seconds with unix_secs, so `unix_secs*1000 - sysUptime`
 * (the boot time a collector derives) never moves and record times decode exactly.
 */
export function stampHeader(kind: 'v5' | 'v9' | 'ipfix', buf: Buffer, seq: number, nowMs: number, bootMs: number): void {
  const secs = Math.floor(nowMs / 1000);
  const seq32 = seq % 0x100000000;
  if (kind === 'ipfix') {
    buf.writeUInt32BE(secs >>> 0, 4);
    buf.writeUInt32BE(seq32, 8);
    return;
  }
  buf.writeUInt32BE((secs * 1000 - bootMs) % 0x100000000, 4);
  buf.writeUInt32BE(secs >>> 0, 8);
  if (kind === 'v5') buf.writeUInt32BE(seq32, 16); // unix_nsecs stays 0
  else buf.writeUInt32BE(seq32, 12);
}
