import { isIP } from 'node:net';

export const GEN_PROTOS = ['v5', 'v9', 'ipfix', 'ipfix-varlen', 'ipfix-ent'] as const;
export type GenProto = (typeof GEN_PROTOS)[number];

export interface GenOptions {
  proto: GenProto;
  host: string;
  port: number;
  /** Data records to send (exact: the last packet may be short). */
  records: number;
  /** Records per second; 0 = as fast as possible. */
  rate: number;
  seed: number;
  /** v5 engine type/id (high/low byte), v9 source id, IPFIX observation domain. Default 1. */
  sourceId?: number;
  /** Re-send templates after this many data packets (v9/IPFIX). Default 100. */
  templateEvery?: number;
  /** Export time of the first packet, epoch ms; makes every byte reproducible. Default: now. */
  startTimeMs?: number;
  /** Records per data packet. Default 30 (v5, its maximum) or 25 (v9/IPFIX). */
  perPacket?: number;
  /** Distinct pre-built data packets replayed in a loop. Default 256. */
  distinct?: number;
  /** Share of IPv6 records in v9/IPFIX. Default 0.2. */
  v6Share?: number;
  /** Pause after the first template packet so a collector can learn it. Default 0. */
  templateWaitMs?: number;
}

export interface GenSummary {
  proto: GenProto;
  target: string;
  /** Datagrams put on the wire, template-only packets included. */
  packets: number;
  template_packets: number;
  /** Data records sent. */
  records: number;
  /** Sum of the octet counter fields of the records sent. */
  bytes: number;
  /** Sum of the packet counter fields of the records sent. */
  packets_field: number;
  /** Sum of UDP payload sizes. */
  datagram_bytes: number;
  /** Sends that failed (not counted anywhere else). */
  send_errors: number;
  seconds: number;
  /** Achieved records/s. */
  rate: number;
  seed: number;
  first_flow_start?: string;
  last_flow_end?: string;
}

/** An option that failed validation; `option` is the GenOptions key. */
export class GenOptionError extends Error {
  constructor(readonly option: keyof GenOptions, message: string) {
    super(`${option}: ${message}`);
    this.name = 'GenOptionError';
  }
}

export interface LoopbackTarget {
  address: string;
  family: 4 | 6;
}

/** Only loopback targets: 127.0.0.0/8, ::1 (and ::ffff:127.x.y.z), localhost. */
export function resolveLoopback(host: string): LoopbackTarget {
  const h = host.trim().replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (h === 'localhost' || h === 'localhost.') return { address: '127.0.0.1', family: 4 };
  const v = isIP(h);
  if (v === 4 && h.startsWith('127.')) return { address: h, family: 4 };
  if (v === 6) {
    // The WHATWG URL parser canonicalises IPv6 (::1, 0:0:0:0:0:0:0:1, ::ffff:7f00:1 ...).
    const canon = new URL(`http://[${h}]/`).hostname;
    if (canon === '[::1]') return { address: '::1', family: 6 };
    const mapped = /^\[::ffff:7f([0-9a-f]{2}):([0-9a-f]{1,4})\]$/.exec(canon);
    if (mapped) {
      const lo = parseInt(mapped[2], 16);
      return { address: `127.${parseInt(mapped[1], 16)}.${lo >> 8}.${lo & 0xff}`, family: 4 };
    }
  }
  throw new GenOptionError('host', `refusing non-loopback target "${host}" (only 127.0.0.0/8, ::1 and localhost are allowed)`);
}

/** Header clocks must stay above the simulated exporter uptime. */
const UPTIME_FLOOR_MS = 86_400_000;

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);

/** Throws GenOptionError naming the first bad option. */
export function validateGenOptions(o: GenOptions): void {
  if (!GEN_PROTOS.includes(o.proto)) throw new GenOptionError('proto', `must be one of ${GEN_PROTOS.join(', ')} (got "${String(o.proto)}")`);
  if (typeof o.host !== 'string' || !o.host) throw new GenOptionError('host', 'is required');
  resolveLoopback(o.host);
  if (!isInt(o.port) || o.port < 1 || o.port > 65535) throw new GenOptionError('port', `must be an integer 1..65535 (got ${o.port})`);
  if (!isInt(o.records) || o.records < 0) throw new GenOptionError('records', `must be a non-negative integer (got ${o.records})`);
  if (typeof o.rate !== 'number' || !Number.isFinite(o.rate) || o.rate < 0) throw new GenOptionError('rate', `must be a number ≥ 0 (got ${o.rate})`);
  if (!isInt(o.seed) || o.seed < 0) throw new GenOptionError('seed', `must be a non-negative integer (got ${o.seed})`);
  if (o.sourceId !== undefined && (!isInt(o.sourceId) || o.sourceId < 0 || o.sourceId > 0xffffffff)) {
    throw new GenOptionError('sourceId', `must be an integer 0..4294967295 (got ${o.sourceId})`);
  }
  if (o.proto === 'v5' && o.sourceId !== undefined && o.sourceId > 0xffff) {
    throw new GenOptionError('sourceId', `v5 carries only engine type/id: must be ≤ 65535 (got ${o.sourceId})`);
  }
  if (o.templateEvery !== undefined && (!isInt(o.templateEvery) || o.templateEvery < 1)) {
    throw new GenOptionError('templateEvery', `must be a positive integer (got ${o.templateEvery})`);
  }
  if (o.startTimeMs !== undefined && (!isInt(o.startTimeMs) || o.startTimeMs < UPTIME_FLOOR_MS || o.startTimeMs >= 0x100000000 * 1000)) {
    throw new GenOptionError('startTimeMs', `must be an epoch-ms integer after 1970-01-02 and before 2106 (got ${o.startTimeMs})`);
  }
  const maxPer = o.proto === 'v5' ? 30 : 400;
  if (o.perPacket !== undefined && (!isInt(o.perPacket) || o.perPacket < 1 || o.perPacket > maxPer)) {
    throw new GenOptionError('perPacket', `must be an integer 1..${maxPer} for ${o.proto} (got ${o.perPacket})`);
  }
  if (o.distinct !== undefined && (!isInt(o.distinct) || o.distinct < 1 || o.distinct > 65536)) {
    throw new GenOptionError('distinct', `must be an integer 1..65536 (got ${o.distinct})`);
  }
  if (o.v6Share !== undefined && (typeof o.v6Share !== 'number' || !(o.v6Share >= 0 && o.v6Share <= 1))) {
    throw new GenOptionError('v6Share', `must be a number 0..1 (got ${o.v6Share})`);
  }
  if (o.templateWaitMs !== undefined && (typeof o.templateWaitMs !== 'number' || !(o.templateWaitMs >= 0 && o.templateWaitMs <= 60_000))) {
    throw new GenOptionError('templateWaitMs', `must be 0..60000 ms (got ${o.templateWaitMs})`);
  }
}

