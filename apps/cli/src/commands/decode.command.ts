import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { Command, InvalidArgumentError, Option } from 'commander';
import {
  bytes16ToIpText,
  DIRECTION,
  FLOW_TYPE,
  FlowBatch,
  FlowDecoder,
  macToText,
  newPcapReadStats,
  readCaptureUdp,
  type ExtraField,
  type FlowProtocol,
  type PcapReadStats,
} from '@flowmesh/flow-decoder';

const PROTO_FLAGS: Record<string, FlowProtocol> = { v5: 'netflow_v5', v9: 'netflow_v9', ipfix: 'ipfix', sflow: 'sflow_v5' };

const FLOW_TYPE_NAMES = new Map<number, string>(Object.entries(FLOW_TYPE).map(([k, v]) => [v, k]));
const DIRECTION_NAMES = new Map<number, string>(Object.entries(DIRECTION).map(([k, v]) => [v, k]));

/** IANA IEs whose raw value is an address or a MAC: rendered as text under "extra". */
const IE_V4 = new Set([8, 12, 15, 18, 47, 130, 225, 226]);
const IE_V6 = new Set([27, 28, 62, 63, 131, 281, 282]);
const IE_MAC = new Set([56, 57, 80, 81, 414]);
/** Names for the IANA IEs the decoders put in `extra` most often; others print as ie<id>. */
const IE_NAMES: Record<number, string> = {
  18: 'bgpNextHopIPv4Address',
  32: 'icmpTypeCodeIPv4',
  59: 'postVlanId',
  63: 'bgpNextHopIPv6Address',
  128: 'bgpNextAdjacentAsNumber',
  129: 'bgpPrevAdjacentAsNumber',
  130: 'exporterIPv4Address',
  131: 'exporterIPv6Address',
  136: 'flowEndReason',
  139: 'icmpTypeCodeIPv6',
  176: 'icmpTypeIPv4',
  177: 'icmpCodeIPv4',
  178: 'icmpTypeIPv6',
  179: 'icmpCodeIPv6',
  245: 'dot1qCustomerVlanId',
};

interface DecodeFlags {
  proto?: string;
  port?: number;
  stats?: boolean;
}

function port(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError('expected a port 1..65535');
  return n;
}

/** The whole capture: a file, or stdin for '-'. */
export async function readInput(file: string, stdin: Readable = process.stdin): Promise<Uint8Array> {
  if (file !== '-') return new Uint8Array(await readFile(file));
  const chunks: Buffer[] = [];
  for await (const c of stdin) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return new Uint8Array(Buffer.concat(chunks));
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

function extraValue(e: ExtraField): number | string {
  const v = e.value;
  if (e.pen === 0) {
    if (IE_V4.has(e.id) && typeof v === 'number') return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
    if (IE_V6.has(e.id) && v instanceof Uint8Array && v.length === 16) return bytes16ToIpText(v, 0);
    if (IE_MAC.has(e.id) && typeof v === 'number') return macToText(v);
  }
  return v instanceof Uint8Array ? hex(v) : v;
}

const iso = (ms: number): string => (Number.isFinite(ms) && Math.abs(ms) < 8.64e15 ? new Date(ms).toISOString() : String(ms));

/** One NDJSON object per row: canonical names, text addresses, ISO 8601 UTC times, numbers for counters. */
export function rowToJson(b: FlowBatch, i: number): Record<string, unknown> {
  const o = i * 16;
  const rec: Record<string, unknown> = {
    time_received: iso(b.time_received[i]),
    flow_start: iso(b.flow_start[i]),
    flow_end: iso(b.flow_end[i]),
    exporter_addr: bytes16ToIpText(b.exporter_addr, o),
    observation_domain: b.observation_domain[i],
    flow_type: FLOW_TYPE_NAMES.get(b.flow_type[i]) ?? b.flow_type[i],
    sampling_rate: b.sampling_rate[i],
    ip_version: b.ip_version[i],
    src_addr: bytes16ToIpText(b.src_addr, o),
    dst_addr: bytes16ToIpText(b.dst_addr, o),
    src_port: b.src_port[i],
    dst_port: b.dst_port[i],
    protocol: b.protocol[i],
    tcp_flags: b.tcp_flags[i],
    tos: b.tos[i],
    bytes: b.bytes[i],
    packets: b.packets[i],
    in_if: b.in_if[i],
    out_if: b.out_if[i],
    src_as: b.src_as[i],
    dst_as: b.dst_as[i],
    next_hop: bytes16ToIpText(b.next_hop, o),
    src_mask: b.src_mask[i],
    dst_mask: b.dst_mask[i],
    direction: DIRECTION_NAMES.get(b.direction[i]) ?? b.direction[i],
    vlan: b.vlan[i],
    src_mac: macToText(b.src_mac[i]),
    dst_mac: macToText(b.dst_mac[i]),
  };
  const extra = b.extra[i];
  if (extra !== undefined && extra.length > 0) {
    const x: Record<string, number | string> = {};
    for (const e of extra) x[e.pen === 0 ? (IE_NAMES[e.id] ?? `ie${e.id}`) : `${e.pen}.${e.id}`] = extraValue(e);
    rec.extra = x;
  }
  return rec;
}

export interface DecodeRunResult {
  datagrams: number;
  records: number;
  byProtocol: Record<string, number>;
  sflowCounterSamples: number;
  capture: PcapReadStats;
}

/**
 * Decodes every UDP datagram of a capture and writes one NDJSON line per flow record to `write`.
 * Returns the counts; `decoder.exporterStats()` has the per-exporter counters.
 */
export function decodeCaptureToNdjson(
  bytes: Uint8Array,
  decoder: FlowDecoder,
  write: (s: string) => void,
  opts: { proto?: FlowProtocol; port?: number } = {},
): DecodeRunResult {
  const capture = newPcapReadStats();
  const res: DecodeRunResult = { datagrams: 0, records: 0, byProtocol: {}, sflowCounterSamples: 0, capture };
  decoder.onSflowCounters = () => {
    res.sflowCounterSamples++;
  };
  const batch = new FlowBatch(1024);
  let pending = '';
  const flush = (b: FlowBatch): void => {
    for (let i = 0; i < b.length; i++) {
      pending += `${JSON.stringify(rowToJson(b, i))}\n`;
      if (pending.length > 1 << 16) {
        write(pending);
        pending = '';
      }
    }
    res.records += b.length;
    b.clear();
  };
  for (const d of readCaptureUdp(bytes, capture)) {
    if (opts.port !== undefined && d.dstPort !== opts.port) continue;
    res.datagrams++;
    const r = decoder.decode(d.payload, d.srcAddr, d.tsMs, batch, flush, opts.proto);
    res.byProtocol[r.protocol] = (res.byProtocol[r.protocol] ?? 0) + 1;
  }
  flush(batch);
  if (pending.length > 0) write(pending);
  return res;
}

export function registerDecode(program: Command): void {
  program
    .command('decode')
    .description(
      'decode the NetFlow v5/v9, IPFIX and sFlow v5 datagrams of a pcap or pcapng capture (any UDP port; the ' +
        'protocol is guessed from each datagram unless --proto is given); prints one JSON line per flow record ' +
        '(canonical field names, RFC 5952 addresses, ISO 8601 UTC times, extra fields under "extra")',
    )
    .argument('<file>', "capture file, or '-' for stdin")
    .addOption(new Option('--proto <proto>', 'decode every datagram as this protocol').choices(Object.keys(PROTO_FLAGS)))
    .option('--port <port>', 'only datagrams sent to this UDP port', port)
    .option('--stats', 'print per-exporter counters (packets, records, errors by reason, templates, sequence loss) as JSON on stderr')
    .action(async (file: string, flags: DecodeFlags, cmd: Command) => {
      let bytes: Uint8Array;
      try {
        bytes = await readInput(file);
      } catch (e) {
        cmd.error(`error: cannot read ${file}: ${(e as Error).message}`);
        return;
      }
      const outCfg = cmd.configureOutput();
      const writeOut = outCfg.writeOut ?? ((s: string) => process.stdout.write(s));
      const writeErr = outCfg.writeErr ?? ((s: string) => process.stderr.write(s));
      const decoder = new FlowDecoder();
      const res = decodeCaptureToNdjson(bytes, decoder, writeOut, {
        proto: flags.proto === undefined ? undefined : PROTO_FLAGS[flags.proto],
        port: flags.port,
      });
      if (res.capture.error !== undefined && res.capture.frames === 0) {
        cmd.error(`error: ${file} is not a readable pcap/pcapng capture (${res.capture.error})`);
      }
      if (flags.stats) {
        const stats = {
          datagrams: res.datagrams,
          records: res.records,
          datagrams_by_protocol: res.byProtocol,
          sflow_counter_samples: res.sflowCounterSamples,
          capture: res.capture,
          exporters: decoder.exporterStats(),
        };
        writeErr(`${JSON.stringify(stats)}\n`);
      } else if (res.capture.error !== undefined) {
        writeErr(`flowmesh decode: capture ends early (${res.capture.error}); decoded what came before\n`);
      }
    });
}
