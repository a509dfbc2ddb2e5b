import type { PacketContext } from '../decoder-state';
import { u16, u32 } from '../reader';
import { compileTemplate } from './template-compiler';
import type { TemplateCache } from './template-cache';
import { decodeFlowRecords, decodeOptionsRecords } from './data-records';

/** Compiles and stores one template record b[start..end) unless it repeats the stored definition. */
function install(
  ctx: PacketContext,
  cache: TemplateCache,
  id: number,
  options: boolean,
  scopeCount: number,
  ids: number[],
  pens: number[],
  lengths: number[],
  b: Uint8Array,
  start: number,
  end: number,
  skipScope: boolean,
): void {
  const now = ctx.timeReceived;
  const t = compileTemplate(
    id,
    options,
    scopeCount,
    Uint16Array.from(ids),
    Uint32Array.from(pens),
    Uint16Array.from(lengths),
    b.slice(start, end),
    skipScope,
    now,
  );
  if (t === 'bad_template') {
    ctx.fail('bad_template');
    return;
  }
  cache.put(ctx, ctx.dom, t, now, true);
}

/** NetFlow v9 template FlowSet (id 0) body. */
export function parseV9TemplateSet(ctx: PacketContext, cache: TemplateCache, b: Uint8Array, start: number, end: number): void {
  const maxFields = cache.opts.maxTemplateFields;
  let p = start;
  while (end - p >= 4) {
    const id = u16(b, p);
    const count = u16(b, p + 2);
    if (id === 0 && count === 0) break; // padding
    const recEnd = p + 4 + count * 4;
    if (count === 0 || recEnd > end || count > maxFields) {
      ctx.fail('bad_template');
      break;
    }
    if (id < 256) {
      ctx.fail('bad_template');
      p = recEnd;
      continue;
    }
    if (!cache.refreshIfSame(ctx.dom, id, false, b, p, recEnd, ctx.timeReceived)) {
      const ids: number[] = [];
      const pens: number[] = [];
      const lengths: number[] = [];
      for (let q = p + 4; q < recEnd; q += 4) {
        ids.push(u16(b, q));
        pens.push(0);
        lengths.push(u16(b, q + 2));
      }
      install(ctx, cache, id, false, 0, ids, pens, lengths, b, p, recEnd, false);
    }
    p = recEnd;
  }
}

/** NetFlow v9 options template FlowSet (id 1) body. */
export function parseV9OptionsTemplateSet(ctx: PacketContext, cache: TemplateCache, b: Uint8Array, start: number, end: number): void {
  const maxFields = cache.opts.maxTemplateFields;
  let p = start;
  while (end - p >= 6) {
    const id = u16(b, p);
    const scopeLen = u16(b, p + 2);
    const optLen = u16(b, p + 4);
    if (id === 0 && scopeLen === 0 && optLen === 0) break; // padding
    const recEnd = p + 6 + scopeLen + optLen;
    if (scopeLen % 4 !== 0 || optLen % 4 !== 0 || scopeLen + optLen === 0 || recEnd > end || (scopeLen + optLen) / 4 > maxFields) {
      ctx.fail('bad_template');
      break;
    }
    if (id < 256) {
      ctx.fail('bad_template');
      p = recEnd;
      continue;
    }
    if (!cache.refreshIfSame(ctx.dom, id, true, b, p, recEnd, ctx.timeReceived)) {
      const ids: number[] = [];
      const pens: number[] = [];
      const lengths: number[] = [];
      for (let q = p + 6; q < recEnd; q += 4) {
        ids.push(u16(b, q));
        pens.push(0);
        lengths.push(u16(b, q + 2));
      }
      install(ctx, cache, id, true, scopeLen / 4, ids, pens, lengths, b, p, recEnd, true);
    }
    p = recEnd;
  }
}

/** IPFIX template set (id 2) or options template set (id 3) body, withdrawals included (RFC 7011 §8.1). */
export function parseIpfixTemplateSet(
  ctx: PacketContext,
  cache: TemplateCache,
  b: Uint8Array,
  start: number,
  end: number,
  options: boolean,
): void {
  const maxFields = cache.opts.maxTemplateFields;
  const setId = options ? 3 : 2;
  const dom = ctx.dom;
  let p = start;
  while (end - p >= 4) {
    const id = u16(b, p);
    const count = u16(b, p + 2);
    if (count === 0) {
      if (id === 0) break; // padding
      if (id === setId) cache.withdrawAll(dom, options);
      else if (id >= 256) cache.withdraw(dom, id);
      else ctx.fail('bad_template');
      p += 4;
      continue;
    }
    let q = p + 4;
    let scopeCount = 0;
    if (options) {
      if (end - p < 6) {
        ctx.fail('bad_template');
        break;
      }
      scopeCount = u16(b, p + 4);
      q = p + 6;
    }
    if (count > maxFields || (options && (scopeCount === 0 || scopeCount > count))) {
      ctx.fail('bad_template');
      break;
    }
    const ids: number[] = [];
    const pens: number[] = [];
    const lengths: number[] = [];
    let overflow = false;
    for (let f = 0; f < count; f++) {
      if (q + 4 > end) {
        overflow = true;
        break;
      }
      const raw = u16(b, q);
      const len = u16(b, q + 2);
      q += 4;
      let pen = 0;
      if (raw & 0x8000) {
        if (q + 4 > end) {
          overflow = true;
          break;
        }
        pen = u32(b, q);
        q += 4;
      }
      ids.push(raw & 0x7fff);
      pens.push(pen);
      lengths.push(len);
    }
    if (overflow) {
      ctx.fail('bad_template');
      break;
    }
    if (id < 256) ctx.fail('bad_template');
    else if (!cache.refreshIfSame(dom, id, options, b, p, q, ctx.timeReceived)) {
      install(ctx, cache, id, options, scopeCount, ids, pens, lengths, b, p, q, false);
    }
    p = q;
  }
}

/**
 * Decodes a data set for template `setId` of ctx.dom, holding it when the template is unknown.
 * Returns the number of data records (flow or options), -1 when unknown (held / missing).
 */
export function decodeDataSet(ctx: PacketContext, cache: TemplateCache, setId: number, b: Uint8Array, start: number, end: number): number {
  const t = cache.get(ctx.dom, setId, ctx.timeReceived);
  if (t === undefined) {
    cache.hold(ctx, setId, b, start, end);
    return -1;
  }
  if (t.options) return decodeOptionsRecords(ctx, t, b, start, end);
  const before = ctx.records;
  const n = decodeFlowRecords(ctx, t, b, start, end);
  ctx.dom.records += ctx.records - before;
  return n;
}
