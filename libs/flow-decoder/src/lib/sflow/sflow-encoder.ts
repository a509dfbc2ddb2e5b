/**
 * sFlow v5 datagram builder: fixtures for specs, fuzz seeds and benchmarks. Not on the decode path.
 * Follows the XDR layouts of the sFlow v5 specification; `raw` entries let a test write anything.
 */
import { isV4Mapped, parseIpToBytes16 } from '../addr';

export type SflowFlowRecordSpec =
  | { kind: 'header'; headerProtocol?: number; frameLength: number; stripped?: number; header: Uint8Array }
  | { kind: 'ethernet'; length: number; srcMac: number; dstMac: number; type: number }
  | {
      kind: 'ipv4' | 'ipv6';
      length: number;
      protocol: number;
      src: string;
      dst: string;
      srcPort: number;
      dstPort: number;
      tcpFlags: number;
      tos: number;
    }
  | { kind: 'switch'; srcVlan: number; srcPriority?: number; dstVlan: number; dstPriority?: number }
  | { kind: 'router'; nextHop: string; srcMask: number; dstMask: number }
  | {
      kind: 'gateway';
      nextHop: string;
      as: number;
      srcAs: number;
      srcPeerAs: number;
      /** Segments of AS numbers (type 2 = AS_SEQUENCE). */
      asPath: number[][];
      communities?: number[];
      localPref?: number;
    }
  | { kind: 'raw'; enterprise?: number; format: number; data: Uint8Array };

export interface SflowFlowSampleSpec {
  kind: 'flow';
  expanded?: boolean;
  sequence?: number;
  sourceIdType?: number;
  sourceIdIndex?: number;
  samplingRate: number;
  samplePool?: number;
  drops?: number;
  /** Interface index (format 0) unless the *Format field says otherwise. */
  input: number;
  output: number;
  inputFormat?: number;
  outputFormat?: number;
  records: SflowFlowRecordSpec[];
}

export interface SflowIfCountersSpec {
  ifIndex: number;
  ifType?: number;
  ifSpeed?: number;
  ifDirection?: number;
  ifStatus?: number;
  ifInOctets?: number;
  ifInUcastPkts?: number;
  ifInMulticastPkts?: number;
  ifInBroadcastPkts?: number;
  ifInDiscards?: number;
  ifInErrors?: number;
  ifInUnknownProtos?: number;
  ifOutOctets?: number;
  ifOutUcastPkts?: number;
  ifOutMulticastPkts?: number;
  ifOutBroadcastPkts?: number;
  ifOutDiscards?: number;
  ifOutErrors?: number;
  ifPromiscuousMode?: number;
}

export interface SflowCounterSampleSpec {
  kind: 'counters';
  expanded?: boolean;
  sequence?: number;
  sourceIdType?: number;
  sourceIdIndex?: number;
  interfaces?: SflowIfCountersSpec[];
  raw?: { enterprise?: number; format: number; data: Uint8Array }[];
}

export interface SflowRawSampleSpec {
  kind: 'raw';
  enterprise?: number;
  format: number;
  data: Uint8Array;
}

export interface SflowDatagramSpec {
  agent: string;
  subAgentId?: number;
  sequence?: number;
  uptimeMs?: number;
  samples: (SflowFlowSampleSpec | SflowCounterSampleSpec | SflowRawSampleSpec)[];
}

class Xdr {
  private buf = new Uint8Array(256);
  private dv = new DataView(this.buf.buffer);
  len = 0;

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf);
    this.buf = next;
    this.dv = new DataView(next.buffer);
  }

  u32(v: number): this {
    this.room(4);
    this.dv.setUint32(this.len, v >>> 0);
    this.len += 4;
    return this;
  }

  u64(v: number): this {
    return this.u32(Math.floor(v / 4294967296)).u32(v % 4294967296);
  }

  bytes(b: Uint8Array): this {
    const padded = (b.length + 3) & ~3;
    this.room(padded);
    this.buf.set(b, this.len);
    this.buf.fill(0, this.len + b.length, this.len + padded);
    this.len += padded;
    return this;
  }

  address(text: string): this {
    const a = new Uint8Array(16);
    if (!parseIpToBytes16(text, a, 0)) throw new Error(`bad address ${text}`);
    if (!text.includes(':') && isV4Mapped(a, 0)) return this.u32(1).bytes(a.subarray(12));
    return this.u32(2).bytes(a);
  }

  mac(m: number): this {
    const b = new Uint8Array(6);
    for (let i = 5, v = m; i >= 0; i--, v = Math.floor(v / 256)) b[i] = v % 256;
    return this.bytes(b);
  }

  /** Writes format + length + what `fill` writes. */
  block(format: number, fill: (x: Xdr) => void): this {
    const inner = new Xdr();
    fill(inner);
    return this.u32(format).u32(inner.len).bytes(inner.result());
  }

  result(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

function flowRecord(x: Xdr, r: SflowFlowRecordSpec): void {
  switch (r.kind) {
    case 'header':
      x.block(1, (y) =>
        y
          .u32(r.headerProtocol ?? 1)
          .u32(r.frameLength)
          .u32(r.stripped ?? 4)
          .u32(r.header.length)
          .bytes(r.header),
      );
      return;
    case 'ethernet':
      x.block(2, (y) => y.u32(r.length).mac(r.srcMac).mac(r.dstMac).u32(r.type));
      return;
    case 'ipv4':
    case 'ipv6':
      x.block(r.kind === 'ipv4' ? 3 : 4, (y) => {
        y.u32(r.length).u32(r.protocol);
        const a = new Uint8Array(16);
        for (const addr of [r.src, r.dst]) {
          if (!parseIpToBytes16(addr, a, 0)) throw new Error(`bad address ${addr}`);
          y.bytes(r.kind === 'ipv4' ? a.subarray(12) : a.slice());
        }
        y.u32(r.srcPort).u32(r.dstPort).u32(r.tcpFlags).u32(r.tos);
      });
      return;
    case 'switch':
      x.block(1001, (y) => y.u32(r.srcVlan).u32(r.srcPriority ?? 0).u32(r.dstVlan).u32(r.dstPriority ?? 0));
      return;
    case 'router':
      x.block(1002, (y) => y.address(r.nextHop).u32(r.srcMask).u32(r.dstMask));
      return;
    case 'gateway':
      x.block(1003, (y) => {
        y.address(r.nextHop).u32(r.as).u32(r.srcAs).u32(r.srcPeerAs).u32(r.asPath.length);
        for (const seg of r.asPath) {
          y.u32(2).u32(seg.length);
          for (const as of seg) y.u32(as);
        }
        const c = r.communities ?? [];
        y.u32(c.length);
        for (const v of c) y.u32(v);
        y.u32(r.localPref ?? 100);
      });
      return;
    case 'raw':
      x.block(((r.enterprise ?? 0) << 12) | r.format, (y) => y.bytes(r.data));
      return;
  }
}

/** Encodes one sFlow v5 datagram. */
export function encodeSflowDatagram(spec: SflowDatagramSpec): Uint8Array {
  const x = new Xdr();
  x.u32(5).address(spec.agent);
  x.u32(spec.subAgentId ?? 0).u32(spec.sequence ?? 1).u32(spec.uptimeMs ?? 60000).u32(spec.samples.length);
  for (const s of spec.samples) {
    if (s.kind === 'raw') {
      x.block(((s.enterprise ?? 0) << 12) | s.format, (y) => y.bytes(s.data));
    } else if (s.kind === 'flow') {
      x.block(s.expanded ? 3 : 1, (y) => {
        y.u32(s.sequence ?? 1);
        if (s.expanded) y.u32(s.sourceIdType ?? 0).u32(s.sourceIdIndex ?? s.input);
        else y.u32(((s.sourceIdType ?? 0) << 24) | ((s.sourceIdIndex ?? s.input) & 0xffffff));
        y.u32(s.samplingRate).u32(s.samplePool ?? s.samplingRate).u32(s.drops ?? 0);
        if (s.expanded) {
          y.u32(s.inputFormat ?? 0).u32(s.input).u32(s.outputFormat ?? 0).u32(s.output);
        } else {
          y.u32(((s.inputFormat ?? 0) << 30) | (s.input & 0x3fffffff));
          y.u32(((s.outputFormat ?? 0) << 30) | (s.output & 0x3fffffff));
        }
        y.u32(s.records.length);
        for (const r of s.records) flowRecord(y, r);
      });
    } else {
      x.block(s.expanded ? 4 : 2, (y) => {
        y.u32(s.sequence ?? 1);
        const idx = s.sourceIdIndex ?? s.interfaces?.[0]?.ifIndex ?? 0;
        if (s.expanded) y.u32(s.sourceIdType ?? 0).u32(idx);
        else y.u32(((s.sourceIdType ?? 0) << 24) | (idx & 0xffffff));
        const ifs = s.interfaces ?? [];
        const raws = s.raw ?? [];
        y.u32(ifs.length + raws.length);
        for (const c of ifs) {
          y.block(1, (z) =>
            z
              .u32(c.ifIndex)
              .u32(c.ifType ?? 6)
              .u64(c.ifSpeed ?? 1e9)
              .u32(c.ifDirection ?? 1)
              .u32(c.ifStatus ?? 3)
              .u64(c.ifInOctets ?? 0)
              .u32(c.ifInUcastPkts ?? 0)
              .u32(c.ifInMulticastPkts ?? 0)
              .u32(c.ifInBroadcastPkts ?? 0)
              .u32(c.ifInDiscards ?? 0)
              .u32(c.ifInErrors ?? 0)
              .u32(c.ifInUnknownProtos ?? 0)
              .u64(c.ifOutOctets ?? 0)
              .u32(c.ifOutUcastPkts ?? 0)
              .u32(c.ifOutMulticastPkts ?? 0)
              .u32(c.ifOutBroadcastPkts ?? 0)
              .u32(c.ifOutDiscards ?? 0)
              .u32(c.ifOutErrors ?? 0)
              .u32(c.ifPromiscuousMode ?? 0),
          );
        }
        for (const r of raws) y.block(((r.enterprise ?? 0) << 12) | r.format, (z) => z.bytes(r.data));
      });
    }
  }
  return x.result();
}
