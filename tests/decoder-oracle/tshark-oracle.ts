/**
 * Expected canonical records from tshark's dissection of an exporter capture (the oracle), and our
 * decoder's records for the same capture, in the same order: per frame, per set, per record.
 *
 * How tshark fields become canonical fields (the decoder's documented semantics):
 * - NetFlow v5/v9 times: export time - (sysUptime - FIRST/LAST_SWITCHED) (signed 32-bit difference);
 *   v5 export time includes unix_nsecs, v9 has seconds only. IPFIX relative times (IE 22/21) are
 *   added to systemInitTimeMilliseconds learnt from options data; absolute times are taken as is.
 * - sampling_rate: v5 header interval (<= 1 -> 1); v9/IPFIX: the record's own sampling fields, else the
 *   rate learnt from options data for the (exporter, domain) so far (samplingInterval, or
 *   round((packetInterval + packetSpace) / packetInterval)), else 1.
 * - ip_version: IE 60 when 4 or 6, else 6 when an IPv6 address is present, else 4 when an IPv4 one is.
 * - direction: IE 61 0 -> 1 (ingress), 1 -> 2 (egress); vlan: low 12 bits.
 * - sFlow: one record per flow sample; bytes = raw header frame length, packets 1, flow_start =
 *   flow_end = time_received, observation_domain = sub-agent id, in_if/out_if only for format 0 and
 *   not 0x3fffffff; vlan from the extended switch record when present, else the first 802.1Q tag;
 *   ICMP/ICMPv6 type * 256 + code in dst_port; tcp_flags the low 8 bits.
 * - v9/IPFIX records without IE 11: dst_port = ICMP type * 256 + code (IE 32, 139, 176-179).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import {
  bytes16ToIpText,
  FlowBatch,
  FlowDecoder,
  newPcapReadStats,
  readCaptureUdp,
  type FlowProtocol,
} from '@flowmesh/flow-decoder';

export type CanonicalRecord = Record<string, number | string>;

export const CANONICAL_FIELDS = [
  'time_received',
  'flow_start',
  'flow_end',
  'exporter_addr',
  'observation_domain',
  'flow_type',
  'sampling_rate',
  'ip_version',
  'src_addr',
  'dst_addr',
  'src_port',
  'dst_port',
  'protocol',
  'tcp_flags',
  'tos',
  'bytes',
  'packets',
  'in_if',
  'out_if',
  'src_as',
  'dst_as',
  'next_hop',
  'src_mask',
  'dst_mask',
  'direction',
  'vlan',
  'src_mac',
  'dst_mac',
] as const;

const ADDR_FIELDS = new Set(['exporter_addr', 'src_addr', 'dst_addr', 'next_hop']);

/** A zeroed record: what the batch holds for a field nobody wrote. */
function blank(): CanonicalRecord {
  const r: CanonicalRecord = {};
  for (const f of CANONICAL_FIELDS) r[f] = ADDR_FIELDS.has(f) ? '::' : 0;
  return r;
}

export function batchRow(out: FlowBatch, i: number): CanonicalRecord {
  const r: CanonicalRecord = {};
  for (const f of CANONICAL_FIELDS) {
    if (ADDR_FIELDS.has(f)) r[f] = bytes16ToIpText(out[f as 'src_addr'], i * 16);
    else r[f] = (out[f as 'bytes'] as ArrayLike<number>)[i];
  }
  return r;
}

/** Our decoder over the capture: records grouped per frame (UDP datagram). */
export function decodeCapture(bytes: Uint8Array, proto?: FlowProtocol): { frames: CanonicalRecord[][]; extras: unknown[][] } {
  const dec = new FlowDecoder();
  const out = new FlowBatch(1024);
  const frames: CanonicalRecord[][] = [];
  const extras: unknown[][] = [];
  let cur: CanonicalRecord[] = [];
  let curExtra: unknown[] = [];
  const flush = (b: FlowBatch): void => {
    for (let i = 0; i < b.length; i++) {
      cur.push(batchRow(b, i));
      curExtra.push(b.extra[i]);
    }
    b.clear();
  };
  const stats = newPcapReadStats();
  for (const d of readCaptureUdp(bytes, stats)) {
    cur = [];
    curExtra = [];
    dec.decode(d.payload, d.srcAddr, d.tsMs, out, flush, proto);
    flush(out);
    frames.push(cur);
    extras.push(curExtra);
  }
  if (stats.error !== undefined) throw new Error(`capture unreadable: ${stats.error}`);
  return { frames, extras };
}

type Json = Record<string, unknown>;

export function tsharkJson(file: string, port: number, dissector: 'cflow' | 'sflow'): Json[] {
  const out = execFileSync('tshark', ['-r', file, '-d', `udp.port==${port},${dissector}`, '-T', 'json', '--no-duplicate-keys'], {
    maxBuffer: 256 << 20,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return JSON.parse(out.toString('utf8')) as Json[];
}

const first = (v: unknown): unknown => (Array.isArray(v) ? v[0] : v);
const str = (o: Json | undefined, k: string): string | undefined => {
  const v = first(o?.[k]);
  return typeof v === 'string' ? v : undefined;
};
const num = (o: Json | undefined, k: string): number | undefined => {
  const s = str(o, k);
  return s === undefined ? undefined : Number(s);
};
const obj = (o: Json | undefined, k: string): Json | undefined => {
  const v = first(o?.[k]);
  return v !== null && typeof v === 'object' ? (v as Json) : undefined;
};

/** "12.345000000" seconds -> 12345 ms (exact, no float). */
export function secondsTextToMs(s: string): number {
  const [i, f = ''] = s.split('.');
  return Number(i) * 1000 + Math.floor(Number(f.padEnd(9, '0').slice(0, 9)) / 1e6);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** "Jan 15, 2026 12:00:02.156000000 UTC" -> epoch ms (floored). */
export function tsharkDateToMs(s: string): number {
  const m = /^(\w{3}) +(\d+), (\d+) (\d+):(\d+):(\d+)(?:\.(\d+))? UTC$/.exec(s.trim());
  if (!m) throw new Error(`unparsed tshark date: ${s}`);
  const ms = Date.UTC(Number(m[3]), MONTHS.indexOf(m[1]), Number(m[2]), Number(m[4]), Number(m[5]), Number(m[6]));
  return ms + Math.floor(Number((m[7] ?? '').padEnd(9, '0').slice(0, 9)) / 1e6);
}

function frameContext(layers: Json): { timeReceived: number; exporter: string } {
  const fr = obj(layers, 'frame');
  const epoch = str(fr, 'frame.time_epoch');
  if (epoch === undefined) throw new Error('frame without time_epoch');
  const exporter = str(obj(layers, 'ip'), 'ip.src') ?? str(obj(layers, 'ipv6'), 'ipv6.src');
  if (exporter === undefined) throw new Error('frame without IP source');
  return { timeReceived: secondsTextToMs(epoch), exporter };
}

function macToNumber(mac: string | undefined): number {
  if (mac === undefined) return 0;
  return parseInt(mac.replace(/:/g, ''), 16);
}

function normAddr(a: string | undefined): string | undefined {
  if (a === undefined) return undefined;
  // tshark prints addresses in RFC 5952 form already; IPv4-mapped IPv6 is shown dotted by us
  return a;
}

/**
 * A record without IE 11: ICMP type * 256 + code from IE 32 (tshark: icmp_type_code_ipv4), IE 139
 * (tshark splits it into icmp_ipv6_type/code) or IEs 176-179, as the decoder maps them to dst_port.
 */
function icmpTypeCode(f: Json): number {
  const tc = num(f, 'cflow.icmp_type_code_ipv4');
  if (tc !== undefined) return tc & 0xffff;
  const type = num(f, 'cflow.icmp_ipv4_type') ?? num(f, 'cflow.icmp_ipv6_type') ?? 0;
  const code = num(f, 'cflow.icmp_ipv4_code') ?? num(f, 'cflow.icmp_ipv6_code') ?? 0;
  return ((type & 0xff) << 8) | (code & 0xff);
}

interface DomainOracleState {
  optionTemplates: Set<number>;
  rate: number;
  initMs: number;
}

/** Expected records from tshark's NetFlow v5/v9/IPFIX dissection, grouped per frame. */
export function expectedCflow(packets: Json[]): CanonicalRecord[][] {
  const domains = new Map<string, DomainOracleState>();
  const frames: CanonicalRecord[][] = [];
  for (const p of packets) {
    const layers = obj(obj(p, '_source'), 'layers');
    if (layers === undefined) throw new Error('tshark packet without layers');
    const { timeReceived, exporter } = frameContext(layers);
    const c = obj(layers, 'cflow');
    const recs: CanonicalRecord[] = [];
    frames.push(recs);
    if (c === undefined) continue;
    const version = num(c, 'cflow.version');
    const ts = obj(c, 'cflow.timestamp_tree');
    let exportMs: number;
    let uptimeMs = -1;
    let domainId = 0;
    if (version === 5) {
      exportMs = (num(ts, 'cflow.unix_secs') ?? 0) * 1000 + Math.floor((num(ts, 'cflow.unix_nsecs') ?? 0) / 1e6);
      uptimeMs = secondsTextToMs(str(c, 'cflow.sysuptime') ?? '0');
    } else if (version === 9) {
      exportMs = (num(ts, 'cflow.unix_secs') ?? 0) * 1000;
      uptimeMs = secondsTextToMs(str(c, 'cflow.sysuptime') ?? '0');
      domainId = num(c, 'cflow.source_id') ?? 0;
    } else if (version === 10) {
      exportMs = (num(ts, 'cflow.exporttime') ?? 0) * 1000;
      domainId = num(c, 'cflow.od_id') ?? 0;
    } else {
      throw new Error(`unexpected cflow version ${version}`);
    }
    const key = `${exporter}|${version}|${domainId}`;
    let dom = domains.get(key);
    if (dom === undefined) {
      dom = { optionTemplates: new Set(), rate: 0, initMs: 0 };
      domains.set(key, dom);
    }
    const base = (): CanonicalRecord => {
      const r = blank();
      r.time_received = timeReceived;
      r.exporter_addr = exporter;
      r.observation_domain = domainId;
      r.flow_type = version === 5 ? 5 : version === 9 ? 9 : 10;
      return r;
    };
    const toMs = (rel: string | undefined, abs: string | undefined): number => {
      // tshark 4.0 shows a FIRST/LAST_SWITCHED of 0 as the absolute time 1970-01-01: it is uptime 0
      if (abs !== undefined && tsharkDateToMs(abs) === 0 && (uptimeMs >= 0 || dom!.initMs > 0)) rel = '0';
      else if (abs !== undefined) return tsharkDateToMs(abs);
      if (rel === undefined) return -1;
      const up = secondsTextToMs(rel);
      if (uptimeMs >= 0) return exportMs - ((uptimeMs - up) | 0);
      return dom!.initMs > 0 ? dom!.initMs + up : -1;
    };
    const fill = (r: CanonicalRecord, f: Json): void => {
      const src = normAddr(str(f, 'cflow.srcaddr') ?? str(f, 'cflow.srcaddrv6'));
      const dst = normAddr(str(f, 'cflow.dstaddr') ?? str(f, 'cflow.dstaddrv6'));
      const nh = normAddr(str(f, 'cflow.nexthop') ?? str(f, 'cflow.nexthopv6'));
      const v6 = (str(f, 'cflow.srcaddrv6') ?? '::') !== '::' || (str(f, 'cflow.dstaddrv6') ?? '::') !== '::';
      if (src !== undefined && src !== '::') r.src_addr = src;
      if (dst !== undefined && dst !== '::') r.dst_addr = dst;
      if (nh !== undefined && nh !== '::') r.next_hop = nh;
      const ipv = num(f, 'cflow.ip_version');
      r.ip_version = ipv === 4 || ipv === 6 ? ipv : v6 ? 6 : str(f, 'cflow.srcaddr') !== undefined || str(f, 'cflow.dstaddr') !== undefined ? 4 : 0;
      const n = (k: string): number => num(f, k) ?? 0;
      r.src_port = n('cflow.srcport');
      r.dst_port = num(f, 'cflow.dstport') ?? icmpTypeCode(f);
      r.protocol = n('cflow.protocol');
      r.tcp_flags = n('cflow.tcpflags') & 0xff;
      r.tos = n('cflow.tos') & 0xff;
      r.bytes = num(f, 'cflow.octets') ?? num(f, 'cflow.octets64') ?? 0;
      r.packets = num(f, 'cflow.packets') ?? num(f, 'cflow.packets64') ?? 0;
      r.in_if = n('cflow.inputint');
      r.out_if = n('cflow.outputint');
      r.src_as = n('cflow.srcas');
      r.dst_as = n('cflow.dstas');
      r.src_mask = num(f, 'cflow.srcmask') ?? n('cflow.srcmaskv6');
      r.dst_mask = num(f, 'cflow.dstmask') ?? n('cflow.dstmaskv6');
      const dir = num(f, 'cflow.direction');
      r.direction = dir === 0 ? 1 : dir === 1 ? 2 : 0;
      r.vlan = n('cflow.vlanid') & 0xfff;
      r.src_mac = macToNumber(str(f, 'cflow.srcmac'));
      r.dst_mac = macToNumber(str(f, 'cflow.dstmac'));
      const td = obj(f, 'cflow.timedelta_tree') ?? f;
      let s = toMs(str(td, 'cflow.timestart'), str(td, 'cflow.abstimestart'));
      let e = toMs(str(td, 'cflow.timeend'), str(td, 'cflow.abstimeend'));
      if (s < 0) s = e >= 0 ? e : exportMs;
      if (e < 0) e = s;
      r.flow_start = s;
      r.flow_end = e;
      const own = num(f, 'cflow.sampling_interval') ?? 0;
      r.sampling_rate = own > 0 ? own : dom!.rate >= 1 ? dom!.rate : 1;
    };
    if (version === 5) {
      const interval = (num(c, 'cflow.samplerate') ?? 0) & 0x3fff;
      for (const [k, v] of Object.entries(c)) {
        if (!k.startsWith('pdu ')) continue;
        const r = base();
        fill(r, first(v) as Json);
        r.ip_version = 4;
        r.sampling_rate = interval <= 1 ? 1 : interval;
        recs.push(r);
      }
      continue;
    }
    for (const [k, v] of Object.entries(c)) {
      if (!/^(FlowSet|Set) \d+/.test(k)) continue;
      const set = first(v) as Json;
      const setId = num(set, 'cflow.flowset_id') ?? -1;
      if (setId < 256) {
        // template sets: remember which template ids are options templates
        const isOptions = /Options Template/.test(k);
        for (const [tk, tv] of Object.entries(set)) {
          const m = /\(Id = (\d+)\)/.exec(tk);
          if (m && isOptions) dom.optionTemplates.add(Number(m[1]));
          else if (m) dom.optionTemplates.delete(Number(m[1]));
          void tv;
        }
        continue;
      }
      const flows = Object.entries(set).filter(([fk]) => /^Flow \d+$/.test(fk));
      for (const [, fv] of flows) {
        const f = first(fv) as Json;
        if (dom.optionTemplates.has(setId)) {
          const si = num(f, 'cflow.sampling_interval');
          const pi = num(f, 'cflow.sampling_packet_interval');
          const ps = num(f, 'cflow.sampling_packet_space') ?? 0;
          if (si !== undefined && si > 0) dom.rate = si;
          else if (pi !== undefined && pi > 0) dom.rate = Math.round((pi + ps) / pi);
          const init = str(f, 'cflow.sys_init_time');
          if (init !== undefined) dom.initMs = tsharkDateToMs(init);
          continue;
        }
        const r = base();
        fill(r, f);
        recs.push(r);
      }
    }
  }
  return frames;
}

/** Expected records from tshark's sFlow dissection, grouped per frame; also the agent per frame. */
export function expectedSflow(packets: Json[]): { frames: CanonicalRecord[][]; agents: string[] } {
  const frames: CanonicalRecord[][] = [];
  const agents: string[] = [];
  for (const p of packets) {
    const layers = obj(obj(p, '_source'), 'layers');
    if (layers === undefined) throw new Error('tshark packet without layers');
    const { timeReceived, exporter } = frameContext(layers);
    const s = obj(layers, 'sflow');
    const recs: CanonicalRecord[] = [];
    frames.push(recs);
    agents.push(str(s, 'sflow_245.agent') ?? str(s, 'sflow_245.agentv6') ?? '');
    if (s === undefined) continue;
    const sub = num(s, 'sflow_245.sub_agent_id') ?? 0;
    for (const [k, v] of Object.entries(s)) {
      if (!/^(Expanded f|F)low sample/.test(k)) continue;
      const fs = first(v) as Json;
      const r = blank();
      r.time_received = timeReceived;
      r.flow_start = timeReceived;
      r.flow_end = timeReceived;
      r.exporter_addr = exporter;
      r.observation_domain = sub;
      r.flow_type = 65;
      r.packets = 1;
      r.sampling_rate = num(fs, 'sflow.flow_sample.sampling_rate') ?? 0;
      const ifv = (raw: number | undefined): number => {
        if (raw === undefined) return 0;
        return raw >>> 30 === 0 && (raw & 0x3fffffff) !== 0x3fffffff ? raw & 0x3fffffff : 0;
      };
      r.in_if = ifv(num(fs, 'sflow.flow_sample.input_interface'));
      r.out_if = ifv(num(fs, 'sflow.flow_sample.output_interface'));
      let switchVlan: number | undefined;
      const sw = obj(fs, 'Extended switch data');
      if (sw !== undefined) switchVlan = (num(sw, 'sflow_245.vlan.in') ?? 0) & 0xfff;
      const raw = obj(fs, 'Raw packet header');
      if (raw !== undefined) {
        r.bytes = num(raw, 'sflow_245.header.frame_length') ?? 0;
        const h = obj(raw, 'sflow_245.header_tree') ?? {};
        const eth = obj(h, 'eth');
        r.src_mac = macToNumber(str(eth, 'eth.src'));
        r.dst_mac = macToNumber(str(eth, 'eth.dst'));
        const vlan = obj(h, 'vlan');
        if (vlan !== undefined) r.vlan = (num(vlan, 'vlan.id') ?? 0) & 0xfff;
        const ip = obj(h, 'ip');
        const ip6 = obj(h, 'ipv6');
        let fragmented = false;
        if (ip !== undefined) {
          r.ip_version = 4;
          r.src_addr = str(ip, 'ip.src') ?? '::';
          r.dst_addr = str(ip, 'ip.dst') ?? '::';
          r.protocol = num(ip, 'ip.proto') ?? 0;
          r.tos = num(ip, 'ip.dsfield') ?? 0;
          fragmented = (num(ip, 'ip.frag_offset') ?? 0) !== 0;
        } else if (ip6 !== undefined) {
          r.ip_version = 6;
          r.src_addr = str(ip6, 'ipv6.src') ?? '::';
          r.dst_addr = str(ip6, 'ipv6.dst') ?? '::';
          r.tos = (num(ip6, 'ipv6.tclass') ?? 0) & 0xff;
          r.protocol = obj(h, 'tcp') ? 6 : obj(h, 'udp') ? 17 : obj(h, 'icmpv6') ? 58 : (num(ip6, 'ipv6.nxt') ?? 0);
        }
        if (!fragmented) {
          const tcp = obj(h, 'tcp');
          const udp = obj(h, 'udp');
          const icmp = obj(h, 'icmp') ?? obj(h, 'icmpv6');
          if (tcp !== undefined) {
            r.src_port = num(tcp, 'tcp.srcport') ?? 0;
            r.dst_port = num(tcp, 'tcp.dstport') ?? 0;
            r.tcp_flags = (num(tcp, 'tcp.flags') ?? 0) & 0xff;
          } else if (udp !== undefined) {
            r.src_port = num(udp, 'udp.srcport') ?? 0;
            r.dst_port = num(udp, 'udp.dstport') ?? 0;
          } else if (icmp !== undefined) {
            const t = num(icmp, 'icmp.type') ?? num(icmp, 'icmpv6.type') ?? 0;
            const code = num(icmp, 'icmp.code') ?? num(icmp, 'icmpv6.code') ?? 0;
            r.dst_port = t * 256 + code;
          }
        }
      }
      if (switchVlan !== undefined) r.vlan = switchVlan;
      recs.push(r);
    }
  }
  return { frames, agents };
}

export interface Mismatch {
  frame: number;
  record: number;
  field: string;
  ours: unknown;
  tshark: unknown;
}

/** Field-by-field comparison; a record-count difference in a frame is reported as field '#records'. */
export function compareFrames(ours: CanonicalRecord[][], expected: CanonicalRecord[][]): Mismatch[] {
  const mm: Mismatch[] = [];
  if (ours.length !== expected.length) mm.push({ frame: -1, record: -1, field: '#frames', ours: ours.length, tshark: expected.length });
  const n = Math.min(ours.length, expected.length);
  for (let fi = 0; fi < n; fi++) {
    const a = ours[fi];
    const b = expected[fi];
    if (a.length !== b.length) mm.push({ frame: fi, record: -1, field: '#records', ours: a.length, tshark: b.length });
    for (let ri = 0; ri < Math.min(a.length, b.length); ri++) {
      for (const f of CANONICAL_FIELDS) {
        if (a[ri][f] !== b[ri][f]) mm.push({ frame: fi, record: ri, field: f, ours: a[ri][f], tshark: b[ri][f] });
      }
    }
  }
  return mm;
}

export function readCapture(file: string): Uint8Array {
  return new Uint8Array(readFileSync(file));
}

/** An extra field normalised for comparison: a number for values of up to 6 bytes, else hex. */
export interface ExtraValue {
  pen: number;
  id: number;
  value: number | string;
}

/** The decoder's rule for `extra` values: a number for up to 6 bytes (big-endian), else the bytes. */
export function normaliseRaw(bytes: Uint8Array): number | string {
  if (bytes.length <= 6) {
    let v = 0;
    for (const x of bytes) v = v * 256 + x;
    return v;
  }
  return Buffer.from(bytes).toString('hex');
}

/** Our `extra` lists (from decodeCapture) normalised like `normaliseRaw`. */
export function normaliseOurExtras(extras: unknown[][]): ExtraValue[][][] {
  return extras.map((frame) =>
    frame.map((list) =>
      ((list as { pen: number; id: number; value: number | string | Uint8Array }[] | undefined) ?? []).map((e) => ({
        pen: e.pen,
        id: e.id,
        value: e.value instanceof Uint8Array ? normaliseRaw(e.value) : e.value,
      })),
    ),
  );
}

const hexBytes = (s: string): Uint8Array => Uint8Array.from(s.split(':').filter((x) => x !== '').map((x) => parseInt(x, 16)));
const all = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);

/**
 * The extra fields tshark shows for each IPFIX/v9 data record, grouped per frame like `expectedCflow`:
 * applicationName (IE 96, `cflow.appl_name`) and the enterprise fields (`cflow.enterprise_private_entry`,
 * raw bytes in template order), whose (pen, id) come from tshark's own parse of the template.
 * Needs the JSON made with --no-duplicate-keys (repeated keys become arrays).
 */
export function expectedCflowExtras(packets: Json[]): ExtraValue[][][] {
  const templates = new Map<string, { pen: number; id: number }[]>();
  const frames: ExtraValue[][][] = [];
  for (const p of packets) {
    const layers = obj(obj(p, '_source'), 'layers');
    const { exporter } = frameContext(layers ?? {});
    const c = obj(layers, 'cflow');
    const recs: ExtraValue[][] = [];
    frames.push(recs);
    if (c === undefined) continue;
    const version = num(c, 'cflow.version');
    if (version === 5) {
      for (const k of Object.keys(c)) if (k.startsWith('pdu ')) recs.push([]);
      continue;
    }
    const domain = version === 9 ? (num(c, 'cflow.source_id') ?? 0) : (num(c, 'cflow.od_id') ?? 0);
    for (const [k, v] of Object.entries(c)) {
      if (!/^(FlowSet|Set) \d+/.test(k)) continue;
      for (const set of all(v) as Json[]) {
        const setId = num(set, 'cflow.flowset_id') ?? -1;
        if (setId < 256) {
          for (const [tk, tv] of Object.entries(set)) {
            const m = /^Template \(Id = (\d+)/.exec(tk);
            if (m === null) continue;
            const ent: { pen: number; id: number }[] = [];
            for (const [fk, fv] of Object.entries(first(tv) as Json)) {
              if (!fk.startsWith('Field (')) continue;
              const fj = first(fv) as Json;
              if (str(fj, 'cflow.template_ipfix_pen_provided') === '1') {
                ent.push({ pen: num(fj, 'cflow.template_ipfix_field_pen') ?? -1, id: num(fj, 'cflow.template_ipfix_field_type_enterprise') ?? -1 });
              }
            }
            templates.set(`${exporter}|${version}|${domain}|${m[1]}`, ent);
          }
          continue;
        }
        const ent = templates.get(`${exporter}|${version}|${domain}|${setId}`) ?? [];
        for (const [fk, fv] of Object.entries(set)) {
          if (!/^Flow \d+$/.test(fk)) continue;
          const f = first(fv) as Json;
          const list: ExtraValue[] = [];
          const app = str(f, 'cflow.appl_name');
          if (app !== undefined) list.push({ pen: 0, id: 96, value: normaliseRaw(new Uint8Array(Buffer.from(app, 'utf8'))) });
          const raws = all(f['cflow.enterprise_private_entry']);
          raws.forEach((r, i) => {
            const e = ent[i] ?? { pen: -1, id: -1 };
            list.push({ pen: e.pen, id: e.id, value: normaliseRaw(hexBytes(String(r))) });
          });
          recs.push(list);
        }
      }
    }
  }
  return frames;
}

/** Extra-field comparison, per record, as a whole list (order included); same report shape as compareFrames. */
export function compareExtras(ours: ExtraValue[][][], expected: ExtraValue[][][]): Mismatch[] {
  const mm: Mismatch[] = [];
  if (ours.length !== expected.length) mm.push({ frame: -1, record: -1, field: '#frames', ours: ours.length, tshark: expected.length });
  for (let fi = 0; fi < Math.min(ours.length, expected.length); fi++) {
    const a = ours[fi];
    const b = expected[fi];
    if (a.length !== b.length) mm.push({ frame: fi, record: -1, field: '#records', ours: a.length, tshark: b.length });
    for (let ri = 0; ri < Math.min(a.length, b.length); ri++) {
      if (JSON.stringify(a[ri]) !== JSON.stringify(b[ri])) mm.push({ frame: fi, record: ri, field: 'extra', ours: a[ri], tshark: b[ri] });
    }
  }
  return mm;
}
