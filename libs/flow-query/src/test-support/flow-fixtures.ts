/**
 * Test support (imported only by specs): deterministic random flows, random filters from the grammar,
 * hostile inputs, and the flows table DDL as the collector node's storage schema defines it
 * (apps/collector-node/src/storage/schema.ts, schema version 1; copied, as libs cannot import apps).
 */
import { formatAddress } from '../lib/address';
import { FlowRecordLike } from '../lib/filter-predicate';

export const FLOWS_DDL = `CREATE TABLE IF NOT EXISTS flowmesh.flows (
  time_received DateTime,
  flow_start DateTime,
  flow_end DateTime,
  exporter_addr FixedString(16),
  observation_domain UInt32,
  flow_type UInt8,
  sampling_rate UInt32,
  ip_version UInt8,
  src_addr FixedString(16),
  dst_addr FixedString(16),
  src_port UInt16,
  dst_port UInt16,
  protocol UInt8,
  tcp_flags UInt8,
  tos UInt8,
  bytes UInt64,
  packets UInt64,
  in_if UInt32,
  out_if UInt32,
  src_as UInt32,
  dst_as UInt32,
  next_hop FixedString(16),
  src_mask UInt8,
  dst_mask UInt8,
  direction UInt8,
  vlan UInt16,
  src_mac UInt64,
  dst_mac UInt64
) ENGINE = MergeTree PARTITION BY toYYYYMMDD(time_received) ORDER BY (toStartOfHour(time_received), exporter_addr, time_received)`;

/** mulberry32: small, fast, deterministic. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

const V4_POOL = ['10.0.0.1', '10.0.0.2', '10.1.2.3', '10.1.200.7', '10.255.255.255', '192.168.1.10', '192.168.1.200', '172.16.5.4', '172.31.0.9', '8.8.8.8', '1.1.1.1', '0.0.0.0', '255.255.255.255', '100.64.0.1'];
const V6_POOL = ['2001:db8::1', '2001:db8::2', '2001:db8:1::5', '2001:db8:ffff::1', 'fe80::1', '::1', '::', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', '2a00:1450:4001::200e', '::ffff:0:1', '2001:db8::8000:0:0:1'];
const EXPORTERS = ['192.0.2.1', '192.0.2.2', '198.51.100.7', '2001:db8:e::1'];
const PORTS = [0, 22, 53, 80, 123, 443, 1024, 3389, 8080, 65535];
const PROTOS = [1, 6, 6, 6, 17, 17, 47, 50, 58, 132];
const TOS = [0, 8, 16, 184, 255];
const BYTES = [0, 40, 999, 1000, 1001, 1500, 1_000_000, 1_000_000_000, 2 ** 40, Number.MAX_SAFE_INTEGER];
const PACKETS = [0, 1, 2, 10, 999, 1000, 1001, 1_000_000];
const IFS = [0, 1, 2, 3, 10, 4294967295];
const ASES = [0, 15169, 13335, 64512, 4294967295];
const VLANS = [0, 1, 100, 4095, 65535];
const MACS = [0, 0x0242ac110002, 0xffffffffffff, 0x001122334455];

function v4Bytes(text: string): Uint8Array {
  const b = new Uint8Array(16);
  b[10] = 0xff;
  b[11] = 0xff;
  text.split('.').forEach((o, i) => (b[12 + i] = Number(o)));
  return b;
}

function v6Bytes(text: string): Uint8Array {
  const [head, tail = ''] = text.split('::');
  const h = head ? head.split(':') : [];
  const t = text.includes('::') ? (tail ? tail.split(':') : []) : [];
  const words = text.includes('::') ? [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  const b = new Uint8Array(16);
  words.forEach((w, i) => {
    const v = parseInt(w, 16);
    b[2 * i] = v >> 8;
    b[2 * i + 1] = v & 0xff;
  });
  return b;
}

function randomAddr(rng: Rng, family: 4 | 6): Uint8Array {
  if (family === 4) {
    if (rng.chance(0.75)) return v4Bytes(rng.pick(V4_POOL));
    return v4Bytes([rng.int(0, 255), rng.int(0, 255), rng.int(0, 255), rng.int(0, 255)].join('.'));
  }
  if (rng.chance(0.75)) return v6Bytes(rng.pick(V6_POOL));
  const b = new Uint8Array(16);
  for (let i = 0; i < 16; i++) b[i] = rng.int(0, 255);
  return b;
}

export type TestFlow = { -readonly [K in keyof FlowRecordLike]: FlowRecordLike[K] };

export function randomFlows(count: number, seed: number): TestFlow[] {
  const rng = new Rng(seed);
  const rows: TestFlow[] = [];
  const num = <T>(pool: readonly T[], random: () => T): T => (rng.chance(0.8) ? rng.pick(pool) : random());
  for (let i = 0; i < count; i++) {
    const family: 4 | 6 = rng.chance(0.7) ? 4 : 6;
    const exporter = rng.pick(EXPORTERS);
    rows.push({
      ip_version: family,
      src_addr: randomAddr(rng, family),
      dst_addr: randomAddr(rng, family),
      next_hop: rng.chance(0.3) ? new Uint8Array(16) : randomAddr(rng, family),
      exporter_addr: exporter.includes(':') ? v6Bytes(exporter) : v4Bytes(exporter),
      src_port: num(PORTS, () => rng.int(0, 65535)),
      dst_port: num(PORTS, () => rng.int(0, 65535)),
      protocol: num(PROTOS, () => rng.int(0, 255)),
      tcp_flags: rng.int(0, 255),
      tos: num(TOS, () => rng.int(0, 255)),
      bytes: num(BYTES, () => rng.int(0, 2 ** 31)),
      packets: num(PACKETS, () => rng.int(0, 100000)),
      in_if: num(IFS, () => rng.int(0, 4294967295)),
      out_if: num(IFS, () => rng.int(0, 4294967295)),
      src_as: num(ASES, () => rng.int(0, 4294967295)),
      dst_as: num(ASES, () => rng.int(0, 4294967295)),
      src_mask: rng.int(0, family === 4 ? 32 : 128),
      dst_mask: rng.int(0, family === 4 ? 32 : 128),
      vlan: num(VLANS, () => rng.int(0, 65535)),
      src_mac: num(MACS, () => rng.int(0, 2 ** 24 - 1) * 2 ** 24 + rng.int(0, 2 ** 24 - 1)),
      dst_mac: num(MACS, () => rng.int(0, 2 ** 24 - 1) * 2 ** 24 + rng.int(0, 2 ** 24 - 1)),
    });
  }
  return rows;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** INSERT statements (chunks of `chunk` rows) that load the flows, addresses through unhex(). */
export function insertStatements(rows: readonly TestFlow[], chunk = 500): string[] {
  const out: string[] = [];
  for (let i = 0; i < rows.length; i += chunk) {
    const values = rows.slice(i, i + chunk).map((r) =>
      `('2024-05-01 12:00:00','2024-05-01 11:59:00','2024-05-01 12:00:00',unhex('${hex(r.exporter_addr)}'),0,10,1,${r.ip_version},` +
      `unhex('${hex(r.src_addr)}'),unhex('${hex(r.dst_addr)}'),${r.src_port},${r.dst_port},${r.protocol},${r.tcp_flags},${r.tos},` +
      `${r.bytes},${r.packets},${r.in_if},${r.out_if},${r.src_as},${r.dst_as},unhex('${hex(r.next_hop)}'),${r.src_mask},${r.dst_mask},0,` +
      `${r.vlan},${r.src_mac},${r.dst_mac})`,
    );
    out.push(`INSERT INTO flowmesh.flows VALUES ${values.join(',')}`);
  }
  return out;
}

/** Channels and profiles the random filters may reference. */
export const TEST_REFERENCES: Readonly<Record<string, string>> = {
  'channel:web': 'port 80 or port 443',
  'channel:internal': 'src net 10.0.0.0/8 and dst net 10.0.0.0/8',
  'channel:dns': 'proto udp and port 53',
  'channel:web-internal': 'channel web and channel internal',
  'profile:edge': 'exporter 192.0.2.1 or exporter net 198.51.100.0/24',
  'profile:v6-web': 'inet6 and channel web',
};

export const testResolver = (kind: string, name: string): string | undefined => TEST_REFERENCES[`${kind}:${name}`];

const OPS = ['', '', '', '= ', '== ', '< ', '> ', '<= ', '>= ', 'eq ', 'lt ', 'gt ', 'le ', 'ge ', '=', '<', '>='];
const DIRS = ['', '', 'src ', 'dst ', 'src and dst ', 'src or dst ', 'dst and src '];

function casing(rng: Rng, kw: string): string {
  const r = rng.next();
  return r < 0.8 ? kw : r < 0.9 ? kw.toUpperCase() : kw[0].toUpperCase() + kw.slice(1);
}

function addrText(rng: Rng): string {
  if (rng.chance(0.65)) {
    const a = rng.pick(V4_POOL);
    return rng.chance(0.1) ? `::ffff:${a}` : a;
  }
  if (rng.chance(0.8)) return rng.pick(V6_POOL);
  return formatAddress(randomAddr(rng, 6));
}

function netText(rng: Rng): string {
  if (rng.chance(0.6)) {
    const a = rng.pick(V4_POOL);
    const len = rng.pick([0, 1, 8, 8, 12, 16, 16, 24, 24, 30, 31, 32, rng.int(0, 32)]);
    const form = rng.next();
    if (form < 0.2) {
      const m = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
      return `${a} ${[24, 16, 8, 0].map((s) => (m >>> s) & 255).join('.')}`;
    }
    if (form < 0.35 && len <= 24 && len % 8 === 0 && len > 0) {
      return `${a.split('.').slice(0, len / 8).join('.')}/${len}`; // nfdump short form
    }
    return `${a}/${len}`;
  }
  return `${rng.pick(V6_POOL)}/${rng.pick([0, 1, 16, 32, 48, 64, 96, 112, 127, 128, rng.int(0, 128)])}`;
}

function list(rng: Rng, item: () => string): string {
  const n = rng.int(1, 4);
  const items = Array.from({ length: n }, item);
  return `[${rng.chance(0.5) ? ' ' : ''}${items.join(rng.chance(0.5) ? ', ' : ' ')}${rng.chance(0.5) ? ' ' : ''}]`;
}

function numeric(rng: Rng, kw: string, value: () => string): string {
  if (rng.chance(0.15)) return `${kw} ${casing(rng, 'in')} ${list(rng, value)}`;
  return `${kw} ${rng.pick(OPS)}${value()}`;
}

function randomTerm(rng: Rng): string {
  const k = rng.int(0, 21);
  const dir = (): string => rng.pick(DIRS).split(' ').map((w) => (w ? casing(rng, w) : w)).join(' ');
  switch (k) {
    case 0:
    case 1:
      return `${dir()}${casing(rng, rng.pick(['ip', 'host']))} ${rng.chance(0.15) ? `in ${list(rng, () => addrText(rng))}` : addrText(rng)}`;
    case 2:
    case 3:
      return `${dir()}${casing(rng, 'net')} ${netText(rng)}`;
    case 4:
    case 5:
      return numeric(rng, `${dir()}${casing(rng, 'port')}`, () => String(rng.chance(0.85) ? rng.pick(PORTS) : rng.int(0, 65535)));
    case 6:
      return numeric(rng, `${dir()}${casing(rng, 'as')}`, () => String(rng.chance(0.85) ? rng.pick(ASES) : rng.int(0, 4294967295)));
    case 7:
      return numeric(rng, `${dir()}${casing(rng, 'mask')}`, () => String(rng.int(0, 128)));
    case 8:
      return `${dir()}${casing(rng, 'mac')} ${rng.pick(['00:00:00:00:00:00', '02:42:ac:11:00:02', 'FF:FF:FF:FF:FF:FF', '00-11-22-33-44-55'])}`;
    case 9:
      return numeric(rng, casing(rng, rng.pick(['in if', 'out if', 'if'])), () => String(rng.pick(IFS)));
    case 10:
      return numeric(rng, casing(rng, 'proto'), () => rng.pick(['tcp', 'udp', 'icmp', 'icmp6', 'gre', 'esp', 'TCP', '6', '17', '132', '0', '255']));
    case 11:
      return numeric(rng, casing(rng, 'tos'), () => String(rng.pick(TOS)));
    case 12:
      return numeric(rng, casing(rng, 'vlan'), () => String(rng.pick(VLANS)));
    case 13: {
      const letters = 'UAPRSFEC';
      let f = '';
      for (let i = rng.int(1, 3); i > 0; i--) f += letters[rng.int(0, letters.length - 1)];
      return `${casing(rng, 'flags')} ${rng.chance(0.1) ? 'X' : rng.chance(0.2) ? f.toLowerCase() : f}`;
    }
    case 14:
    case 15: {
      const kw = rng.pick(['bytes', 'packets']);
      const v = (): string => {
        const r = rng.next();
        if (r < 0.3) return `${rng.int(1, 1000)}${rng.pick(['k', 'm', 'g', 'K', 'M', 'G'])}`;
        return String(rng.pick(kw === 'bytes' ? BYTES : PACKETS));
      };
      return numeric(rng, casing(rng, kw), v);
    }
    case 16:
      return casing(rng, rng.pick(['inet', 'inet6', 'ipv4', 'ipv6']));
    case 17:
      return casing(rng, 'any');
    case 18:
      return rng.chance(0.5) ? `${casing(rng, 'next')} ${casing(rng, 'ip')} ${addrText(rng)}` : `${casing(rng, 'next')} net ${netText(rng)}`;
    case 19: {
      const e = rng.pick([...EXPORTERS, '192.0.2.9']);
      const r = rng.next();
      if (r < 0.3) return `${casing(rng, 'exporter')} ${e}`;
      if (r < 0.5) return `router ip ${e}`;
      if (r < 0.7) return `exporter ip in [ ${e} 192.0.2.2 ]`;
      return `exporter net ${rng.pick(['192.0.2.0/24', '198.51.100.0/25', '2001:db8:e::/48', '0.0.0.0/0'])}`;
    }
    default: {
      const ref = rng.pick(Object.keys(TEST_REFERENCES)).split(':');
      return `${casing(rng, ref[0])} ${ref[1]}`;
    }
  }
}

/** A random valid filter (depth-bounded), in varied spellings: keyword case, && || !, optional spaces. */
export function randomFilter(rng: Rng, depth = 0): string {
  if (depth >= 4 || rng.chance(depth === 0 ? 0.2 : 0.45)) return randomTerm(rng);
  const r = rng.next();
  const a = (): string => randomFilter(rng, depth + 1);
  if (r < 0.3) return `${a()} ${rng.chance(0.7) ? casing(rng, 'and') : '&&'} ${a()}`;
  if (r < 0.6) return `${a()} ${rng.chance(0.7) ? casing(rng, 'or') : '||'} ${a()}`;
  if (r < 0.75) return `${rng.chance(0.6) ? `${casing(rng, 'not')} ` : '!'}${a()}`;
  return rng.chance(0.5) ? `(${a()})` : `( ${a()} )`;
}

const HOSTILE_SNIPPETS = [
  "'", '"', '`', '\\', "\\'", "';", "'; DROP TABLE flowmesh.flows; --", '--', '/*', '*/', ';', '#', '$', '%', '{', '}', '{x:String}',
  "') OR 1=1 --", 'unhex(', "' OR '1'='1", '\u0000', '\n', '\t', '\u00a0', '\u2028', '\u202e', '😀', 'é', 'ß', 'İ', '８０', '١٢',
  '99999999999999999999999', '-1', '0x50', '1e3', '1.5', 'NaN', 'Infinity', '9007199254740993', '18446744073709551616',
  '::ffff:', '1.2.3.4%eth0', '10.0.0.0/', '/8', '::/129', '1.2.3.4/33', '255.255.255.255', 'in', '[', ']', ',', '(', ')', '!', '&&', '||',
  '=', '==', '<', '>=', 'and', 'or', 'not', 'src', 'dst', 'port', 'ip', 'net', 'channel', 'profile', 'channel web', 'k', 'g', 'X',
];

/** A random string: hostile snippets, keywords and noise characters glued together. */
export function randomSoup(rng: Rng): string {
  let s = '';
  for (let n = rng.int(0, 12); n > 0; n--) {
    const r = rng.next();
    if (r < 0.5) s += rng.pick(HOSTILE_SNIPPETS);
    else if (r < 0.8) s += String.fromCharCode(rng.int(32, 126));
    else s += String.fromCodePoint(rng.int(0, 0x2ffff));
    if (rng.chance(0.5)) s += ' ';
  }
  return s;
}

/**
 * A valid filter with random edits: half of them mild (case, spacing, and/or swaps, an added `not`,
 * a number changed), which often keep it valid; the rest destructive (deletions, hostile snippets).
 */
export function mutateFilter(rng: Rng, text: string): string {
  let s = text;
  for (let n = rng.int(1, 3); n > 0; n--) {
    const at = rng.int(0, s.length);
    const r = rng.next();
    if (r < 0.1) s = s.replace(/ and | or /, (m) => (m === ' and ' ? ' or ' : ' and '));
    else if (r < 0.2) s = s.replace(/(^|\(| and | or )/, (m) => `${m}not `);
    else if (r < 0.3) s = s.replace(/ /g, () => rng.pick([' ', '  ', '\t', ' \n ']));
    else if (r < 0.4) s = rng.chance(0.5) ? s.toUpperCase() : s.replace(/\(|\)/g, (m) => (m === '(' ? '( ' : ' )'));
    else if (r < 0.5) s = `(${s}) ${rng.pick(['and', 'or', '&&', '||'])} ${randomTerm(rng)}`;
    else if (r < 0.6) s = s.replace(/\b[0-9]+\b/, () => String(rng.pick([0, 1, 255, 256, 65535, 65536, 4294967295, 4294967296, 129, 33])));
    else if (r < 0.75) s = s.slice(0, at) + s.slice(Math.min(s.length, at + rng.int(1, 6)));
    else if (r < 0.95) s = s.slice(0, at) + rng.pick(HOSTILE_SNIPPETS) + s.slice(at);
    else s = s.slice(0, at) + ` ${randomTerm(rng)} ` + s.slice(at);
  }
  return s;
}
