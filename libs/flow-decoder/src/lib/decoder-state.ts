import { parseIpToBytes16 } from './addr';
import type { CompiledTemplate } from './templates/template-compiler';
import type { FlowBatch } from './flow-batch';
import type { DecodeErrorReason } from './decode-error';
import type { FlowProtocol } from './decoder-types';

export const PROTO_UNKNOWN = 0;
export const PROTO_V5 = 1;
export const PROTO_V9 = 2;
export const PROTO_IPFIX = 3;
export const PROTO_SFLOW = 4;
export const PROTOCOL_NAMES: readonly FlowProtocol[] = ['unknown', 'netflow_v5', 'netflow_v9', 'ipfix', 'sflow_v5'];

/** Address columns as 32-bit words (4 stores per address instead of 16); little-endian hosts only. */
export const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export interface AddressWords {
  exporter: Uint32Array;
  src: Uint32Array;
  dst: Uint32Array;
  nextHop: Uint32Array;
}

const wordViews = new WeakMap<FlowBatch, AddressWords>();

function words(a: Uint8Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.byteLength >>> 2);
}

/** Word views of a batch's address columns, or null when the host or the batch layout does not allow them. */
export function addressWords(out: FlowBatch): AddressWords | null {
  if (!LITTLE_ENDIAN) return null;
  let w = wordViews.get(out);
  if (w === undefined) {
    const cols = [out.exporter_addr, out.src_addr, out.dst_addr, out.next_hop];
    if (cols.some((a) => a.byteOffset % 4 !== 0 || a.byteLength % 4 !== 0)) return null;
    w = { exporter: words(out.exporter_addr), src: words(out.src_addr), dst: words(out.dst_addr), nextHop: words(out.next_hop) };
    wordViews.set(out, w);
  }
  return w;
}

export class SequenceState {
  /** Next expected sequence number, -1 when unknown. */
  expected = -1;
  lastUptime = -1;
}

/** A data set held until its template arrives. */
export interface PendingSet {
  dom: DomainState;
  templateId: number;
  data: Uint8Array;
  exportMs: number;
  sysUptime: number;
  timeReceived: number;
  done: boolean;
}

/** Everything known about one (exporter, protocol, observation domain). */
export class DomainState {
  readonly templates = new Map<number, CompiledTemplate>();
  /** sampler id -> sampling rate, from options data. */
  samplers: Map<number, number> | null = null;
  defaultRate = 0;
  /** Rate for records that name no (known) sampler. */
  fallbackRate = 1;
  systemInitMs = 0;

  packets = 0;
  records = 0;
  readonly errors: Record<string, number> = {};
  sequenceLost = 0;
  sequenceOutOfOrder = 0;
  sequenceResets = 0;
  readonly seq = new SequenceState();
  /** NetFlow v5 keeps one sequence per (engine type, engine id). */
  seqByEngine: Map<number, SequenceState> | null = null;

  pending: Map<number, PendingSet[]> | null = null;
  pendingCount = 0;

  constructor(
    readonly exporter: ExporterState,
    readonly protocol: number,
    readonly domain: number,
    /** The stand-in returned once the exporter has maxDomainsPerExporter domains: packets for it are dropped. */
    readonly overflow = false,
  ) {}

  setSampler(samplerId: number, rate: number): void {
    if (samplerId < 0) {
      this.defaultRate = rate;
    } else {
      if (this.samplers === null) this.samplers = new Map();
      this.samplers.set(samplerId, rate);
    }
    this.updateFallback();
  }

  updateFallback(): void {
    let rate = this.defaultRate;
    if (rate <= 0 && this.samplers !== null && this.samplers.size === 1) {
      for (const r of this.samplers.values()) rate = r;
    }
    this.fallbackRate = rate >= 1 ? rate : 1;
  }
}

export class ExporterState {
  readonly addr = new Uint8Array(16);
  /** addr as 4 native-endian words. */
  readonly addrWords = new Uint32Array(this.addr.buffer);
  readonly addrValid: boolean;
  readonly domains: Map<number, DomainState>[] = [new Map(), new Map(), new Map(), new Map(), new Map()];
  templateCount = 0;
  templateBytes = 0;
  pendingCount = 0;
  pendingBytes = 0;
  lastSweepMs = -Infinity;
  private domainCount = 0;
  private readonly overflows: (DomainState | undefined)[] = [];

  constructor(
    readonly key: string,
    readonly maxDomains = Infinity,
  ) {
    this.addrValid = parseIpToBytes16(key, this.addr, 0);
  }

  /**
   * The state of (protocol, domain). Once the exporter has `maxDomains` domains, a new one gets the
   * protocol's overflow stand-in (domain 0xffffffff, `overflow` true) instead: garbage headers must
   * not grow memory without bound.
   */
  domain(protocol: number, domain: number): DomainState {
    const m = this.domains[protocol];
    let d = m.get(domain);
    if (d === undefined) {
      if (this.domainCount >= this.maxDomains) {
        d = this.overflows[protocol];
        if (d === undefined) d = this.overflows[protocol] = new DomainState(this, protocol, 0xffffffff, true);
        return d;
      }
      d = new DomainState(this, protocol, domain);
      m.set(domain, d);
      this.domainCount++;
    }
    return d;
  }

  /** Every domain state, overflow stand-ins included. */
  *allDomains(): Generator<DomainState> {
    for (const m of this.domains) yield* m.values();
    for (const d of this.overflows) if (d !== undefined) yield d;
  }
}

/**
 * Per-packet decoding context, reused across packets (no allocation per packet). Also holds the
 * per-record scratch values the record decoder fills before the row is finalised.
 */
export class PacketContext {
  out!: FlowBatch;
  words: AddressWords | null = null;
  onFull: ((b: FlowBatch) => void) | undefined = undefined;
  exporter!: ExporterState;
  dom!: DomainState;
  flowType = 0;
  timeReceived = 0;
  exportMs = 0;
  /** NetFlow v9 header sysUptime, -1 for IPFIX. */
  sysUptime = -1;

  records = 0;
  errors = 0;
  firstError: DecodeErrorReason | undefined = undefined;
  /** Set when the batch stayed full: decoding of this packet stops. */
  aborted = false;
  userError: unknown = undefined;
  hasUserError = false;
  /** Where the specialised decoder stopped (-1: a record ran past its set). */
  fastEnd = 0;
  /** Specialise a template once its data arrived in this many packets (0 = never). */
  codegenAfter = 3;
  /** Counts packets: a template's uses count once per packet. */
  packetSerial = 0;
  /** Code generations allowed per second, and the current one-second window (wall clock). */
  codegenPerSecond = 100;
  codegenWindowMs = -Infinity;
  codegenInWindow = 0;

  /** True when one more code generation fits this second's budget (counts it). */
  readonly mayGenerate = (): boolean => this.takeCodegenToken();

  takeCodegenToken(): boolean {
    const now = Date.now();
    if (now - this.codegenWindowMs >= 1000) {
      this.codegenWindowMs = now;
      this.codegenInWindow = 0;
    }
    if (this.codegenInWindow >= this.codegenPerSecond) return false;
    this.codegenInWindow++;
    return true;
  }
  /** False while importing templates: there is no batch to release held data into. */
  releaseHeld = true;

  // per-record scratch
  firstUp = -1;
  lastUp = -1;
  startMs = -1;
  endMs = -1;
  initMs = -1;
  samplerId = -1;
  rate = 0;
  pktInterval = 0;
  pktSpace = 0;
  ipv = 0;
  ipvExplicit = 0;

  reset(out: FlowBatch, onFull: ((b: FlowBatch) => void) | undefined, exporter: ExporterState, timeReceived: number): void {
    this.out = out;
    this.packetSerial++;
    this.words = addressWords(out);
    this.onFull = onFull;
    this.exporter = exporter;
    this.timeReceived = timeReceived;
    this.exportMs = 0;
    this.sysUptime = -1;
    this.records = 0;
    this.errors = 0;
    this.firstError = undefined;
    this.aborted = false;
    this.userError = undefined;
    this.hasUserError = false;
  }

  fail(reason: DecodeErrorReason): void {
    this.failOn(this.dom, reason);
  }

  failOn(dom: DomainState, reason: DecodeErrorReason): void {
    dom.errors[reason] = (dom.errors[reason] ?? 0) + 1;
    this.errors++;
    if (this.firstError === undefined) this.firstError = reason;
  }

  /** Appends a row, flushing through onFull when the batch is full. -1 aborts the packet. */
  nextRow(): number {
    const out = this.out;
    let row = out.next();
    if (row >= 0) return row;
    if (this.aborted) return -1;
    if (this.onFull !== undefined) {
      try {
        this.onFull(out);
      } catch (e) {
        this.userError = e;
        this.hasUserError = true;
        this.aborted = true;
        return -1;
      }
      row = out.next();
      if (row >= 0) return row;
    }
    this.fail('batch_full');
    this.aborted = true;
    return -1;
  }

  /** Writes the per-packet columns of a fresh row. */
  writeCommon(row: number): void {
    const out = this.out;
    out.time_received[row] = this.timeReceived;
    const w = this.words;
    if (w !== null) {
      const aw = this.exporter.addrWords;
      const ew = w.exporter;
      const o = row * 4;
      ew[o] = aw[0];
      ew[o + 1] = aw[1];
      ew[o + 2] = aw[2];
      ew[o + 3] = aw[3];
    } else {
      const a = this.exporter.addr;
      const ea = out.exporter_addr;
      const o = row * 16;
      for (let i = 0; i < 16; i++) ea[o + i] = a[i];
    }
    out.observation_domain[row] = this.dom.domain;
    out.flow_type[row] = this.flowType;
  }
}

/** RFC 1982-style comparison of 32-bit sequence numbers; `units` = what this packet advances (-1 unknown). */
export function checkSequence(
  dom: DomainState,
  st: SequenceState,
  seq: number,
  units: number,
  resetThreshold: number,
  uptime: number,
): void {
  if (st.expected >= 0) {
    const d = (seq - st.expected) | 0;
    const uptimeBack = uptime >= 0 && st.lastUptime >= 0 && ((uptime - st.lastUptime) | 0) < -60_000;
    if (uptimeBack || d < -resetThreshold) {
      dom.sequenceResets++;
    } else if (d > 0) {
      dom.sequenceLost += d;
    } else if (d < 0) {
      // a late packet: it was counted lost when its successor arrived
      dom.sequenceOutOfOrder++;
      if (units > 0) dom.sequenceLost = Math.max(0, dom.sequenceLost - units);
      return;
    }
  }
  st.expected = units >= 0 ? (seq + units) >>> 0 : -1;
  if (uptime >= 0) st.lastUptime = uptime;
}
