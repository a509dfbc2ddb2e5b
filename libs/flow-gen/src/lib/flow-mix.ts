import { Prng } from './prng';

/** One synthetic flow, already in wire-ready shape (addresses as network-order bytes). */
export interface SynthFlow {
  v6: boolean;
  src: Uint8Array; // 4 or 16 bytes
  dst: Uint8Array;
  nextHop: Uint8Array;
  inIf: number;
  outIf: number;
  packets: number;
  bytes: number;
  /** Epoch milliseconds. */
  startMs: number;
  endMs: number;
  srcPort: number;
  dstPort: number;
  protocol: number;
  tcpFlags: number;
  tos: number;
  srcAs: number;
  dstAs: number;
  srcMask: number;
  dstMask: number;
  /** applicationName (IE 96), ASCII; may be empty. */
  app: Uint8Array;
  /** Enterprise fields (PEN 32473): id 1 uint32, id 2 uint64 as two halves. */
  ent1: number;
  ent2Hi: number;
  ent2Lo: number;
}

/** [port, IP protocol, weight] — a plausible enterprise-edge service mix. */
const SERVICES: ReadonlyArray<readonly [number, number, number]> = [
  [443, 6, 30], [80, 6, 10], [53, 17, 12], [443, 17, 8], [123, 17, 3], [22, 6, 3], [25, 6, 2],
  [993, 6, 2], [3306, 6, 1], [8080, 6, 2], [5060, 17, 1], [1194, 17, 1], [3478, 17, 1], [179, 6, 1],
];
const SERVICE_APP: ReadonlyMap<number, string> = new Map([
  [443, 'https'], [80, 'http'], [53, 'dns'], [123, 'ntp'], [22, 'ssh'], [25, 'smtp'], [993, 'imaps'],
  [3306, 'mysql'], [8080, 'http-alt'], [5060, 'sip'], [1194, 'openvpn'], [3478, 'stun'], [179, 'bgp'],
]);
const OTHER_APPS = [
  'https', 'http', 'dns', 'quic', 'ntp', 'ssh', '', 'youtube-video-streaming', 'microsoft-teams-media', 'icmp-echo',
];
/** Mostly established sessions (ACK|PSH|SYN|FIN), some SYN-only scans, resets. */
const TCP_FLAGS = [0x1b, 0x1b, 0x1b, 0x1a, 0x18, 0x10, 0x02, 0x12, 0x11, 0x19, 0x14, 0x04, 0x1f];
const TOS = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x20, 0x48, 0xb8, 0x28, 0x88, 0x10];
const TCP_AVG_SIZE = [40, 52, 64, 120, 400, 576, 1200, 1400, 1500];
const ASNS = [
  0, 64496, 64511, 65000, 65535, 3356, 174, 1299, 2914, 6939, 13335, 15169, 16509, 32934, 8075, 20940,
  4200000001, 131072, 397213,
];
/** RFC 1918, RFC 6598 and RFC 5737 documentation ranges: [first octets, prefix length]. */
const NETS4: ReadonlyArray<readonly [number[], number]> = [
  [[10, 0, 0, 0], 12], [[172, 16, 0, 0], 16], [[192, 168, 0, 0], 18], [[100, 64, 0, 0], 16],
  [[192, 0, 2, 0], 24], [[198, 51, 100, 0], 24], [[203, 0, 113, 0], 24],
];

const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const APP_BYTES = new Map<string, Uint8Array>([...SERVICE_APP.values(), ...OTHER_APPS].map((s) => [s, ascii(s)]));

/** Host pools and weighted tables, drawn once from the PRNG. */
export class FlowMix {
  private readonly hosts4: Uint8Array[] = [];
  private readonly hosts6: Uint8Array[] = [];
  private readonly nextHops4: Uint8Array[] = [];
  private readonly nextHops6: Uint8Array[] = [];
  private readonly services: Array<readonly [number, number]> = [];

  constructor(private readonly rnd: Prng) {
    for (let i = 0; i < 4096; i++) {
      const [net, len] = rnd.pick(NETS4);
      const base = ((net[0] << 24) | (net[1] << 16) | (net[2] << 8) | net[3]) >>> 0;
      const size = 2 ** (32 - len);
      const a = base + rnd.int(1, size - 1);
      this.hosts4.push(Uint8Array.of(a >>> 24, (a >>> 16) & 0xff, (a >>> 8) & 0xff, a & 0xff));
    }
    for (let i = 0; i < 2048; i++) {
      const h = new Uint8Array(16);
      // 2001:db8::/32 (documentation) for "internet" hosts, fd00::/8 (ULA) for internal ones.
      if (rnd.float() < 0.7) h.set([0x20, 0x01, 0x0d, 0xb8]);
      else h.set([0xfd, rnd.int(0, 256), rnd.int(0, 256), rnd.int(0, 256)]);
      new DataView(h.buffer).setUint32(4, rnd.u32() & 0xffff);
      for (let k = 8; k < 16; k += 4) new DataView(h.buffer).setUint32(k, rnd.u32());
      this.hosts6.push(h);
    }
    for (let i = 1; i <= 8; i++) {
      this.nextHops4.push(Uint8Array.of(10, 255, 0, i));
      this.nextHops6.push(Uint8Array.of(0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, i));
    }
    for (const [port, proto, weight] of SERVICES) {
      for (let w = 0; w < weight; w++) this.services.push([port, proto]);
    }
  }

  /** A flow that ended 0–30 s before `nowMs` and lasted up to 2 minutes. */
  flow(v6: boolean, nowMs: number): SynthFlow {
    const r = this.rnd;
    let protocol: number;
    let srcPort = 0;
    let dstPort = 0;
    const roll = r.float();
    if (roll < 0.03) {
      protocol = v6 ? 58 : 1;
      // NetFlow convention: ICMP type/code in the destination port.
      dstPort = v6 ? r.pick([0x8000, 0x8100, 0x8700]) : r.pick([0x0800, 0x0000, 0x0303, 0x0b00]);
    } else if (roll < 0.05) {
      protocol = r.pick([47, 50]);
    } else {
      const svc = r.pick(this.services);
      dstPort = svc[0];
      protocol = svc[1];
      srcPort = r.int(1024, 65536);
      if (r.float() < 0.5) [srcPort, dstPort] = [dstPort, srcPort];
    }
    const packets = Math.max(1, Math.floor(Math.exp(r.float() * 10)));
    const avg = protocol === 6 ? r.pick(TCP_AVG_SIZE) : r.int(40, 1500);
    const duration = Math.floor(Math.min(120_000, packets * (0.5 + r.float() * 19.5)));
    const endAge = r.int(0, 30_000);
    const hosts = v6 ? this.hosts6 : this.hosts4;
    const appName =
      protocol === 1 || protocol === 58 ? 'icmp-echo' : (SERVICE_APP.get(dstPort) ?? SERVICE_APP.get(srcPort) ?? r.pick(OTHER_APPS));
    return {
      v6,
      src: r.pick(hosts),
      dst: r.pick(hosts),
      nextHop: r.pick(v6 ? this.nextHops6 : this.nextHops4),
      inIf: r.int(1, 65),
      outIf: r.int(1, 65),
      packets,
      bytes: packets * avg,
      startMs: nowMs - endAge - duration,
      endMs: nowMs - endAge,
      srcPort,
      dstPort,
      protocol,
      tcpFlags: protocol === 6 ? r.pick(TCP_FLAGS) : 0,
      tos: r.pick(TOS),
      srcAs: r.pick(ASNS),
      dstAs: r.pick(ASNS),
      srcMask: v6 ? r.int(32, 65) : r.int(8, 33),
      dstMask: v6 ? r.int(32, 65) : r.int(8, 33),
      app: APP_BYTES.get(appName) as Uint8Array,
      ent1: r.u32(),
      ent2Hi: r.u32(),
      ent2Lo: r.u32(),
    };
  }
}
