import { FLOW_TYPE } from '../flow-batch';
import { checkSequence, PacketContext, PROTO_IPFIX } from '../decoder-state';
import { u16, u32 } from '../reader';
import type { TemplateCache } from '../templates/template-cache';
import { decodeDataSet, parseIpfixTemplateSet } from '../templates/template-sets';

export const IPFIX_HEADER_LENGTH = 16;

/** IPFIX (RFC 7011): 16-byte message header, then sets (2 templates, 3 options templates, >= 256 data). */
export function decodeIpfix(ctx: PacketContext, cache: TemplateCache, b: Uint8Array): void {
  ctx.flowType = FLOW_TYPE.ipfix;
  if (b.length < IPFIX_HEADER_LENGTH) {
    ctx.dom = ctx.exporter.domain(PROTO_IPFIX, 0);
    ctx.fail('too_short');
    return;
  }
  const msgLen = u16(b, 2);
  const exportSecs = u32(b, 4);
  const seq = u32(b, 8);
  const odid = u32(b, 12);
  const dom = ctx.exporter.domain(PROTO_IPFIX, odid);
  ctx.dom = dom;
  dom.packets++;
  if (dom.overflow) {
    ctx.fail('domain_limit');
    return;
  }
  if (msgLen < IPFIX_HEADER_LENGTH) {
    ctx.fail('bad_length');
    return;
  }
  let len = msgLen;
  let truncated = false;
  if (msgLen > b.length) {
    ctx.fail('truncated');
    truncated = true;
    len = b.length;
  }
  ctx.exportMs = exportSecs * 1000;
  ctx.sysUptime = -1;

  let units = 0;
  let p = IPFIX_HEADER_LENGTH;
  while (p < len && !ctx.aborted) {
    if (len - p < 4) {
      if (!truncated) ctx.fail('truncated');
      units = -1;
      break;
    }
    const setId = u16(b, p);
    const setLen = u16(b, p + 2);
    if (setLen < 4) {
      ctx.fail('bad_set');
      units = -1;
      break;
    }
    const end = p + setLen;
    if (end > len) {
      if (!truncated) ctx.fail('truncated');
      units = -1;
      break;
    }
    if (setId === 2 || setId === 3) parseIpfixTemplateSet(ctx, cache, b, p + 4, end, setId === 3);
    else if (setId >= 256) {
      const n = decodeDataSet(ctx, cache, setId, b, p + 4, end);
      units = n < 0 || units < 0 ? -1 : units + n;
    } else ctx.fail('bad_set');
    p = end;
  }
  if (truncated || ctx.aborted) units = -1;
  checkSequence(dom, dom.seq, seq, units, cache.opts.sequenceResetRecords, -1);
}
