import type { DecoderOptions } from '../decoder-types';
import { DomainState, ExporterState, PacketContext, PendingSet, PROTO_IPFIX, PROTO_V9 } from '../decoder-state';
import type { CompiledTemplate } from './template-compiler';
import { decodeFlowRecords, decodeOptionsRecords } from './data-records';

function countError(dom: DomainState, reason: string): void {
  dom.errors[reason] = (dom.errors[reason] ?? 0) + 1;
}

/**
 * Templates keyed by (exporter, protocol, observation domain, template id) with expiry and
 * per-exporter caps, plus the bounded buffer of data sets that arrived before their template.
 */
export class TemplateCache {
  readonly exporters = new Map<string, ExporterState>();
  onTemplate: ((exporter: string, domain: number, templateId: number) => void) | undefined = undefined;
  private fifo: PendingSet[] = [];
  private fifoHead = 0;
  pendingBytesTotal = 0;

  constructor(readonly opts: DecoderOptions) {}

  exporter(key: string): ExporterState {
    let e = this.exporters.get(key);
    if (e === undefined) {
      e = new ExporterState(key, this.opts.maxDomainsPerExporter);
      this.exporters.set(key, e);
    }
    return e;
  }

  private expired(t: CompiledTemplate, nowMs: number): boolean {
    return nowMs - t.lastSeenMs > this.opts.templateExpirySec * 1000;
  }

  get(dom: DomainState, id: number, nowMs: number): CompiledTemplate | undefined {
    const t = dom.templates.get(id);
    if (t === undefined) return undefined;
    if (this.expired(t, nowMs)) {
      this.remove(dom, t);
      return undefined;
    }
    return t;
  }

  /** True (and the template's lifetime renewed) when `raw` equals the stored definition of `id`. */
  refreshIfSame(dom: DomainState, id: number, options: boolean, b: Uint8Array, start: number, end: number, nowMs: number): boolean {
    const t = dom.templates.get(id);
    if (t === undefined || t.options !== options) return false;
    const raw = t.raw;
    if (raw.length !== end - start) return false;
    for (let i = 0; i < raw.length; i++) if (raw[i] !== b[start + i]) return false;
    t.lastSeenMs = nowMs;
    return true;
  }

  remove(dom: DomainState, t: CompiledTemplate): void {
    if (dom.templates.get(t.id) !== t) return;
    dom.templates.delete(t.id);
    dom.exporter.templateCount--;
    dom.exporter.templateBytes -= t.cost;
  }

  withdraw(dom: DomainState, id: number): void {
    const t = dom.templates.get(id);
    if (t !== undefined) this.remove(dom, t);
  }

  withdrawAll(dom: DomainState, options: boolean): void {
    for (const t of [...dom.templates.values()]) if (t.options === options) this.remove(dom, t);
  }

  private sweepExpired(exp: ExporterState, nowMs: number): void {
    for (const proto of [PROTO_V9, PROTO_IPFIX]) {
      for (const dom of exp.domains[proto].values()) {
        for (const t of [...dom.templates.values()]) if (this.expired(t, nowMs)) this.remove(dom, t);
      }
    }
  }

  /**
   * Stores a (new or changed) template. Refused with 'template_limit' when the exporter's caps are hit.
   * Releases data held for it into ctx.out when `ctx` is given.
   */
  put(ctx: PacketContext | undefined, dom: DomainState, t: CompiledTemplate, nowMs: number, notify: boolean): boolean {
    const exp = dom.exporter;
    const old = dom.templates.get(t.id);
    const fits = (): boolean =>
      (old !== undefined || exp.templateCount < this.opts.maxTemplatesPerExporter) &&
      exp.templateBytes - (old?.cost ?? 0) + t.cost <= this.opts.maxTemplateBytesPerExporter;
    if (!fits()) {
      // a sweep walks every template of the exporter: at most once a second, so a flood stays cheap
      if (nowMs - exp.lastSweepMs >= 1000 || nowMs < exp.lastSweepMs) {
        exp.lastSweepMs = nowMs;
        this.sweepExpired(exp, nowMs);
      }
      if (!fits()) {
        if (ctx !== undefined) ctx.failOn(dom, 'template_limit');
        else countError(dom, 'template_limit');
        return false;
      }
    }
    if (old !== undefined && dom.templates.get(t.id) === old) this.remove(dom, old);
    dom.templates.set(t.id, t);
    exp.templateCount++;
    exp.templateBytes += t.cost;
    if (notify && this.onTemplate !== undefined) this.onTemplate(exp.key, dom.domain, t.id);
    if (ctx !== undefined && ctx.releaseHeld) this.release(ctx, dom, t);
    return true;
  }

  // ---- data held until its template arrives ----

  /** Holds a data set body b[start..end) for template `id` of ctx.dom, or counts 'missing_template'. */
  hold(ctx: PacketContext, id: number, b: Uint8Array, start: number, end: number): void {
    const o = this.opts;
    const exp = ctx.exporter;
    const size = end - start;
    if (o.pendingMaxSetsPerExporter <= 0 || size > o.pendingMaxBytesPerExporter || size > o.pendingMaxBytesTotal) {
      ctx.fail('missing_template');
      return;
    }
    this.expirePending(ctx.timeReceived);
    while (exp.pendingCount > 0 && (exp.pendingCount >= o.pendingMaxSetsPerExporter || exp.pendingBytes + size > o.pendingMaxBytesPerExporter)) {
      if (!this.evictOldest(exp)) break;
    }
    while (this.pendingBytesTotal > 0 && this.pendingBytesTotal + size > o.pendingMaxBytesTotal) {
      if (!this.evictOldest(undefined)) break;
    }
    const dom = ctx.dom;
    const entry: PendingSet = {
      dom,
      templateId: id,
      data: b.slice(start, end),
      exportMs: ctx.exportMs,
      sysUptime: ctx.sysUptime,
      timeReceived: ctx.timeReceived,
      done: false,
    };
    if (dom.pending === null) dom.pending = new Map();
    const list = dom.pending.get(id);
    if (list === undefined) dom.pending.set(id, [entry]);
    else list.push(entry);
    dom.pendingCount++;
    exp.pendingCount++;
    exp.pendingBytes += size;
    this.pendingBytesTotal += size;
    this.fifo.push(entry);
  }

  private unlink(e: PendingSet): void {
    e.done = true;
    const dom = e.dom;
    const list = dom.pending?.get(e.templateId);
    if (list !== undefined) {
      const i = list.indexOf(e);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) dom.pending!.delete(e.templateId);
    }
    dom.pendingCount--;
    dom.exporter.pendingCount--;
    dom.exporter.pendingBytes -= e.data.length;
    this.pendingBytesTotal -= e.data.length;
  }

  private drop(e: PendingSet): void {
    this.unlink(e);
    countError(e.dom, 'pending_expired');
  }

  private evictOldest(exp: ExporterState | undefined): boolean {
    for (let i = this.fifoHead; i < this.fifo.length; i++) {
      const e = this.fifo[i];
      if (!e.done && (exp === undefined || e.dom.exporter === exp)) {
        this.drop(e);
        this.compact();
        return true;
      }
    }
    return false;
  }

  private compact(): void {
    while (this.fifoHead < this.fifo.length && this.fifo[this.fifoHead].done) this.fifoHead++;
    if (this.fifoHead > 1024 && this.fifoHead * 2 > this.fifo.length) {
      this.fifo = this.fifo.slice(this.fifoHead);
      this.fifoHead = 0;
    } else if (this.fifoHead === this.fifo.length) {
      this.fifo.length = 0;
      this.fifoHead = 0;
    }
  }

  /** Drops held data older than pendingMaxAgeMs (counted 'pending_expired'). */
  expirePending(nowMs: number): void {
    const maxAge = this.opts.pendingMaxAgeMs;
    while (this.fifoHead < this.fifo.length) {
      const e = this.fifo[this.fifoHead];
      if (!e.done) {
        if (nowMs - e.timeReceived <= maxAge) break;
        this.drop(e);
      }
      this.fifoHead++;
    }
    this.compact();
  }

  get pendingSets(): number {
    let n = 0;
    for (let i = this.fifoHead; i < this.fifo.length; i++) if (!this.fifo[i].done) n++;
    return n;
  }

  /** Decodes data held for template t (arrived in the packet ctx is decoding) into ctx.out. */
  private release(ctx: PacketContext, dom: DomainState, t: CompiledTemplate): void {
    const list = dom.pending?.get(t.id);
    if (list === undefined) return;
    const saveExport = ctx.exportMs;
    const saveUptime = ctx.sysUptime;
    const saveTime = ctx.timeReceived;
    const saveDom = ctx.dom;
    ctx.dom = dom;
    for (const e of [...list]) {
      if (e.done) continue;
      if (saveTime - e.timeReceived > this.opts.pendingMaxAgeMs) {
        this.drop(e);
        continue;
      }
      this.unlink(e);
      if (ctx.aborted) {
        countError(dom, 'pending_expired');
        continue;
      }
      ctx.exportMs = e.exportMs;
      ctx.sysUptime = e.sysUptime;
      ctx.timeReceived = e.timeReceived;
      const before = ctx.records;
      if (t.options) decodeOptionsRecords(ctx, t, e.data, 0, e.data.length);
      else decodeFlowRecords(ctx, t, e.data, 0, e.data.length);
      dom.records += ctx.records - before;
    }
    ctx.exportMs = saveExport;
    ctx.sysUptime = saveUptime;
    ctx.timeReceived = saveTime;
    ctx.dom = saveDom;
    this.compact();
  }
}
