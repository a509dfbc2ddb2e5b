/**
 * Builds packets and capture files in memory: test fixtures, fuzz seeds, softflowd input and the
 * capture of datagrams received on a socket. Pure buffer building; the caller writes the file.
 */
import { isV4Mapped, parseIpToBytes16 } from '../addr';
import { LINKTYPE } from './pcap-reader';

export interface PacketSpec {
  src: string;
  dst: string;
  /** IP protocol number: 6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6, anything else gets an empty L4. */
  protocol: number;
  srcPort?: number;
  dstPort?: number;
  tcpFlags?: number;
  icmpType?: number;
  icmpCode?: number;
  tos?: number;
  ttl?: number;
  /** L4 payload: bytes, or a length filled with a pattern. */
  payload?: Uint8Array | number;
  /** 802.1Q tags, outermost first (a second entry makes QinQ with an 802.1ad outer tag). */
  vlans?: number[];
  srcMac?: string;
  dstMac?: string;
  /** IPv6 extension headers to insert before L4 (hop-by-hop 0, destination options 60, routing 43). */
  ipv6ExtHeaders?: number[];
}

export interface CaptureFrame {
  tsMs: number;
  /** Sub-millisecond part in nanoseconds (0..999999). */
  subMsNs?: number;
  data: Uint8Array;
}

export function macTextToBytes(mac: string): Uint8Array {
  const out = new Uint8Array(6);
  const parts = mac.split(/[:-]/);
  for (let i = 0; i < 6; i++) out[i] = parseInt(parts[i] ?? '0', 16) & 0xff;
  return out;
}

/** 4 bytes for dotted-quad text, 16 for IPv6 text. */
function mustIp(text: string): Uint8Array {
  const b = new Uint8Array(16);
  if (!parseIpToBytes16(text, b, 0)) throw new Error(`bad IP address: ${text}`);
  return !text.includes(':') && isV4Mapped(b, 0) ? b.subarray(12) : b;
}

function checksum(parts: Uint8Array[]): number {
  let sum = 0;
  for (const p of parts) {
    for (let i = 0; i + 1 < p.length; i += 2) sum += (p[i] << 8) | p[i + 1];
    if (p.length % 2) sum += p[p.length - 1] << 8;
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function payloadBytes(p: Uint8Array | number | undefined): Uint8Array {
  if (p instanceof Uint8Array) return p;
  const out = new Uint8Array(p ?? 0);
  for (let i = 0; i < out.length; i++) out[i] = (i * 7 + 0x41) & 0xff;
  return out;
}

/** The IP packet (no link header) described by `spec`. */
export function buildIpPacket(spec: PacketSpec): Uint8Array {
  const src = mustIp(spec.src);
  const dst = mustIp(spec.dst);
  const v6 = src.length === 16;
  if (dst.length !== src.length) throw new Error('src and dst must be the same IP version');
  const body = payloadBytes(spec.payload);
  let l4: Uint8Array;
  const proto = spec.protocol;
  if (proto === 6) {
    l4 = new Uint8Array(20 + body.length);
    const dv = new DataView(l4.buffer);
    dv.setUint16(0, spec.srcPort ?? 0);
    dv.setUint16(2, spec.dstPort ?? 0);
    dv.setUint32(4, 1000);
    dv.setUint32(8, (spec.tcpFlags ?? 0) & 0x10 ? 2000 : 0);
    l4[12] = 5 << 4;
    l4[13] = spec.tcpFlags ?? 0x18;
    dv.setUint16(14, 65535);
    l4.set(body, 20);
  } else if (proto === 17) {
    l4 = new Uint8Array(8 + body.length);
    const dv = new DataView(l4.buffer);
    dv.setUint16(0, spec.srcPort ?? 0);
    dv.setUint16(2, spec.dstPort ?? 0);
    dv.setUint16(4, l4.length);
    l4.set(body, 8);
  } else if (proto === 1 || proto === 58) {
    l4 = new Uint8Array(8 + body.length);
    l4[0] = spec.icmpType ?? (proto === 1 ? 8 : 128);
    l4[1] = spec.icmpCode ?? 0;
    new DataView(l4.buffer).setUint16(4, 0x1234);
    l4.set(body, 8);
  } else {
    l4 = body;
  }
  const pseudo = (len: number): Uint8Array => {
    const ph = new Uint8Array(v6 ? 40 : 12);
    if (v6) {
      ph.set(src, 0);
      ph.set(dst, 16);
      new DataView(ph.buffer).setUint32(32, len);
      ph[39] = proto;
    } else {
      ph.set(src, 0);
      ph.set(dst, 4);
      ph[9] = proto;
      new DataView(ph.buffer).setUint16(10, len);
    }
    return ph;
  };
  const csumOff = proto === 6 ? 16 : proto === 17 ? 6 : proto === 1 || proto === 58 ? 2 : -1;
  if (csumOff >= 0) {
    const parts = proto === 1 ? [l4] : [pseudo(l4.length), l4];
    let c = checksum(parts);
    if (proto === 17 && c === 0) c = 0xffff;
    new DataView(l4.buffer, l4.byteOffset).setUint16(csumOff, c);
  }
  if (!v6) {
    const ip = new Uint8Array(20 + l4.length);
    const dv = new DataView(ip.buffer);
    ip[0] = 0x45;
    ip[1] = spec.tos ?? 0;
    dv.setUint16(2, ip.length);
    dv.setUint16(4, 0x4242);
    dv.setUint16(6, 0x4000);
    ip[8] = spec.ttl ?? 64;
    ip[9] = proto;
    ip.set(src, 12);
    ip.set(dst, 16);
    dv.setUint16(10, checksum([ip.subarray(0, 20)]));
    ip.set(l4, 20);
    return ip;
  }
  const exts = spec.ipv6ExtHeaders ?? [];
  const ip = new Uint8Array(40 + exts.length * 8 + l4.length);
  const dv = new DataView(ip.buffer);
  const tos = spec.tos ?? 0;
  dv.setUint32(0, (6 << 28) | (tos << 20));
  dv.setUint16(4, ip.length - 40);
  ip[6] = exts.length > 0 ? exts[0] : proto;
  ip[7] = spec.ttl ?? 64;
  ip.set(src, 8);
  ip.set(dst, 24);
  for (let i = 0; i < exts.length; i++) {
    const p = 40 + i * 8;
    ip[p] = i + 1 < exts.length ? exts[i + 1] : proto;
    ip[p + 1] = 0; // (0 + 1) * 8 bytes
    if (exts[i] !== 44) {
      ip[p + 2] = 1; // PadN option fills the rest
      ip[p + 3] = 4;
    }
  }
  ip.set(l4, 40 + exts.length * 8);
  return ip;
}

/** An Ethernet II frame (optionally VLAN-tagged) carrying `buildIpPacket(spec)`. */
export function buildEthernetFrame(spec: PacketSpec): Uint8Array {
  const ip = buildIpPacket(spec);
  const vlans = spec.vlans ?? [];
  const f = new Uint8Array(14 + vlans.length * 4 + ip.length);
  const dv = new DataView(f.buffer);
  f.set(macTextToBytes(spec.dstMac ?? '02:00:00:00:00:02'), 0);
  f.set(macTextToBytes(spec.srcMac ?? '02:00:00:00:00:01'), 6);
  let off = 12;
  for (let i = 0; i < vlans.length; i++) {
    dv.setUint16(off, i === 0 && vlans.length > 1 ? 0x88a8 : 0x8100);
    dv.setUint16(off + 2, vlans[i] & 0x0fff);
    off += 4;
  }
  dv.setUint16(off, ip[0] >> 4 === 6 ? 0x86dd : 0x0800);
  f.set(ip, off + 2);
  return f;
}

/** A UDP datagram as an Ethernet frame: what a collector would see on the wire. */
export function buildUdpFrame(src: string, srcPort: number, dst: string, dstPort: number, payload: Uint8Array): Uint8Array {
  return buildEthernetFrame({ src, dst, protocol: 17, srcPort, dstPort, payload });
}

export interface PcapWriteOptions {
  linkType?: number;
  nanos?: boolean;
  bigEndian?: boolean;
  snapLen?: number;
}

/** A classic pcap file. */
export function writeClassicPcap(frames: CaptureFrame[], opts: PcapWriteOptions = {}): Uint8Array {
  const le = !opts.bigEndian;
  const size = 24 + frames.reduce((n, f) => n + 16 + f.data.length, 0);
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, opts.nanos ? 0xa1b23c4d : 0xa1b2c3d4, le);
  dv.setUint16(4, 2, le);
  dv.setUint16(6, 4, le);
  dv.setUint32(16, opts.snapLen ?? 262144, le);
  dv.setUint32(20, opts.linkType ?? LINKTYPE.ethernet, le);
  let off = 24;
  for (const f of frames) {
    const sec = Math.floor(f.tsMs / 1000);
    const ns = (f.tsMs - sec * 1000) * 1_000_000 + (f.subMsNs ?? 0);
    dv.setUint32(off, sec, le);
    dv.setUint32(off + 4, opts.nanos ? ns : Math.floor(ns / 1000), le);
    dv.setUint32(off + 8, f.data.length, le);
    dv.setUint32(off + 12, f.data.length, le);
    out.set(f.data, off + 16);
    off += 16 + f.data.length;
  }
  return out;
}

export interface PcapngWriteOptions {
  linkType?: number;
  bigEndian?: boolean;
  /** if_tsresol exponent of ten (6 = µs default, 9 = ns). */
  tsResolDigits?: number;
  /** Write frames as Simple Packet Blocks (no timestamps). */
  simple?: boolean;
}

/** A pcapng file with one section and one interface. */
export function writePcapng(frames: CaptureFrame[], opts: PcapngWriteOptions = {}): Uint8Array {
  const le = !opts.bigEndian;
  const blocks: Uint8Array[] = [];
  const block = (type: number, body: Uint8Array): void => {
    const padded = (body.length + 3) & ~3;
    const b = new Uint8Array(12 + padded);
    const dv = new DataView(b.buffer);
    dv.setUint32(0, type, le);
    dv.setUint32(4, b.length, le);
    b.set(body, 8);
    dv.setUint32(b.length - 4, b.length, le);
    blocks.push(b);
  };
  const shb = new Uint8Array(16);
  const shbDv = new DataView(shb.buffer);
  shbDv.setUint32(0, 0x1a2b3c4d, le);
  shbDv.setUint16(4, 1, le);
  shbDv.setUint16(6, 0, le);
  shbDv.setInt32(8, -1, le);
  shbDv.setInt32(12, -1, le);
  block(0x0a0d0d0a, shb);
  const digits = opts.tsResolDigits ?? 6;
  const idb = new Uint8Array(8 + (digits !== 6 ? 12 : 0) + 4);
  const idbDv = new DataView(idb.buffer);
  idbDv.setUint16(0, opts.linkType ?? LINKTYPE.ethernet, le);
  idbDv.setUint32(4, 262144, le);
  let o = 8;
  if (digits !== 6) {
    idbDv.setUint16(o, 9, le);
    idbDv.setUint16(o + 2, 1, le);
    idb[o + 4] = digits;
    o += 8;
  }
  // opt_endofopt (zeros) closes the list.
  block(1, idb);
  const unitsPerMs = 10n ** BigInt(digits) / 1000n;
  for (const f of frames) {
    if (opts.simple) {
      const body = new Uint8Array(4 + f.data.length);
      new DataView(body.buffer).setUint32(0, f.data.length, le);
      body.set(f.data, 4);
      block(3, body);
      continue;
    }
    const body = new Uint8Array(20 + f.data.length);
    const dv = new DataView(body.buffer);
    const ts = BigInt(Math.floor(f.tsMs)) * unitsPerMs + (BigInt(f.subMsNs ?? 0) * unitsPerMs) / 1_000_000n;
    dv.setUint32(0, 0, le);
    dv.setUint32(4, Number(ts >> 32n), le);
    dv.setUint32(8, Number(ts & 0xffffffffn), le);
    dv.setUint32(12, f.data.length, le);
    dv.setUint32(16, f.data.length, le);
    body.set(f.data, 20);
    block(6, body);
  }
  const total = blocks.reduce((n, b) => n + b.length, 0);
  const out = new Uint8Array(total);
  let off = 0;
  for (const b of blocks) {
    out.set(b, off);
    off += b.length;
  }
  return out;
}
