import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { Command, InvalidArgumentError, Option } from 'commander';
import {
  FlowBatch,
  FlowDecoder,
  flowRecordAt,
  flowRecordToJson,
  newPcapReadStats,
  readCaptureUdp,
  type FlowProtocol,
  type PcapReadStats,
} from '@flowmesh/flow-decoder';

const PROTO_FLAGS: Record<string, FlowProtocol> = { v5: 'netflow_v5', v9: 'netflow_v9', ipfix: 'ipfix', sflow: 'sflow_v5' };

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

/** One NDJSON object per row: the library's record view (`flowRecordToJson(flowRecordAt(b, i))`). */
export function rowToJson(b: FlowBatch, i: number): Record<string, unknown> {
  return flowRecordToJson(flowRecordAt(b, i));
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
