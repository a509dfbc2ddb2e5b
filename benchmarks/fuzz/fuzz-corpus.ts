/**
 * Seed corpus and mutations for the decoder fuzzer. Seeds are valid packets of every protocol: the
 * real-exporter captures in libs/flow-decoder/testdata, flow-gen datagrams (v5, v9, IPFIX incl.
 * variable-length and enterprise fields) and sFlow datagrams from the test encoder; the capture
 * files themselves seed the pcap reader.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { FlowGenerator, type GenProto } from '@flowmesh/flow-gen';
import {
  buildEthernetFrame,
  detectProtocol,
  encodeSflowDatagram,
  readCaptureUdp,
  type SflowFlowSampleSpec,
} from '@flowmesh/flow-decoder';

export const FUZZ_TARGETS = ['netflow_v5', 'netflow_v9', 'ipfix', 'sflow_v5', 'pcap'] as const;
export type FuzzTarget = (typeof FUZZ_TARGETS)[number];

/** Seeds per target, in an order that primes state (templates before data). */
export type SeedCorpus = Record<FuzzTarget, Uint8Array[]>;

export function repoRoot(from = __dirname): string {
  let dir = from;
  while (!existsSync(path.join(dir, 'nx.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('repo root (nx.json) not found');
    dir = up;
  }
  return dir;
}

function sflowSeeds(): Uint8Array[] {
  const tcp = buildEthernetFrame({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 6, srcPort: 1234, dstPort: 443, vlans: [10], payload: 200 });
  const udp6 = buildEthernetFrame({ src: '2001:db8::1', dst: '2001:db8::2', protocol: 17, srcPort: 53, dstPort: 5353, ipv6ExtHeaders: [0, 44], payload: 40 });
  const icmp = buildEthernetFrame({ src: '10.0.0.3', dst: '10.0.0.4', protocol: 1, icmpType: 3, icmpCode: 1, vlans: [1, 2] });
  const full: SflowFlowSampleSpec = {
    kind: 'flow',
    samplingRate: 1000,
    input: 3,
    output: 4,
    records: [
      { kind: 'header', frameLength: 1514, header: tcp.subarray(0, 128) },
      { kind: 'ethernet', length: 1514, srcMac: 0x020000000001, dstMac: 0x020000000002, type: 0x0800 },
      { kind: 'switch', srcVlan: 10, dstVlan: 20 },
      { kind: 'router', nextHop: '192.0.2.1', srcMask: 24, dstMask: 16 },
      { kind: 'gateway', nextHop: '2001:db8::ff', as: 65000, srcAs: 64512, srcPeerAs: 64513, asPath: [[1, 2, 3], [4]], communities: [5, 6] },
    ],
  };
  return [
    encodeSflowDatagram({ agent: '192.0.2.10', subAgentId: 1, sequence: 1, samples: [full, { kind: 'counters', interfaces: [{ ifIndex: 3, ifInOctets: 1e12 }] }] }),
    encodeSflowDatagram({
      agent: '2001:db8::10',
      sequence: 2,
      samples: [
        { ...full, expanded: true, records: [{ kind: 'header', frameLength: 90, header: udp6 }] },
        { kind: 'flow', samplingRate: 1, input: 1, output: 0x80000002, records: [{ kind: 'header', frameLength: 70, header: icmp }] },
        { kind: 'flow', samplingRate: 2, input: 1, output: 2, records: [{ kind: 'ipv6', length: 1, protocol: 6, src: '::1', dst: '::2', srcPort: 1, dstPort: 2, tcpFlags: 2, tos: 0 }] },
        { kind: 'counters', expanded: true, interfaces: [{ ifIndex: 70000 }], raw: [{ format: 2, data: new Uint8Array(52) }] },
      ],
    }),
  ];
}

function genSeeds(proto: GenProto, seed: number): Uint8Array[] {
  const g = new FlowGenerator({
    proto,
    host: '127.0.0.1',
    port: 2055,
    records: 120,
    rate: 0,
    seed,
    startTimeMs: Date.UTC(2026, 0, 1),
    perPacket: 12,
    distinct: 4,
    templateEvery: 4,
  });
  return [...g.packets()].map((b) => new Uint8Array(b));
}

export function buildSeedCorpus(root = repoRoot()): SeedCorpus {
  const corpus: SeedCorpus = { netflow_v5: [], netflow_v9: [], ipfix: [], sflow_v5: [], pcap: [] };
  const dir = path.join(root, 'libs/flow-decoder/testdata');
  for (const f of readdirSync(dir).sort()) {
    if (!/\.pcap(ng)?$/.test(f)) continue;
    const bytes = new Uint8Array(readFileSync(path.join(dir, f)));
    corpus.pcap.push(bytes.length > 16384 ? bytes.subarray(0, 16384) : bytes);
    for (const d of readCaptureUdp(bytes)) {
      const p = detectProtocol(d.payload);
      if (p !== 'unknown') corpus[p].push(d.payload.slice());
    }
  }
  corpus.netflow_v5.push(...genSeeds('v5', 1));
  corpus.netflow_v9.push(...genSeeds('v9', 2));
  corpus.ipfix.push(...genSeeds('ipfix', 3), ...genSeeds('ipfix-varlen', 4), ...genSeeds('ipfix-ent', 5));
  corpus.sflow_v5.push(...sflowSeeds());
  return corpus;
}

/** xorshift32: deterministic per worker seed. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  u32(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }
  int(n: number): number {
    return n <= 0 ? 0 : this.u32() % n;
  }
  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)];
  }
}

const I8 = [0, 1, 0x7f, 0x80, 0xfe, 0xff];
const I16 = [0, 1, 2, 3, 4, 7, 8, 0xff, 0x100, 0x7fff, 0x8000, 0xfffe, 0xffff];
const I32 = [0, 1, 4, 0x7f, 0xff, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

/**
 * Stacks 1..4 mutations on a copy of a seed, in one scratch buffer reused for every input (no
 * allocation per input but the returned view). The returned view is valid only until the next call;
 * the decoder copies whatever it keeps (held data, templates, extra bytes), so reuse is safe.
 */
export class Mutator {
  private readonly buf: Uint8Array;
  constructor(readonly capacity: number) {
    this.buf = new Uint8Array(capacity);
  }

  mutate(rng: Rng, base: Uint8Array, pool: Uint8Array[]): Uint8Array {
    const b = this.buf;
    const cap = this.capacity;
    let len = Math.min(base.length, cap);
    b.set(base.length > cap ? base.subarray(0, cap) : base);
    const n = 1 + rng.int(4);
    for (let k = 0; k < n; k++) {
      switch (rng.int(11)) {
        case 0: // bit flip
          if (len > 0) b[rng.int(len)] ^= 1 << rng.int(8);
          break;
        case 1: // interesting byte
          if (len > 0) b[rng.int(len)] = I8[rng.int(I8.length)];
          break;
        case 2: {
          // 16-bit lie, aligned: counts, lengths, ids
          if (len < 2) break;
          const p = rng.int(len >> 1) * 2;
          const v = rng.int(3) === 0 ? (len - p + rng.int(9) - 4) & 0xffff : I16[rng.int(I16.length)];
          b[p] = v >> 8;
          b[p + 1] = v & 0xff;
          break;
        }
        case 3: {
          // 32-bit lie, aligned: sFlow counts and lengths, v5 count * 48 overflow
          if (len < 4) break;
          const p = rng.int(len >> 2) * 4;
          const v = rng.int(3) === 0 ? (len - p + rng.int(9) - 4) >>> 0 : I32[rng.int(I32.length)];
          b[p] = v >>> 24;
          b[p + 1] = (v >>> 16) & 0xff;
          b[p + 2] = (v >>> 8) & 0xff;
          b[p + 3] = v & 0xff;
          break;
        }
        case 4: // truncate
          len = rng.int(len + 1);
          break;
        case 5: {
          // splice with another seed of the same target
          const o = pool[rng.int(pool.length)];
          const a = rng.int(len + 1);
          const c = rng.int(o.length + 1);
          const take = Math.min(o.length - c, cap - a);
          b.set(o.subarray(c, c + take), a);
          len = a + take;
          break;
        }
        case 6: {
          // insert random bytes
          const at = rng.int(len + 1);
          const k2 = 1 + rng.int(16);
          if (len + k2 > cap) break;
          b.copyWithin(at + k2, at, len);
          for (let i = 0; i < k2; i++) b[at + i] = rng.u32() & 0xff;
          len += k2;
          break;
        }
        case 7: {
          // delete a range
          const at = rng.int(len + 1);
          const k2 = rng.int(Math.min(32, len - at) + 1);
          b.copyWithin(at, at + k2, len);
          len -= k2;
          break;
        }
        case 8: {
          // duplicate a chunk (repeated records, sets, samples)
          if (len === 0) break;
          const at = rng.int(len);
          const k2 = 1 + rng.int(Math.min(256, len - at));
          if (len + k2 > cap) break;
          b.copyWithin(at + k2, at, len);
          len += k2;
          break;
        }
        case 9: {
          // NetFlow v9 / IPFIX set length lie
          const p = setLengthOffset(rng, b, len);
          if (p < 0) break;
          const cur = (b[p] << 8) | b[p + 1];
          const choices = [0, 1, 3, 4, 5, cur - 1, cur + 1, cur + 4, len, 0xffff];
          const v = choices[rng.int(choices.length)] & 0xffff;
          b[p] = v >> 8;
          b[p + 1] = v & 0xff;
          break;
        }
        default: {
          // random byte run
          if (len === 0) break;
          const at = rng.int(len);
          const k2 = 1 + rng.int(Math.min(8, len - at));
          for (let i = 0; i < k2; i++) b[at + i] = rng.u32() & 0xff;
        }
      }
    }
    return b.subarray(0, len);
  }
}

const SET_OFFSETS = new Int32Array(64);

/** Offset of the 16-bit length field of a random NetFlow v9 / IPFIX set of b[0..len), or -1. */
function setLengthOffset(rng: Rng, b: Uint8Array, len: number): number {
  if (len < 4) return -1;
  const v = (b[0] << 8) | b[1];
  let p = v === 9 ? 20 : v === 10 ? 16 : -1;
  let n = 0;
  while (p >= 0 && p + 4 <= len && n < 64) {
    SET_OFFSETS[n++] = p + 2;
    const sl = (b[p + 2] << 8) | b[p + 3];
    if (sl < 4) break;
    p += sl;
  }
  return n === 0 ? -1 : SET_OFFSETS[rng.int(n)];
}

/** 1..4 stacked mutations of `base` (a fresh copy; `base` is untouched). */
export function mutate(rng: Rng, base: Uint8Array, pool: Uint8Array[]): Uint8Array {
  return new Mutator(Math.max(1 << 18, base.length * 2 + 4096)).mutate(rng, base, pool).slice();
}
