/**
 * Decode throughput on one core, no sockets: records per CPU-second for NetFlow v5, v9, IPFIX and
 * sFlow v5 over pre-built datagrams, median of several runs. node-netflowv9 (GPL-2.0, dev-only peer, never shipped)
 * is measured in the same process on the same v5/v9 datagrams when installed, and the ratio printed.
 *
 *   node dist/benchmarks/decode/decode.bench.js [--runs 5] [--ms 800] [--json]
 */
import { loadavg } from 'node:os';
import { FlowGenerator, type GenProto } from '@flowmesh/flow-gen';
import { buildEthernetFrame, encodeSflowDatagram, FlowBatch, FlowDecoder, type SflowFlowSampleSpec } from '@flowmesh/flow-decoder';

interface BenchOptions {
  runs: number;
  ms: number;
  json: boolean;
}

export interface BenchRow {
  protocol: string;
  datagrams: number;
  recordsPerDatagram: number;
  ours: number;
  oursRuns: number[];
  peer?: number;
  peerRuns?: number[];
  ratio?: number;
}

const START = Date.UTC(2026, 0, 1);

function genPackets(proto: GenProto): Buffer[] {
  const g = new FlowGenerator({ proto, host: '127.0.0.1', port: 2055, records: 256 * 30, rate: 0, seed: 7, startTimeMs: START, distinct: 256 });
  return [...g.packets()];
}

function sflowPackets(): Buffer[] {
  const out: Buffer[] = [];
  for (let d = 0; d < 64; d++) {
    const samples: SflowFlowSampleSpec[] = [];
    for (let s = 0; s < 8; s++) {
      const k = d * 8 + s;
      const v6 = k % 5 === 0;
      const frame = buildEthernetFrame({
        src: v6 ? `2001:db8::${k.toString(16)}` : `10.${k & 255}.${(k >> 8) & 255}.1`,
        dst: v6 ? '2001:db8:ffff::1' : `192.168.${k & 255}.2`,
        protocol: k % 3 === 0 ? 17 : 6,
        srcPort: 1024 + k,
        dstPort: k % 2 ? 443 : 53,
        vlans: k % 4 === 0 ? [100 + (k % 7)] : undefined,
        payload: 1400,
      });
      samples.push({
        kind: 'flow',
        sequence: k,
        samplingRate: 1024,
        input: 1 + (k % 24),
        output: 1 + ((k + 5) % 24),
        records: [
          { kind: 'header', frameLength: frame.length + 4, header: frame.subarray(0, 128) },
          { kind: 'switch', srcVlan: 100, dstVlan: 100 },
        ],
      });
    }
    out.push(Buffer.from(encodeSflowDatagram({ agent: '192.0.2.1', sequence: d + 1, samples })));
  }
  return out;
}

/** CPU seconds (user + system) this process has used: the clock for "per core" on a shared machine. */
function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** records per CPU-second of one run of `decodeOne` over the datagrams, for at least `ms` CPU-ms. */
function measureOnce(packets: Buffer[], decodeOne: (p: Buffer) => number, ms: number): number {
  let records = 0;
  const t0 = cpuSeconds();
  let elapsed = 0;
  do {
    for (const p of packets) records += decodeOne(p);
    elapsed = cpuSeconds() - t0;
  } while (elapsed * 1000 < ms);
  return records / elapsed;
}

/**
 * records per CPU-second, one figure per run, after a warm-up. CPU time, not wall time: other
 * processes on a busy machine steal wall time but not this thread's CPU time (the benchmark is
 * single-threaded). With a peer, ours and the peer's runs alternate, so both see the same machine.
 */
function measure(
  packets: Buffer[],
  decodeOne: (p: Buffer) => number,
  opts: BenchOptions,
  peer?: (p: Buffer) => number,
): { ours: number[]; peer: number[] } {
  for (let w = 0; w < 3; w++) for (const p of packets) decodeOne(p);
  if (peer !== undefined) for (let w = 0; w < 3; w++) for (const p of packets) peer(p);
  const res = { ours: [] as number[], peer: [] as number[] };
  for (let r = 0; r < opts.runs; r++) {
    res.ours.push(measureOnce(packets, decodeOne, opts.ms));
    if (peer !== undefined) res.peer.push(measureOnce(packets, peer, opts.ms));
  }
  return res;
}

const median = (a: number[]): number => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

interface NetflowV9Peer {
  nfPktDecode(msg: Buffer, rinfo: { address: string; port: number; family: string; size: number }): { flows?: unknown[] } | undefined;
  server?: { close(): void };
}

function loadPeer(): ((opts: object) => NetflowV9Peer) | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('node-netflowv9') as (opts: object) => NetflowV9Peer;
  } catch {
    return undefined;
  }
}

export function runDecodeBench(opts: BenchOptions): BenchRow[] {
  const sets: [string, Buffer[]][] = [
    ['netflow_v5', genPackets('v5')],
    ['netflow_v9', genPackets('v9')],
    ['ipfix', genPackets('ipfix')],
    ['sflow_v5', sflowPackets()],
  ];
  const Peer = loadPeer();
  if (Peer === undefined) process.stderr.write('decode.bench: node-netflowv9 not installed: peer column skipped\n');
  const rows: BenchRow[] = [];
  for (const [protocol, packets] of sets) {
    const dec = new FlowDecoder();
    const out = new FlowBatch(4096);
    const onFull = (b: FlowBatch): void => b.clear();
    const ours = (p: Buffer): number => {
      const r = dec.decode(p, '192.0.2.1', START, out, onFull);
      if (r.errors > 0) throw new Error(`decode error in ${protocol}: ${r.error}`);
      return r.records;
    };
    let total = 0;
    for (const p of packets) total += ours(p);
    out.clear();
    let peer: ((p: Buffer) => number) | undefined;
    if (Peer !== undefined && (protocol === 'netflow_v5' || protocol === 'netflow_v9')) {
      const nf = Peer({ cb: () => undefined });
      // node-netflowv9 opens (but does not bind) a socket in its constructor; only its decoder is used
      nf.server?.close();
      const rinfo = { address: '192.0.2.1', port: 2055, family: 'IPv4', size: 0 };
      peer = (p: Buffer): number => nf.nfPktDecode(p, { ...rinfo, size: p.length })?.flows?.length ?? 0;
      let peerTotal = 0;
      for (const p of packets) peerTotal += peer(p);
      if (peerTotal !== total) process.stderr.write(`decode.bench: node-netflowv9 decoded ${peerTotal} ${protocol} records, we decoded ${total}\n`);
    }
    const runs = measure(packets, ours, opts, peer);
    const row: BenchRow = { protocol, datagrams: packets.length, recordsPerDatagram: total / packets.length, ours: median(runs.ours), oursRuns: runs.ours };
    if (peer !== undefined) {
      row.peerRuns = runs.peer;
      row.peer = median(runs.peer);
      row.ratio = row.ours / row.peer;
    }
    rows.push(row);
  }
  return rows;
}

function parseArgs(argv: string[]): BenchOptions {
  const o: BenchOptions = { runs: 5, ms: 800, json: false };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--runs') o.runs = Math.max(1, Number(argv[++i]));
    else if (argv[i] === '--ms') o.ms = Math.max(50, Number(argv[++i]));
    else if (argv[i] === '--json') o.json = true;
    else throw new Error(`unknown option ${argv[i]} (--runs N --ms N --json)`);
  }
  return o;
}

if (require.main === module) {
  const opts = parseArgs(process.argv.slice(2));
  const rows = runDecodeBench(opts);
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ node: process.version, loadavg: loadavg(), opts, rows }, null, 2)}\n`);
  } else {
    const m = (x: number | undefined): string => (x === undefined ? '-' : `${(x / 1e6).toFixed(2)}M`);
    process.stdout.write(`decode, records per CPU-second of one thread, median of ${opts.runs} x ${opts.ms} CPU-ms (node ${process.version}, load ${loadavg()[0].toFixed(2)})\n`);
    process.stdout.write('protocol     rec/dgram  ours rec/s  (best run)  node-netflowv9  ours/peer\n');
    for (const r of rows) {
      process.stdout.write(
        `${r.protocol.padEnd(12)} ${r.recordsPerDatagram.toFixed(1).padStart(9)}  ${m(r.ours).padStart(10)}  ${m(Math.max(...r.oursRuns)).padStart(10)}  ${m(r.peer).padStart(14)}  ${
          r.ratio === undefined ? '-' : `${r.ratio.toFixed(1)}x`
        }\n`,
      );
    }
  }
}
