import type { FlowBatch } from './flow-batch';
import {
  DEFAULT_DECODER_OPTIONS,
  type DecodeResult,
  type DecoderOptions,
  type ExporterStats,
  type FlowProtocol,
  type TemplateDomainState,
  type TemplateState,
} from './decoder-types';
import { PacketContext, PROTO_IPFIX, PROTO_UNKNOWN, PROTO_V9, PROTOCOL_NAMES } from './decoder-state';
import { TemplateCache } from './templates/template-cache';
import { decodeNetflowV5 } from './netflow-v5/netflow-v5.decoder';
import { decodeNetflowV9 } from './netflow-v9/netflow-v9.decoder';
import { decodeIpfix } from './ipfix/ipfix.decoder';
import { decodeSflowPacket } from './sflow/sflow-packet';
import type { SflowInterfaceCounters } from './sflow/sflow-decoder';
import { parseIpfixTemplateSet, parseV9OptionsTemplateSet, parseV9TemplateSet } from './templates/template-sets';

export type { DecodeResult, DecoderOptions, ExporterStats, FlowProtocol, TemplateState } from './decoder-types';

function toHex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += (b[i] < 16 ? '0' : '') + b[i].toString(16);
  return s;
}

function fromHex(s: string): Uint8Array | undefined {
  if (typeof s !== 'string' || s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) return undefined;
  const b = new Uint8Array(s.length / 2);
  for (let i = 0; i < b.length; i++) b[i] = parseInt(s.substr(i * 2, 2), 16);
  return b;
}

/** Guesses the protocol from the first bytes: NetFlow/IPFIX carry a uint16 version, sFlow a uint32 5. */
export function detectProtocol(b: Uint8Array): FlowProtocol {
  if (b.length < 2) return 'unknown';
  const v = (b[0] << 8) | b[1];
  if (v === 5) return 'netflow_v5';
  if (v === 9) return 'netflow_v9';
  if (v === 10) return 'ipfix';
  if (v === 0 && b.length >= 4 && b[2] === 0 && b[3] === 5) return 'sflow_v5';
  return 'unknown';
}

/**
 * The decoder facade: one instance per decode worker. Holds templates, sampling options, held data
 * and per-exporter counters. Never throws on malformed input.
 */
export class FlowDecoder {
  readonly options: Readonly<DecoderOptions>;
  private readonly cache: TemplateCache;
  private readonly ctx = new PacketContext();
  private internalErrorCount = 0;

  /**
   * Decoder defects caught at the facade since construction (each is also counted per exporter as
   * `internal_error`). Expected to stay 0; cheap to poll, unlike exporterStats().
   */
  get internalErrors(): number {
    return this.internalErrorCount;
  }

  constructor(options?: Partial<DecoderOptions>) {
    this.options = Object.freeze({ ...DEFAULT_DECODER_OPTIONS, ...(options ?? {}) });
    this.cache = new TemplateCache(this.options);
    this.ctx.codegenAfter = this.options.codegenAfterSets;
    this.ctx.codegenPerSecond = this.options.codegenMaxPerSecond;
  }

  /** sFlow counter samples (generic interface counters); they are not flows and never reach the batch. */
  onSflowCounters: ((c: SflowInterfaceCounters) => void) | undefined = undefined;

  /** Called when a template is learnt or changed on the wire (not on refresh, not on import). */
  get onTemplate(): ((exporter: string, domain: number, templateId: number) => void) | undefined {
    return this.cache.onTemplate;
  }

  set onTemplate(fn: ((exporter: string, domain: number, templateId: number) => void) | undefined) {
    this.cache.onTemplate = fn;
  }

  /**
   * Decodes one UDP payload from `exporter` and appends records to `out`. When `out` is full it calls
   * onFull(out), which must flush and clear it synchronously; without onFull (or if it leaves the batch
   * full) the rest of the packet is dropped as 'batch_full'. An exception thrown by onFull is rethrown.
   */
  decode(
    payload: Uint8Array,
    exporter: string,
    timeReceivedMs: number,
    out: FlowBatch,
    onFull?: (b: FlowBatch) => void,
    proto?: FlowProtocol,
  ): DecodeResult {
    const ctx = this.ctx;
    const cache = this.cache;
    const exp = cache.exporter(exporter);
    ctx.reset(out, onFull, exp, timeReceivedMs);
    const protocol = proto ?? detectProtocol(payload);
    try {
      switch (protocol) {
        case 'netflow_v5':
          decodeNetflowV5(ctx, cache, payload);
          break;
        case 'netflow_v9':
          decodeNetflowV9(ctx, cache, payload);
          break;
        case 'ipfix':
          decodeIpfix(ctx, cache, payload);
          break;
        case 'sflow_v5':
          // ---- sFlow (owned by the sflow helper: lib/sflow/) ----
          decodeSflowPacket(ctx, payload, this.options, this.onSflowCounters);
          // ---- end sFlow ----
          break;
        default:
          ctx.dom = exp.domain(PROTO_UNKNOWN, 0);
          ctx.fail(payload.length < 2 ? 'too_short' : 'bad_version');
      }
    } catch (e) {
      if (ctx.hasUserError) throw ctx.userError;
      // A decoder bug must not take the worker down: count it against the packet.
      ctx.fail('internal_error');
      this.internalErrorCount++;
      void e;
    }
    if (ctx.hasUserError) throw ctx.userError;
    if (cache.pendingBytesTotal > 0) cache.expirePending(timeReceivedMs);
    const result: DecodeResult = { protocol, records: ctx.records, errors: ctx.errors };
    if (ctx.firstError !== undefined) result.error = ctx.firstError;
    return result;
  }

  /** Counters per (exporter, protocol, observation domain). */
  exporterStats(): ExporterStats[] {
    const list: ExporterStats[] = [];
    for (const exp of this.cache.exporters.values()) {
      for (const dom of exp.allDomains()) {
        list.push({
          exporter: exp.key,
          protocol: PROTOCOL_NAMES[dom.protocol],
          observation_domain: dom.domain,
          packets: dom.packets,
          records: dom.records,
          errors: { ...dom.errors },
          templates: dom.templates.size,
          sequence_lost: dom.sequenceLost,
          sequence_out_of_order: dom.sequenceOutOfOrder,
          sequence_resets: dom.sequenceResets,
          pending: dom.pendingCount,
        });
      }
    }
    return list;
  }

  /** JSON-serialisable snapshot of every template and the sampling learnt from options data. */
  exportTemplates(): TemplateState {
    const domains: TemplateDomainState[] = [];
    for (const exp of this.cache.exporters.values()) {
      for (const proto of [PROTO_V9, PROTO_IPFIX]) {
        for (const dom of exp.domains[proto].values()) {
          if (dom.templates.size === 0 && dom.samplers === null && dom.defaultRate === 0 && dom.systemInitMs === 0) continue;
          domains.push({
            exporter: exp.key,
            protocol: proto === PROTO_V9 ? 'netflow_v9' : 'ipfix',
            observation_domain: dom.domain,
            templates: [...dom.templates.values()].map((t) => ({
              id: t.id,
              options: t.options,
              scope_count: t.scopeCount,
              fields: Array.from(t.ids, (id, f) => ({ pen: t.pens[f], id, length: t.lengths[f] })),
              raw: toHex(t.raw),
              last_seen_ms: t.lastSeenMs,
            })),
            samplers: dom.samplers === null ? [] : [...dom.samplers].map(([id, rate]) => ({ id, rate })),
            default_rate: dom.defaultRate,
            system_init_ms: dom.systemInitMs,
          });
        }
      }
    }
    return { version: 1, domains };
  }

  /**
   * Loads a snapshot from exportTemplates() (this node's or another's). Templates are re-parsed from
   * their raw bytes with the wire rules and caps; anything malformed is skipped. Does not call onTemplate.
   */
  importTemplates(state: TemplateState): void {
    if (state === null || typeof state !== 'object' || !Array.isArray(state.domains)) return;
    const ctx = new PacketContext();
    ctx.releaseHeld = false;
    const saved = this.cache.onTemplate;
    this.cache.onTemplate = undefined;
    try {
      for (const d of state.domains) {
        if (d === null || typeof d !== 'object' || typeof d.exporter !== 'string') continue;
        const proto = d.protocol === 'netflow_v9' ? PROTO_V9 : d.protocol === 'ipfix' ? PROTO_IPFIX : -1;
        if (proto < 0 || !Number.isInteger(d.observation_domain) || d.observation_domain < 0) continue;
        const exp = this.cache.exporter(d.exporter);
        const dom = exp.domain(proto, d.observation_domain >>> 0);
        if (dom.overflow) continue;
        ctx.exporter = exp;
        ctx.dom = dom;
        for (const t of Array.isArray(d.templates) ? d.templates : []) {
          const raw = fromHex(t?.raw);
          if (raw === undefined || raw.length < 4) continue;
          ctx.timeReceived = Number.isFinite(t.last_seen_ms) ? t.last_seen_ms : 0;
          // the raw bytes are one template record: parse it as the body of a one-record set
          if (proto === PROTO_V9) {
            if (t.options) parseV9OptionsTemplateSet(ctx, this.cache, raw, 0, raw.length);
            else parseV9TemplateSet(ctx, this.cache, raw, 0, raw.length);
          } else parseIpfixTemplateSet(ctx, this.cache, raw, 0, raw.length, t.options === true);
          const stored = dom.templates.get(t.id);
          if (stored !== undefined) stored.lastSeenMs = ctx.timeReceived;
        }
        for (const s of Array.isArray(d.samplers) ? d.samplers : []) {
          if (Number.isFinite(s?.id) && Number.isFinite(s?.rate) && s.rate > 0) dom.setSampler(s.id, s.rate);
        }
        if (Number.isFinite(d.default_rate) && d.default_rate > 0) dom.setSampler(-1, d.default_rate);
        if (Number.isFinite(d.system_init_ms) && d.system_init_ms > 0) dom.systemInitMs = d.system_init_ms;
      }
    } finally {
      this.cache.onTemplate = saved;
    }
  }
}
