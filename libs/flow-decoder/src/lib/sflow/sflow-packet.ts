/**
 * Glue between the FlowDecoder facade and decodeSflow: per-(exporter, sub-agent) counters, datagram
 * sequence tracking, and onFull exceptions surfaced as the caller's own (the facade rethrows them).
 */
import type { FlowBatch } from '../flow-batch';
import { checkSequence, PROTO_SFLOW, type PacketContext } from '../decoder-state';
import type { DecoderOptions } from '../decoder-types';
import { decodeSflow, type SflowInterfaceCounters, type SflowSink } from './sflow-decoder';

export function decodeSflowPacket(
  ctx: PacketContext,
  payload: Uint8Array,
  opts: Readonly<DecoderOptions>,
  onCounters?: (c: SflowInterfaceCounters) => void,
): void {
  const onFull = ctx.onFull;
  const guarded =
    onFull === undefined
      ? undefined
      : (b: FlowBatch): void => {
          try {
            onFull(b);
          } catch (e) {
            ctx.userError = e;
            ctx.hasUserError = true;
            throw e;
          }
        };
  const sink: SflowSink | undefined = onCounters === undefined ? undefined : { interfaceCounters: onCounters };
  const r = decodeSflow(payload, ctx.exporter.addr, ctx.timeReceived, ctx.out, guarded, sink);
  // sFlow sequence numbers run per (agent, sub-agent); the domain is the sub-agent under the packet source.
  const dom = ctx.exporter.domain(PROTO_SFLOW, r.headerValid ? r.subAgentId : 0);
  ctx.dom = dom;
  if (r.headerValid) {
    dom.packets++;
    checkSequence(dom, dom.seq, r.sequence, 1, opts.sequenceResetPackets, r.uptimeMs);
  }
  dom.records += r.records;
  ctx.records += r.records;
  if (r.errorsByReason !== undefined) {
    // the first reason first, so the facade's DecodeResult.error matches decodeSflow's
    if (r.error !== undefined) ctx.fail(r.error);
    for (const reason of Object.keys(r.errorsByReason)) {
      const n = r.errorsByReason[reason] - (reason === r.error ? 1 : 0);
      for (let i = 0; i < n; i++) ctx.fail(reason);
    }
  }
}
