/** Builds small Ethernet/IPv4 pcap files with TCP and UDP packets, and knows their true totals. */
export interface SynthPacket {
  tsSec: number;
  src: [number, number, number, number];
  dst: [number, number, number, number];
  protocol: 6 | 17;
  srcPort: number;
  dstPort: number;
  payloadBytes: number;
}

function checksum(b: Buffer): number {
  let s = 0;
  for (let i = 0; i + 1 < b.length; i += 2) s += b.readUInt16BE(i);
  if (b.length % 2) s += b[b.length - 1] << 8;
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return ~s & 0xffff;
}

export function ipv4Frame(p: SynthPacket): Buffer {
  const l4 = p.protocol === 6 ? Buffer.alloc(20 + p.payloadBytes, 0x61) : Buffer.alloc(8 + p.payloadBytes, 0x62);
  l4.writeUInt16BE(p.srcPort, 0);
  l4.writeUInt16BE(p.dstPort, 2);
  if (p.protocol === 6) {
    l4.writeUInt32BE(1, 4);
    l4.writeUInt32BE(0, 8);
    l4[12] = 5 << 4;
    l4[13] = 0x18; // PSH|ACK
    l4.writeUInt16BE(65535, 14);
    l4.writeUInt32BE(0, 16);
  } else {
    l4.writeUInt16BE(8 + p.payloadBytes, 4);
    l4.writeUInt16BE(0, 6);
  }
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + l4.length, 2);
  ip.writeUInt16BE(1, 4);
  ip[8] = 64;
  ip[9] = p.protocol;
  Buffer.from(p.src).copy(ip, 12);
  Buffer.from(p.dst).copy(ip, 16);
  ip.writeUInt16BE(checksum(ip), 10);
  const eth = Buffer.from([0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0x08, 0x00]);
  return Buffer.concat([eth, ip, l4]);
}

/** A classic pcap (Ethernet link type) holding the packets. */
export function writePcap(packets: SynthPacket[]): Buffer {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(65535, 16);
  header.writeUInt32LE(1, 20);
  const parts: Buffer[] = [header];
  for (const p of packets) {
    const frame = ipv4Frame(p);
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(p.tsSec, 0);
    rec.writeUInt32LE(frame.length, 8);
    rec.writeUInt32LE(frame.length, 12);
    parts.push(rec, frame);
  }
  return Buffer.concat(parts);
}

/** What an exporter that counts IP bytes must report for these packets: per 5-tuple flow and in total. */
export function truth(packets: SynthPacket[]): { packets: number; bytes: number; flows: number; bySrc: Map<string, { bytes: number; packets: number; flows: number }> } {
  const flows = new Set<string>();
  const bySrc = new Map<string, { bytes: number; packets: number; flows: number }>();
  let bytes = 0;
  for (const p of packets) {
    const ipLen = 20 + (p.protocol === 6 ? 20 : 8) + p.payloadBytes;
    bytes += ipLen;
    const key = `${p.src.join('.')}|${p.dst.join('.')}|${p.protocol}|${p.srcPort}|${p.dstPort}`;
    const src = p.src.join('.');
    const s = bySrc.get(src) ?? { bytes: 0, packets: 0, flows: 0 };
    s.bytes += ipLen;
    s.packets += 1;
    if (!flows.has(key)) s.flows += 1;
    flows.add(key);
    bySrc.set(src, s);
  }
  return { packets: packets.length, bytes, flows: flows.size, bySrc };
}

/** A deterministic little traffic mix: TCP sessions to 443 and 22, DNS over UDP. */
export function sampleTraffic(baseSec = 1_700_000_000): SynthPacket[] {
  const out: SynthPacket[] = [];
  for (let i = 0; i < 60; i++) {
    out.push({ tsSec: baseSec + i, src: [10, 0, 0, 1], dst: [10, 0, 0, 2], protocol: 6, srcPort: 40000 + (i % 12), dstPort: 443, payloadBytes: 100 + i });
    out.push({ tsSec: baseSec + i, src: [10, 0, 0, 3], dst: [192, 168, 1, 1], protocol: 17, srcPort: 5353, dstPort: 53, payloadBytes: 40 });
    if (i % 3 === 0) out.push({ tsSec: baseSec + i, src: [172, 16, 5, 9], dst: [10, 0, 0, 2], protocol: 6, srcPort: 51000, dstPort: 22, payloadBytes: 500 });
  }
  return out;
}
