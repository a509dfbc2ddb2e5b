/**
 * Capture-file reader: classic pcap and pcapng held in memory -> the UDP datagrams they carry.
 *
 * Pure buffer parsing (the caller reads the file). Never throws on malformed input: a bad file
 * header or block stops the iteration with `stats.error` set; a bad frame is skipped and counted.
 * Payloads are views into the input buffer (no copy).
 */
import { bytes16ToIpText, ipv4ToBytes16 } from '../addr';

export type CaptureFormat = 'pcap' | 'pcapng';

export interface UdpDatagram {
  /** Capture timestamp, epoch milliseconds (floored). */
  tsMs: number;
  ipVersion: 4 | 6;
  srcAddr: string;
  srcPort: number;
  dstAddr: string;
  dstPort: number;
  payload: Uint8Array;
  /** 0-based index of the frame in the capture. */
  frame: number;
}

export const PCAP_ERROR_REASONS = [
  'pcap_bad_magic',
  'pcap_truncated_header',
  'pcap_truncated_record',
  'pcapng_bad_block',
  'pcapng_truncated_block',
  'pcapng_no_section',
] as const;
export type PcapErrorReason = (typeof PCAP_ERROR_REASONS)[number];

export interface PcapReadStats {
  format?: CaptureFormat;
  frames: number;
  udpDatagrams: number;
  /** Frames whose link type this reader does not handle. */
  unsupportedLinkType: number;
  /** Frames that are not IPv4/IPv6 (ARP, LLDP...). */
  nonIp: number;
  /** IP packets that are not UDP. */
  nonUdp: number;
  /** IP fragments (not reassembled). */
  ipFragments: number;
  /** Frames cut short by the snap length or a bad length field. */
  truncated: number;
  /** Fatal file-structure problem; iteration stopped here. */
  error?: PcapErrorReason;
}

export function newPcapReadStats(): PcapReadStats {
  return { frames: 0, udpDatagrams: 0, unsupportedLinkType: 0, nonIp: 0, nonUdp: 0, ipFragments: 0, truncated: 0 };
}

export const LINKTYPE = {
  null: 0,
  ethernet: 1,
  raw: 101,
  linux_sll: 113,
  ipv4: 228,
  ipv6: 229,
  linux_sll2: 276,
} as const;

const PCAP_MAGIC_US = 0xa1b2c3d4;
const PCAP_MAGIC_NS = 0xa1b23c4d;
const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_BOM = 0x1a2b3c4d;

export function detectCaptureFormat(bytes: Uint8Array): CaptureFormat | undefined {
  if (bytes.length < 4) return undefined;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const be = dv.getUint32(0, false);
  const le = dv.getUint32(0, true);
  if (be === PCAPNG_SHB) return 'pcapng';
  if (be === PCAP_MAGIC_US || be === PCAP_MAGIC_NS || le === PCAP_MAGIC_US || le === PCAP_MAGIC_NS) return 'pcap';
  return undefined;
}

/** Iterates the UDP datagrams of a pcap or pcapng capture. */
export function* readCaptureUdp(bytes: Uint8Array, stats: PcapReadStats = newPcapReadStats()): Generator<UdpDatagram> {
  const format = detectCaptureFormat(bytes);
  if (format === undefined) {
    stats.error = bytes.length < 4 ? 'pcap_truncated_header' : 'pcap_bad_magic';
    return;
  }
  stats.format = format;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (format === 'pcap') yield* readClassic(bytes, dv, stats);
  else yield* readNg(bytes, dv, stats);
}

function* readClassic(bytes: Uint8Array, dv: DataView, stats: PcapReadStats): Generator<UdpDatagram> {
  if (bytes.length < 24) {
    stats.error = 'pcap_truncated_header';
    return;
  }
  const magicBe = dv.getUint32(0, false);
  const le = !(magicBe === PCAP_MAGIC_US || magicBe === PCAP_MAGIC_NS);
  const magic = dv.getUint32(0, le);
  const fracPerMs = magic === PCAP_MAGIC_NS ? 1_000_000 : 1_000;
  // Upper bits of the link-type field carry FCS information (pcap-savefile(5)).
  const linkType = dv.getUint32(20, le) & 0x0fffffff;
  let off = 24;
  let frame = 0;
  while (off < bytes.length) {
    if (off + 16 > bytes.length) {
      stats.error = 'pcap_truncated_record';
      return;
    }
    const sec = dv.getUint32(off, le);
    const frac = dv.getUint32(off + 4, le);
    const inclLen = dv.getUint32(off + 8, le);
    off += 16;
    if (inclLen > bytes.length - off) {
      stats.error = 'pcap_truncated_record';
      return;
    }
    const tsMs = sec * 1000 + Math.floor(frac / fracPerMs);
    const d = parseFrame(bytes, dv, off, inclLen, linkType, tsMs, frame++, stats);
    off += inclLen;
    if (d !== undefined) yield d;
  }
}

interface NgInterface {
  linkType: number;
  snapLen: number;
  /** Timestamp units per second (10^n or 2^n). */
  unitsPerSec: bigint;
  offsetSec: bigint;
}

function* readNg(bytes: Uint8Array, dv: DataView, stats: PcapReadStats): Generator<UdpDatagram> {
  let off = 0;
  let le = true;
  let ifaces: NgInterface[] = [];
  let inSection = false;
  let frame = 0;
  while (off < bytes.length) {
    if (off + 12 > bytes.length) {
      stats.error = 'pcapng_truncated_block';
      return;
    }
    const typeBe = dv.getUint32(off, false);
    if (typeBe === PCAPNG_SHB) {
      const bom = dv.getUint32(off + 8, false);
      if (bom === PCAPNG_BOM) le = false;
      else if (dv.getUint32(off + 8, true) === PCAPNG_BOM) le = true;
      else {
        stats.error = 'pcapng_bad_block';
        return;
      }
      ifaces = [];
      inSection = true;
    } else if (!inSection) {
      stats.error = 'pcapng_no_section';
      return;
    }
    const type = dv.getUint32(off, le);
    const total = dv.getUint32(off + 4, le);
    if (total < 12 || total % 4 !== 0) {
      stats.error = 'pcapng_bad_block';
      return;
    }
    if (total > bytes.length - off) {
      stats.error = 'pcapng_truncated_block';
      return;
    }
    const body = off + 8;
    const bodyLen = total - 12;
    if (type === 1) {
      // Interface Description Block
      if (bodyLen < 8) {
        stats.error = 'pcapng_bad_block';
        return;
      }
      const iface: NgInterface = {
        linkType: dv.getUint16(body, le),
        snapLen: dv.getUint32(body + 4, le),
        unitsPerSec: 1_000_000n,
        offsetSec: 0n,
      };
      readIdbOptions(dv, body + 8, body + bodyLen, le, iface);
      ifaces.push(iface);
    } else if (type === 6 || type === 2) {
      // Enhanced Packet Block (6) / obsolete Packet Block (2): same layout after the interface id.
      if (bodyLen < 20) {
        stats.error = 'pcapng_bad_block';
        return;
      }
      const ifId = type === 6 ? dv.getUint32(body, le) : dv.getUint16(body, le);
      const tsHigh = dv.getUint32(body + 4, le);
      const tsLow = dv.getUint32(body + 8, le);
      const capLen = dv.getUint32(body + 12, le);
      const data = body + 20;
      const iface = ifaces[ifId];
      if (capLen > bodyLen - 20) {
        stats.error = 'pcapng_bad_block';
        return;
      }
      const f = frame++;
      if (iface === undefined) {
        stats.frames++;
        stats.unsupportedLinkType++;
      } else {
        const ts = (BigInt(tsHigh) << 32n) | BigInt(tsLow);
        const tsMs = Number((ts * 1000n) / iface.unitsPerSec + iface.offsetSec * 1000n);
        const d = parseFrame(bytes, dv, data, capLen, iface.linkType, tsMs, f, stats);
        if (d !== undefined) yield d;
      }
    } else if (type === 3) {
      // Simple Packet Block: interface 0, no timestamp.
      if (bodyLen < 4) {
        stats.error = 'pcapng_bad_block';
        return;
      }
      const origLen = dv.getUint32(body, le);
      const iface = ifaces[0];
      const f = frame++;
      if (iface === undefined) {
        stats.frames++;
        stats.unsupportedLinkType++;
      } else {
        let capLen = Math.min(origLen, bodyLen - 4);
        if (iface.snapLen > 0) capLen = Math.min(capLen, iface.snapLen);
        const d = parseFrame(bytes, dv, body + 4, capLen, iface.linkType, 0, f, stats);
        if (d !== undefined) yield d;
      }
    }
    off += total;
  }
}

function readIdbOptions(dv: DataView, off: number, end: number, le: boolean, iface: NgInterface): void {
  while (off + 4 <= end) {
    const code = dv.getUint16(off, le);
    const len = dv.getUint16(off + 2, le);
    const v = off + 4;
    if (code === 0 || v + len > end) return;
    if (code === 9 && len >= 1) {
      const r = dv.getUint8(v);
      const exp = BigInt(r & 0x7f);
      iface.unitsPerSec = r & 0x80 ? 1n << exp : 10n ** exp;
      if (iface.unitsPerSec === 0n) iface.unitsPerSec = 1_000_000n;
    } else if (code === 14 && len >= 8) {
      iface.offsetSec = le ? dv.getBigInt64(v, true) : dv.getBigInt64(v, false);
    }
    off = v + ((len + 3) & ~3);
  }
}

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;

function parseFrame(
  bytes: Uint8Array,
  dv: DataView,
  start: number,
  len: number,
  linkType: number,
  tsMs: number,
  frame: number,
  stats: PcapReadStats,
): UdpDatagram | undefined {
  stats.frames++;
  const end = start + len;
  let off = start;
  let ethertype = -1;
  switch (linkType) {
    case LINKTYPE.ethernet: {
      if (len < 14) return truncated(stats);
      ethertype = dv.getUint16(off + 12);
      off += 14;
      // 802.1Q, 802.1ad and the old QinQ tag: skip any stack of them.
      while (ethertype === 0x8100 || ethertype === 0x88a8 || ethertype === 0x9100) {
        if (off + 4 > end) return truncated(stats);
        ethertype = dv.getUint16(off + 2);
        off += 4;
      }
      break;
    }
    case LINKTYPE.linux_sll:
      if (len < 16) return truncated(stats);
      ethertype = dv.getUint16(off + 14);
      off += 16;
      break;
    case LINKTYPE.linux_sll2:
      if (len < 20) return truncated(stats);
      ethertype = dv.getUint16(off);
      off += 20;
      break;
    case LINKTYPE.null: {
      if (len < 4) return truncated(stats);
      // Address family in the capturing host's byte order: AF_INET 2; AF_INET6 10 (Linux), 24/28/30 (BSDs).
      const famLe = dv.getUint32(off, true);
      const famBe = dv.getUint32(off, false);
      const fam = famLe < 256 ? famLe : famBe;
      off += 4;
      if (fam === 2) ethertype = ETH_IPV4;
      else if (fam === 10 || fam === 24 || fam === 28 || fam === 30) ethertype = ETH_IPV6;
      break;
    }
    case LINKTYPE.raw:
    case 12:
    case 14:
      if (len < 1) return truncated(stats);
      ethertype = bytes[off] >> 4 === 6 ? ETH_IPV6 : ETH_IPV4;
      break;
    case LINKTYPE.ipv4:
      ethertype = ETH_IPV4;
      break;
    case LINKTYPE.ipv6:
      ethertype = ETH_IPV6;
      break;
    default:
      stats.unsupportedLinkType++;
      return undefined;
  }
  if (ethertype === ETH_IPV4) return parseIpv4(bytes, dv, off, end, tsMs, frame, stats);
  if (ethertype === ETH_IPV6) return parseIpv6(bytes, dv, off, end, tsMs, frame, stats);
  stats.nonIp++;
  return undefined;
}

const scratch16 = new Uint8Array(16);
function toBytes16(v4: number): Uint8Array {
  ipv4ToBytes16(v4, scratch16, 0);
  return scratch16;
}

function truncated(stats: PcapReadStats): undefined {
  stats.truncated++;
  return undefined;
}

function parseIpv4(
  bytes: Uint8Array,
  dv: DataView,
  off: number,
  end: number,
  tsMs: number,
  frame: number,
  stats: PcapReadStats,
): UdpDatagram | undefined {
  if (off + 20 > end) return truncated(stats);
  const vihl = bytes[off];
  if (vihl >> 4 !== 4) {
    stats.nonIp++;
    return undefined;
  }
  const ihl = (vihl & 0x0f) * 4;
  const totalLen = dv.getUint16(off + 2);
  if (ihl < 20 || totalLen < ihl) return truncated(stats);
  const ipEnd = off + totalLen;
  if (ipEnd > end) return truncated(stats);
  const fragField = dv.getUint16(off + 6);
  if ((fragField & 0x2000) !== 0 || (fragField & 0x1fff) !== 0) {
    stats.ipFragments++;
    return undefined;
  }
  if (bytes[off + 9] !== 17) {
    stats.nonUdp++;
    return undefined;
  }
  const src = bytes16ToIpText(toBytes16(dv.getUint32(off + 12)), 0);
  const dst = bytes16ToIpText(toBytes16(dv.getUint32(off + 16)), 0);
  return parseUdp(bytes, dv, off + ihl, ipEnd, 4, src, dst, tsMs, frame, stats);
}

function parseIpv6(
  bytes: Uint8Array,
  dv: DataView,
  off: number,
  end: number,
  tsMs: number,
  frame: number,
  stats: PcapReadStats,
): UdpDatagram | undefined {
  if (off + 40 > end) return truncated(stats);
  if (bytes[off] >> 4 !== 6) {
    stats.nonIp++;
    return undefined;
  }
  const payloadLen = dv.getUint16(off + 4);
  const ipEnd = off + 40 + payloadLen;
  // Payload length 0 means a jumbogram; those are not flow exports.
  if (payloadLen === 0 || ipEnd > end) return truncated(stats);
  let next = bytes[off + 6];
  const src = bytes16ToIpText(bytes, off + 8);
  const dst = bytes16ToIpText(bytes, off + 24);
  let p = off + 40;
  for (let hops = 0; hops < 16; hops++) {
    if (next === 17) return parseUdp(bytes, dv, p, ipEnd, 6, src, dst, tsMs, frame, stats);
    if (next === 0 || next === 43 || next === 60 || next === 51) {
      if (p + 8 > ipEnd) return truncated(stats);
      const hdrLen = next === 51 ? (bytes[p + 1] + 2) * 4 : (bytes[p + 1] + 1) * 8;
      next = bytes[p];
      p += hdrLen;
    } else if (next === 44) {
      if (p + 8 > ipEnd) return truncated(stats);
      const fo = dv.getUint16(p + 2);
      // An atomic fragment (offset 0, no more fragments) is a whole datagram.
      if ((fo & 0xfff8) !== 0 || (fo & 1) !== 0) {
        stats.ipFragments++;
        return undefined;
      }
      next = bytes[p];
      p += 8;
    } else {
      stats.nonUdp++;
      return undefined;
    }
  }
  stats.nonUdp++;
  return undefined;
}

function parseUdp(
  bytes: Uint8Array,
  dv: DataView,
  off: number,
  ipEnd: number,
  ipVersion: 4 | 6,
  srcAddr: string,
  dstAddr: string,
  tsMs: number,
  frame: number,
  stats: PcapReadStats,
): UdpDatagram | undefined {
  if (off + 8 > ipEnd) return truncated(stats);
  const udpLen = dv.getUint16(off + 4);
  if (udpLen < 8 || off + udpLen > ipEnd) return truncated(stats);
  stats.udpDatagrams++;
  return {
    tsMs,
    ipVersion,
    srcAddr,
    srcPort: dv.getUint16(off),
    dstAddr,
    dstPort: dv.getUint16(off + 2),
    payload: bytes.subarray(off + 8, off + udpLen),
    frame,
  };
}
