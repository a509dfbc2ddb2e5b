import { FLOW_TYPE } from '../flow-batch';
import { checkSequence, PacketContext, PROTO_V9 } from '../decoder-state';
import { u16, u32 } from '../reader';
import type { TemplateCache } from '../templates/template-cache';
import { decodeDataSet, parseV9OptionsTemplateSet, parseV9TemplateSet } from '../templates/template-sets';

export const V9_HEADER_LENGTH = 20;

/** NetFlow v9 (RFC 3954): 20-byte header, then FlowSets (0 templates, 1 options templates, >= 256 data). */
export function decodeNetflowV9(ctx: PacketContext, cache: TemplateCache, b: Uint8Array): void {
  ctx.flowType = FLOW_TYPE.netflow_v9;
  const len = b.length;
  if (len < V9_HEADER_LENGTH) {
    ctx.dom = ctx.exporter.domain(PROTO_V9, 0);
    ctx.fail('too_short');
    return;
  }
  const uptime = u32(b, 4);
  const secs = u32(b, 8);
  const seq = u32(b, 12);
  const sourceId = u32(b, 16);
  const dom = ctx.exporter.domain(PROTO_V9, sourceId);
  ctx.dom = dom;
  dom.packets++;
  if (dom.overflow) {
    ctx.fail('domain_limit');
    return;
  }
  ctx.exportMs = secs * 1000;
  ctx.sysUptime = uptime;
  checkSequence(dom, dom.seq, seq, 1, cache.opts.sequenceResetPackets, uptime);

  let p = V9_HEADER_LENGTH;
  while (p < len && !ctx.aborted) {
    if (len - p < 4) {
      ctx.fail('truncated');
      break;
    }
    const setId = u16(b, p);
    const setLen = u16(b, p + 2);
    if (setLen < 4) {
      ctx.fail('bad_set');
      break;
    }
    const end = p + setLen;
    if (end > len) {
      ctx.fail('truncated');
      break;
    }
    if (setId === 0) parseV9TemplateSet(ctx, cache, b, p + 4, end);
    else if (setId === 1) parseV9OptionsTemplateSet(ctx, cache, b, p + 4, end);
    else if (setId >= 256) decodeDataSet(ctx, cache, setId, b, p + 4, end);
    else ctx.fail('bad_set');
    p = end;
  }
}
