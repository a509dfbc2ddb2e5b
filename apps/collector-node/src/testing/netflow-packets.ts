/**
 * Minimal NetFlow v5 / v9 packet builders for this app's tests, written from the Cisco/RFC 3954 layouts
 * (independent of the decoder under test and of libs/flow-gen).
 */
export interface TestFlow {
  /** 'a.b.c.d' for IPv4, or 8 groups of hex for IPv6 (v9 only). */
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  protocol: number;
  bytes: number;
  packets: number;
  tos?: number;
  inIf?: number;
  outIf?: number;
}

function v4(text: string): number[] {
  return text.split('.').map(Number);
}

function v6(text: string): number[] {
  const out: number[] = [];
  for (const g of text.split(':')) {
    const n = parseInt(g, 16);
    out.push(n >> 8, n & 0xff);
  }
  if (out.length !== 16) throw new Error(`test v6 address must be 8 full groups: ${text}`);
  return out;
}

export function netflowV5(flows: TestFlow[], o: { unixSecs: number; sequence?: number; uptimeMs?: number }): Buffer {
  if (flows.length > 30) throw new Error('v5 carries at most 30 records');
  const b = Buffer.alloc(24 + 48 * flows.length);
  const uptime = o.uptimeMs ?? 3_600_000;
  b.writeUInt16BE(5, 0);
  b.writeUInt16BE(flows.length, 2);
  b.writeUInt32BE(uptime, 4);
  b.writeUInt32BE(o.unixSecs, 8);
  b.writeUInt32BE(0, 12);
  b.writeUInt32BE(o.sequence ?? 0, 16);
  flows.forEach((f, i) => {
    const p = 24 + 48 * i;
    b.set(v4(f.src), p);
    b.set(v4(f.dst), p + 4);
    b.set([10, 255, 255, 1], p + 8); // next hop
    b.writeUInt16BE(f.inIf ?? 1, p + 12);
    b.writeUInt16BE(f.outIf ?? 2, p + 14);
    b.writeUInt32BE(f.packets, p + 16);
    b.writeUInt32BE(f.bytes, p + 20);
    b.writeUInt32BE(uptime - 10_000, p + 24); // first
    b.writeUInt32BE(uptime - 1_000, p + 28); // last
    b.writeUInt16BE(f.srcPort, p + 32);
    b.writeUInt16BE(f.dstPort, p + 34);
    b[p + 37] = 0x18; // tcp flags
    b[p + 38] = f.protocol;
    b[p + 39] = f.tos ?? 0;
    b.writeUInt16BE(64500, p + 40);
    b.writeUInt16BE(64501, p + 42);
    b[p + 44] = 24;
    b[p + 45] = 16;
  });
  return b;
}

const V9_FIELDS_4: [number, number][] = [
  [8, 4], // IPV4_SRC_ADDR
  [12, 4], // IPV4_DST_ADDR
  [7, 2], // L4_SRC_PORT
  [11, 2], // L4_DST_PORT
  [4, 1], // PROTOCOL
  [5, 1], // SRC_TOS
  [1, 4], // IN_BYTES
  [2, 4], // IN_PKTS
  [22, 4], // FIRST_SWITCHED
  [21, 4], // LAST_SWITCHED
];
const V9_FIELDS_6: [number, number][] = [
  [27, 16], // IPV6_SRC_ADDR
  [28, 16], // IPV6_DST_ADDR
  [7, 2],
  [11, 2],
  [4, 1],
  [5, 1],
  [1, 8], // IN_BYTES, 8 bytes
  [2, 8], // IN_PKTS
  [22, 4],
  [21, 4],
];
export const V9_TEMPLATE_V4 = 256;
export const V9_TEMPLATE_V6 = 257;

function v9Header(count: number, o: { unixSecs: number; sequence: number; sourceId: number; uptimeMs: number }): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(9, 0);
  h.writeUInt16BE(count, 2);
  h.writeUInt32BE(o.uptimeMs, 4);
  h.writeUInt32BE(o.unixSecs, 8);
  h.writeUInt32BE(o.sequence, 12);
  h.writeUInt32BE(o.sourceId, 16);
  return h;
}

/** One v9 packet: the two templates (when `templates`) followed by one data flowset per address family. */
export function netflowV9(
  flows: TestFlow[],
  o: { unixSecs: number; sequence?: number; sourceId?: number; uptimeMs?: number; templates?: boolean },
): Buffer {
  const opts = { unixSecs: o.unixSecs, sequence: o.sequence ?? 0, sourceId: o.sourceId ?? 1, uptimeMs: o.uptimeMs ?? 3_600_000 };
  const parts: Buffer[] = [];
  let count = 0;
  if (o.templates !== false) {
    const recs = [
      [V9_TEMPLATE_V4, V9_FIELDS_4],
      [V9_TEMPLATE_V6, V9_FIELDS_6],
    ] as const;
    const len = 4 + recs.reduce((n, [, f]) => n + 4 + 4 * f.length, 0);
    const t = Buffer.alloc(len);
    t.writeUInt16BE(0, 0);
    t.writeUInt16BE(len, 2);
    let p = 4;
    for (const [id, fields] of recs) {
      t.writeUInt16BE(id, p);
      t.writeUInt16BE(fields.length, p + 2);
      p += 4;
      for (const [type, l] of fields) {
        t.writeUInt16BE(type, p);
        t.writeUInt16BE(l, p + 2);
        p += 4;
      }
      count++;
    }
    parts.push(t);
  }
  for (const [id, fields, fam] of [
    [V9_TEMPLATE_V4, V9_FIELDS_4, 4],
    [V9_TEMPLATE_V6, V9_FIELDS_6, 6],
  ] as const) {
    const mine = flows.filter((f) => (f.src.includes(':') ? 6 : 4) === fam);
    if (!mine.length) continue;
    const recLen = fields.reduce((n, [, l]) => n + l, 0);
    const body = 4 + recLen * mine.length;
    const len = body + ((4 - (body % 4)) % 4);
    const d = Buffer.alloc(len);
    d.writeUInt16BE(id, 0);
    d.writeUInt16BE(len, 2);
    let p = 4;
    for (const f of mine) {
      d.set(fam === 4 ? v4(f.src) : v6(f.src), p);
      d.set(fam === 4 ? v4(f.dst) : v6(f.dst), p + (fam === 4 ? 4 : 16));
      p += fam === 4 ? 8 : 32;
      d.writeUInt16BE(f.srcPort, p);
      d.writeUInt16BE(f.dstPort, p + 2);
      d[p + 4] = f.protocol;
      d[p + 5] = f.tos ?? 0;
      p += 6;
      if (fam === 4) {
        d.writeUInt32BE(f.bytes, p);
        d.writeUInt32BE(f.packets, p + 4);
        p += 8;
      } else {
        d.writeBigUInt64BE(BigInt(f.bytes), p);
        d.writeBigUInt64BE(BigInt(f.packets), p + 8);
        p += 16;
      }
      d.writeUInt32BE(opts.uptimeMs - 10_000, p);
      d.writeUInt32BE(opts.uptimeMs - 1_000, p + 4);
      p += 8;
      count++;
    }
    parts.push(d);
  }
  return Buffer.concat([v9Header(count, opts), ...parts]);
}
