import {
  encodeIpfixData, encodeIpfixTemplate, encodeV5, encodeV9Data, encodeV9Template, ipfixLayout,
  stampHeader, UPTIME_AT_BASE_MS,
} from './encoders';
import { FlowMix, type SynthFlow } from './flow-mix';
import { type GenOptions, type GenSummary, resolveLoopback, validateGenOptions } from './gen-options';
import { Prng } from './prng';

/** A pre-built datagram and the totals of the records it carries. */
export interface PoolPacket {
  readonly buf: Buffer;
  readonly records: number;
  readonly bytes: number;
  readonly packets: number;
  /** Epoch ms; Infinity / -Infinity for template-only packets. */
  readonly firstStartMs: number;
  readonly lastEndMs: number;
}

type HeaderKind = 'v5' | 'v9' | 'ipfix';

/**
 * Deterministic synthetic exporter: draws a pool of distinct export packets once
 * from a seeded PRNG, then replays it, patching only header clock and sequence
 * fields. Same options (with `startTimeMs`) → byte-identical datagrams.
 */
export class FlowGenerator {
  readonly options: Readonly<GenOptions>;
  readonly perPacket: number;
  /** Data packets a full run sends (the last may carry fewer than `perPacket` records). */
  readonly dataPackets: number;
  /** Export time of the first packet, epoch ms. */
  readonly baseTimeMs: number;
  /** Epoch ms of the simulated exporter's sysUptime 0 (whole second). */
  readonly bootMs: number;
  readonly templateEvery: number;
  readonly target: string;
  readonly kind: HeaderKind;
  readonly template: PoolPacket | undefined;
  private readonly pool: PoolPacket[] = [];
  private readonly tail: PoolPacket | undefined;

  constructor(opts: GenOptions) {
    validateGenOptions(opts);
    this.options = { ...opts };
    const { proto, records } = opts;
    const t = resolveLoopback(opts.host);
    this.target = t.family === 6 ? `[${t.address}]:${opts.port}` : `${t.address}:${opts.port}`;
    this.kind = proto === 'v5' ? 'v5' : proto === 'v9' ? 'v9' : 'ipfix';
    this.perPacket = opts.perPacket ?? (proto === 'v5' ? 30 : 25);
    this.templateEvery = opts.templateEvery ?? 100;
    this.baseTimeMs = opts.startTimeMs ?? Date.now();
    this.bootMs = Math.floor(this.baseTimeMs / 1000) * 1000 - UPTIME_AT_BASE_MS;
    const sourceId = opts.sourceId ?? 1;
    const v6Share = proto === 'v5' ? 0 : (opts.v6Share ?? 0.2);

    const K = this.perPacket;
    const full = Math.floor(records / K);
    const rest = records % K;
    this.dataPackets = full + (rest > 0 ? 1 : 0);

    const rnd = new Prng(opts.seed);
    const mix = new FlowMix(rnd);
    const layout = this.kind === 'ipfix' ? ipfixLayout(proto as 'ipfix' | 'ipfix-varlen' | 'ipfix-ent') : undefined;
    const build = (n: number): PoolPacket => {
      const flows4: SynthFlow[] = [];
      const flows6: SynthFlow[] = [];
      for (let i = 0; i < n; i++) {
        const v6 = v6Share > 0 && rnd.float() < v6Share;
        (v6 ? flows6 : flows4).push(mix.flow(v6, this.baseTimeMs));
      }
      const buf =
        this.kind === 'v5' ? encodeV5(flows4, this.bootMs, sourceId)
        : this.kind === 'v9' ? encodeV9Data(flows4, flows6, this.bootMs, sourceId)
        : encodeIpfixData(layout!, flows4, flows6, sourceId);
      let bytes = 0;
      let packets = 0;
      let firstStartMs = Infinity;
      let lastEndMs = -Infinity;
      for (const f of flows4.concat(flows6)) {
        bytes += f.bytes;
        packets += f.packets;
        if (f.startMs < firstStartMs) firstStartMs = f.startMs;
        if (f.endMs > lastEndMs) lastEndMs = f.endMs;
      }
      return { buf, records: n, bytes, packets, firstStartMs, lastEndMs };
    };
    const distinct = Math.min(opts.distinct ?? 256, full);
    for (let i = 0; i < distinct; i++) this.pool.push(build(K));
    this.tail = rest > 0 ? build(rest) : undefined;

    const tbuf = this.kind === 'v9' ? encodeV9Template(sourceId) : layout ? encodeIpfixTemplate(layout, sourceId) : undefined;
    this.template = tbuf && { buf: tbuf, records: 0, bytes: 0, packets: 0, firstStartMs: Infinity, lastEndMs: -Infinity };
  }

  /** Size of the replay pool (data packets that differ in content). */
  get distinctPackets(): number {
    return this.pool.length;
  }

  /** A fresh send-order walk over the datagrams (stamps the shared pool buffers in place). */
  cursor(): ExportCursor {
    return new ExportCursor(this, this.pool, this.tail);
  }

  /**
   * The exact datagrams in send order (copies), with header clocks on the
   * schedule `baseTimeMs + recordsBefore / rate` — what `sendFlows` puts on the
   * wire when `startTimeMs` is given.
   */
  *packets(): Iterable<Buffer> {
    const c = this.cursor();
    while (!c.done) yield Buffer.from(c.next(this.scheduledTimeMs(c.recordsSent)).buf);
  }

  /** Header clock for the packet sent after `recordsBefore` records. */
  scheduledTimeMs(recordsBefore: number): number {
    const rate = this.options.rate;
    return rate > 0 ? this.baseTimeMs + Math.floor((recordsBefore / rate) * 1000) : this.baseTimeMs;
  }

  /** What a complete run sends (seconds 0, rate = the requested rate). */
  plannedSummary(): GenSummary {
    const s = new SummaryBuilder(this);
    const c = this.cursor();
    while (!c.done) s.add(c.next(this.baseTimeMs));
    return s.finish(0, this.options.rate);
  }
}

/** Send-order walk: templates first and every `templateEvery` data packets, protocol sequence numbers. */
export class ExportCursor {
  /** Datagrams handed out so far (templates included). */
  packetsSent = 0;
  /** Data records handed out so far. */
  recordsSent = 0;
  dataSent = 0;
  private templateSentAt = -1;

  constructor(
    private readonly gen: FlowGenerator,
    private readonly pool: PoolPacket[],
    private readonly tail: PoolPacket | undefined,
  ) {}

  get done(): boolean {
    return this.dataSent >= this.gen.dataPackets;
  }

  /** Whether the next datagram is a template-only packet. */
  get templateNext(): boolean {
    const g = this.gen;
    return g.template !== undefined && this.dataSent % g.templateEvery === 0 && this.templateSentAt !== this.dataSent;
  }

  /** Stamps and returns the next datagram. Its buffer is shared: send (or copy) it before the pool wraps. */
  next(nowMs: number): PoolPacket {
    const g = this.gen;
    let p: PoolPacket;
    if (this.templateNext) {
      p = g.template as PoolPacket;
      this.templateSentAt = this.dataSent;
    } else {
      const d = this.dataSent++;
      p = this.tail && d === g.dataPackets - 1 ? this.tail : this.pool[d % this.pool.length];
    }
    // v9 counts export packets (RFC 3954 §5.1); v5 and IPFIX count data records (RFC 7011 §3.1).
    stampHeader(g.kind, p.buf, g.kind === 'v9' ? this.packetsSent : this.recordsSent, nowMs, g.bootMs);
    this.packetsSent++;
    this.recordsSent += p.records;
    return p;
  }
}

/** Accumulates a GenSummary from the datagrams that actually went out. */
export class SummaryBuilder {
  packets = 0;
  templatePackets = 0;
  records = 0;
  bytes = 0;
  packetsField = 0;
  datagramBytes = 0;
  sendErrors = 0;
  private first = Infinity;
  private last = -Infinity;

  constructor(private readonly gen: FlowGenerator) {}

  add(p: PoolPacket): void {
    this.packets++;
    if (p.records === 0) this.templatePackets++;
    this.records += p.records;
    this.bytes += p.bytes;
    this.packetsField += p.packets;
    this.datagramBytes += p.buf.length;
    if (p.firstStartMs < this.first) this.first = p.firstStartMs;
    if (p.lastEndMs > this.last) this.last = p.lastEndMs;
  }

  finish(seconds: number, rate: number): GenSummary {
    const o = this.gen.options;
    const s: GenSummary = {
      proto: o.proto,
      target: this.gen.target,
      packets: this.packets,
      template_packets: this.templatePackets,
      records: this.records,
      bytes: this.bytes,
      packets_field: this.packetsField,
      datagram_bytes: this.datagramBytes,
      send_errors: this.sendErrors,
      seconds: Math.round(seconds * 1e6) / 1e6,
      rate: Math.round(rate),
      seed: o.seed,
    };
    if (this.first !== Infinity) s.first_flow_start = new Date(this.first).toISOString();
    if (this.last !== -Infinity) s.last_flow_end = new Date(this.last).toISOString();
    return s;
  }
}
