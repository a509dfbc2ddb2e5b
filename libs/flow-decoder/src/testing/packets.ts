/**
 * Test-only NetFlow v5 / v9 / IPFIX packet encoder (not exported from index.ts). Deliberately
 * independent of the decoder's code: it writes bytes field by field from the RFC layouts.
 */
import { parseIpToBytes16 } from '../lib/addr';

export type Value = number | bigint | string | Uint8Array;

export function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Big-endian unsigned integer of `len` bytes (bigint for exact 64-bit). */
export function be(v: number | bigint, len: number): Uint8Array {
  const out = new Uint8Array(len);
  let x = BigInt(v);
  for (let i = len - 1; i >= 0; i--) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
}

export function ip4(text: string): Uint8Array {
  const b = new Uint8Array(16);
  if (!parseIpToBytes16(text, b, 0)) throw new Error(`bad ip ${text}`);
  return b.slice(12);
}

export function ip6(text: string): Uint8Array {
  const b = new Uint8Array(16);
  if (!parseIpToBytes16(text, b, 0)) throw new Error(`bad ip ${text}`);
  return b;
}

export function mac(text: string): Uint8Array {
  return Uint8Array.from(text.split(':').map((h) => parseInt(h, 16)));
}

function encodeValue(v: Value, len: number): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (typeof v === 'string') {
    if (len === 4) return ip4(v);
    if (len === 16) return ip6(v);
    if (len === 6) return mac(v);
    return new TextEncoder().encode(v);
  }
  return be(v, len);
}

// ---------------------------------------------------------------- NetFlow v5

export interface V5Header {
  count?: number;
  uptime: number;
  secs: number;
  nsecs?: number;
  seq: number;
  engineType?: number;
  engineId?: number;
  sampling?: number; // the raw 16-bit field (mode in the top 2 bits)
}

export interface V5Record {
  src: string;
  dst: string;
  nextHop?: string;
  inIf?: number;
  outIf?: number;
  packets: number;
  bytes: number;
  first: number;
  last: number;
  srcPort?: number;
  dstPort?: number;
  tcpFlags?: number;
  protocol?: number;
  tos?: number;
  srcAs?: number;
  dstAs?: number;
  srcMask?: number;
  dstMask?: number;
}

export function v5Packet(h: V5Header, records: V5Record[]): Uint8Array {
  const head = concat(
    be(5, 2),
    be(h.count ?? records.length, 2),
    be(h.uptime, 4),
    be(h.secs, 4),
    be(h.nsecs ?? 0, 4),
    be(h.seq, 4),
    be(h.engineType ?? 0, 1),
    be(h.engineId ?? 0, 1),
    be(h.sampling ?? 0, 2),
  );
  const recs = records.map((r) =>
    concat(
      ip4(r.src),
      ip4(r.dst),
      ip4(r.nextHop ?? '0.0.0.0'),
      be(r.inIf ?? 0, 2),
      be(r.outIf ?? 0, 2),
      be(r.packets, 4),
      be(r.bytes, 4),
      be(r.first, 4),
      be(r.last, 4),
      be(r.srcPort ?? 0, 2),
      be(r.dstPort ?? 0, 2),
      be(0, 1),
      be(r.tcpFlags ?? 0, 1),
      be(r.protocol ?? 0, 1),
      be(r.tos ?? 0, 1),
      be(r.srcAs ?? 0, 2),
      be(r.dstAs ?? 0, 2),
      be(r.srcMask ?? 0, 1),
      be(r.dstMask ?? 0, 1),
      be(0, 2),
    ),
  );
  return concat(head, ...recs);
}

// ---------------------------------------------------------------- templates and sets

/** A template field: IANA/v9 id, length (65535 = variable), optional enterprise number. */
export interface Field {
  id: number;
  len: number;
  pen?: number;
}

export const f = (id: number, len: number, pen?: number): Field => ({ id, len, pen });

/** A data record for `fields`, values in field order (variable-length values get their length prefix). */
export function record(fields: Field[], values: Value[], longVarLength = false): Uint8Array {
  if (values.length !== fields.length) throw new Error('values/fields mismatch');
  const parts: Uint8Array[] = [];
  fields.forEach((fl, i) => {
    if (fl.len === 65535) {
      const v = encodeValue(values[i], 0);
      if (v.length < 255 && !longVarLength) parts.push(be(v.length, 1));
      else parts.push(be(255, 1), be(v.length, 2));
      parts.push(v);
    } else {
      const v = encodeValue(values[i], fl.len);
      if (v.length !== fl.len) throw new Error(`value for field ${fl.id} has ${v.length} bytes, want ${fl.len}`);
      parts.push(v);
    }
  });
  return concat(...parts);
}

/** A set/FlowSet: id, length, body, zero padding up to a multiple of `align`. */
export function set(id: number, body: Uint8Array, align = 4): Uint8Array {
  const pad = (align - ((body.length + 4) % align)) % align;
  return concat(be(id, 2), be(body.length + 4 + pad, 2), body, new Uint8Array(pad));
}

/** A set whose length field is exactly `length` (for malformed-length tests). */
export function rawSet(id: number, length: number, body: Uint8Array): Uint8Array {
  return concat(be(id, 2), be(length, 2), body);
}

// ---------------------------------------------------------------- NetFlow v9

export interface V9Header {
  count?: number;
  uptime: number;
  secs: number;
  seq: number;
  sourceId: number;
}

export function v9Packet(h: V9Header, sets: Uint8Array[]): Uint8Array {
  return concat(be(9, 2), be(h.count ?? sets.length, 2), be(h.uptime, 4), be(h.secs, 4), be(h.seq, 4), be(h.sourceId, 4), ...sets);
}

export function v9TemplateRecord(id: number, fields: Field[]): Uint8Array {
  return concat(be(id, 2), be(fields.length, 2), ...fields.map((fl) => concat(be(fl.id, 2), be(fl.len, 2))));
}

export function v9TemplateSet(...templates: { id: number; fields: Field[] }[]): Uint8Array {
  return set(0, concat(...templates.map((t) => v9TemplateRecord(t.id, t.fields))));
}

export function v9OptionsTemplateSet(id: number, scope: Field[], fields: Field[]): Uint8Array {
  return set(
    1,
    concat(
      be(id, 2),
      be(scope.length * 4, 2),
      be(fields.length * 4, 2),
      ...[...scope, ...fields].map((fl) => concat(be(fl.id, 2), be(fl.len, 2))),
    ),
  );
}

// ---------------------------------------------------------------- IPFIX

export interface IpfixHeader {
  exportTime: number;
  seq: number;
  odid: number;
  /** Overrides the computed message length. */
  length?: number;
}

export function ipfixMessage(h: IpfixHeader, sets: Uint8Array[]): Uint8Array {
  const body = concat(...sets);
  return concat(be(10, 2), be(h.length ?? body.length + 16, 2), be(h.exportTime, 4), be(h.seq, 4), be(h.odid, 4), body);
}

function ipfixFieldSpec(fl: Field): Uint8Array {
  if (fl.pen !== undefined) return concat(be(fl.id | 0x8000, 2), be(fl.len, 2), be(fl.pen, 4));
  return concat(be(fl.id, 2), be(fl.len, 2));
}

export function ipfixTemplateRecord(id: number, fields: Field[]): Uint8Array {
  return concat(be(id, 2), be(fields.length, 2), ...fields.map(ipfixFieldSpec));
}

export function ipfixTemplateSet(...templates: { id: number; fields: Field[] }[]): Uint8Array {
  return set(2, concat(...templates.map((t) => ipfixTemplateRecord(t.id, t.fields))));
}

export function ipfixOptionsTemplateRecord(id: number, scope: Field[], fields: Field[]): Uint8Array {
  return concat(be(id, 2), be(scope.length + fields.length, 2), be(scope.length, 2), ...[...scope, ...fields].map(ipfixFieldSpec));
}

export function ipfixOptionsTemplateSet(id: number, scope: Field[], fields: Field[]): Uint8Array {
  return set(3, ipfixOptionsTemplateRecord(id, scope, fields));
}

/** Withdrawal records (template id, field count 0) in a set of `setId` (2 or 3). */
export function ipfixWithdrawalSet(setId: 2 | 3, ...ids: number[]): Uint8Array {
  return set(setId, concat(...ids.map((id) => concat(be(id, 2), be(0, 2)))));
}

/** NTP-format timestamp (RFC 7011 dateTimeMicroseconds/Nanoseconds) for epoch ms. */
export function ntp(ms: number): Uint8Array {
  const secs = Math.floor(ms / 1000);
  const frac = Math.ceil(((ms - secs * 1000) / 1000) * 4294967296);
  return concat(be(secs + 2208988800, 4), be(frac, 4));
}
