import { writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';

/** One UDP datagram to capture; unset fields come from the writer's options. */
export interface PcapPacket {
  payload: Uint8Array;
  /** Capture time, epoch ms (may be fractional). */
  tsMs?: number;
  src?: string;
  dst?: string;
  srcPort?: number;
  dstPort?: number;
}

export interface PcapWriterOptions {
  /** Source address, IPv4 or IPv6 (both ends must be the same family). Default 127.0.0.1. */
  src?: string;
  /** Default 127.0.0.1. */
  dst?: string;
  /** Default 40000. */
  srcPort?: number;
  /** Default 2055. */
  dstPort?: number;
  /** Time of the first packet when a packet has no tsMs, epoch ms. Default 0 (reproducible files). */
  startTimeMs?: number;
  /** Spacing of packets without tsMs, microseconds. Default 100. */
  intervalUs?: number;
}

const SRC_MAC = [0x02, 0, 0, 0, 0, 0x01];
const DST_MAC = [0x02, 0, 0, 0, 0, 0x02];
const LINKTYPE_ETHERNET = 1;
const SNAPLEN = 262_144;

/**
 * Builds a classic (microsecond, little-endian) pcap of UDP datagrams with
 * Ethernet + IPv4/IPv6 + UDP headers and valid checksums, e.g. to feed tshark
 * or a decoder test with what an exporter would have put on the wire.
 */
export class PcapWriter {
  private readonly chunks: Buffer[] = [];
  private n = 0;
  private readonly opts: Required<PcapWriterOptions>;

  constructor(opts: PcapWriterOptions = {}) {
    this.opts = {
      src: opts.src ?? '127.0.0.1',
      dst: opts.dst ?? '127.0.0.1',
      srcPort: opts.srcPort ?? 40000,
      dstPort: opts.dstPort ?? 2055,
      startTimeMs: opts.startTimeMs ?? 0,
      intervalUs: opts.intervalUs ?? 100,
    };
    const h = Buffer.alloc(24);
    h.writeUInt32LE(0xa1b2c3d4, 0);
    h.writeUInt16LE(2, 4);
    h.writeUInt16LE(4, 6);
    h.writeUInt32LE(SNAPLEN, 16);
    h.writeUInt32LE(LINKTYPE_ETHERNET, 20);
    this.chunks.push(h);
  }

  /** Packets added so far. */
  get count(): number {
    return this.n;
  }

  /** Appends one datagram. Throws RangeError on a bad address/port or a payload too big for UDP. */
  add(packet: Uint8Array | PcapPacket): this {
    const p: PcapPacket = packet instanceof Uint8Array ? { payload: packet } : packet;
    const src = parseIp(p.src ?? this.opts.src);
    const dst = parseIp(p.dst ?? this.opts.dst);
    if (src.length !== dst.length) throw new RangeError('pcap: source and destination address families differ');
    const sport = checkPort(p.srcPort ?? this.opts.srcPort);
    const dport = checkPort(p.dstPort ?? this.opts.dstPort);
    const v6 = src.length === 16;
    const udpLen = 8 + p.payload.length;
    if (udpLen > 0xffff - (v6 ? 0 : 20)) throw new RangeError(`pcap: payload of ${p.payload.length} bytes does not fit a UDP datagram`);
    const ipLen = v6 ? 40 : 20;
    const frame = Buffer.alloc(14 + ipLen + udpLen);
    frame.set(DST_MAC, 0);
    frame.set(SRC_MAC, 6);
    frame.writeUInt16BE(v6 ? 0x86dd : 0x0800, 12);
    const ip = 14;
    if (v6) {
      frame.writeUInt32BE(0x60000000, ip);
      frame.writeUInt16BE(udpLen, ip + 4);
      frame[ip + 6] = 17;
      frame[ip + 7] = 64;
      frame.set(src, ip + 8);
      frame.set(dst, ip + 24);
    } else {
      frame[ip] = 0x45;
      frame.writeUInt16BE(20 + udpLen, ip + 2);
      frame.writeUInt16BE(this.n & 0xffff, ip + 4);
      frame.writeUInt16BE(0x4000, ip + 6); // DF
      frame[ip + 8] = 64;
      frame[ip + 9] = 17;
      frame.set(src, ip + 12);
      frame.set(dst, ip + 16);
      frame.writeUInt16BE(finish(sum16(frame, ip, 20, 0)), ip + 10);
    }
    const udp = ip + ipLen;
    frame.writeUInt16BE(sport, udp);
    frame.writeUInt16BE(dport, udp + 2);
    frame.writeUInt16BE(udpLen, udp + 4);
    frame.set(p.payload, udp + 8);
    // Pseudo-header: addresses, protocol, UDP length.
    let s = sum16(src, 0, src.length, 0);
    s = sum16(dst, 0, dst.length, s);
    s += 17 + udpLen;
    s = sum16(frame, udp, udpLen, s);
    frame.writeUInt16BE(finish(s) || 0xffff, udp + 6);

    const tsUs = Math.round((p.tsMs ?? this.opts.startTimeMs + (this.n * this.opts.intervalUs) / 1000) * 1000);
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(Math.floor(tsUs / 1e6) >>> 0, 0);
    rec.writeUInt32LE(tsUs % 1e6, 4);
    rec.writeUInt32LE(frame.length, 8);
    rec.writeUInt32LE(frame.length, 12);
    this.chunks.push(rec, frame);
    this.n++;
    return this;
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.chunks);
  }

  async writeFile(path: string): Promise<void> {
    await writeFile(path, this.toBuffer());
  }
}

/** Writes `datagrams` to a pcap file; returns the number of packets written. */
export async function writePcap(
  path: string,
  datagrams: Iterable<Uint8Array | PcapPacket>,
  opts: PcapWriterOptions = {},
): Promise<number> {
  const w = new PcapWriter(opts);
  for (const d of datagrams) w.add(d);
  await w.writeFile(path);
  return w.count;
}

function checkPort(p: number): number {
  if (!Number.isInteger(p) || p < 0 || p > 0xffff) throw new RangeError(`pcap: bad UDP port ${p}`);
  return p;
}

function sum16(b: Uint8Array, off: number, len: number, acc: number): number {
  let s = acc;
  const end = off + len;
  let i = off;
  for (; i + 1 < end; i += 2) s += (b[i] << 8) | b[i + 1];
  if (i < end) s += b[i] << 8;
  return s;
}

function finish(s: number): number {
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return ~s & 0xffff;
}

function parseIp(a: string): Uint8Array {
  const kind = isIP(a);
  if (kind === 4) return Uint8Array.from(a.split('.'), Number);
  if (kind !== 6) throw new RangeError(`pcap: not an IP address: "${a}"`);
  let text = a.toLowerCase();
  const out = new Uint8Array(16);
  const v4Tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4Tail) {
    out.set(parseIp(v4Tail[1]), 12);
    text = text.slice(0, -v4Tail[1].length) + '0:0';
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, ''];
  const hs = head ? head.split(':') : [];
  const ts = tail ? tail.split(':') : [];
  const groups = [...hs, ...Array(8 - hs.length - ts.length).fill('0'), ...ts];
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    if (i < 6 || !v4Tail) {
      out[i * 2] = v >> 8;
      out[i * 2 + 1] = v & 0xff;
    }
  });
  return out;
}
