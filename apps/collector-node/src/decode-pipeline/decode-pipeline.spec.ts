import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { createSocket, Socket } from 'node:dgram';
import { Logger, loadConfig } from '@flowmesh/common';
import { bytes16ToIpText } from '@flowmesh/flow-decoder';
import { ExporterRule } from '../exporters/exporter-policy';
import { ExporterMetrics } from '../exporters/exporters.metrics';
import { IngestDropMetrics } from '../observability/ingest-drops.metrics';
import type { SpoolBatch } from '../spool/spool.component';
import { spoolEntryValid } from '../spool/spool-entry';
import { RAW_COLUMNS } from '../storage/schema';
import { metricValue } from '../testing/metric-value';
import { readNativeBlock } from '../testing/native-reader';
import { netflowV5, netflowV9, TestFlow } from '../testing/netflow-packets';
import { DecodePipeline } from './decode-pipeline.component';
import { ClockConfig, DecodeConfig } from './decode-pipeline.config';
import { DecodePipelineMetrics } from './decode-pipeline.metrics';
import { DatagramSink, SocketReaders, UdpInput } from '../udp-input/udp-input.component';
import { ListenersConfig } from '../udp-input/udp-input.config';
import { UdpInputMetrics } from '../udp-input/udp-input.metrics';

interface Row {
  batch: string;
  exporter: string;
  time_received: number;
  flow_start: number;
  flow_end: number;
  sampling_rate: number;
  src_port: number;
}

/** Reads rows back from the Native blocks the workers produced (an independent reader, testing/native-reader). */
function rowsOf(b: SpoolBatch): Row[] {
  assert.equal(b.format, 'native');
  assert.ok(b.header && spoolEntryValid(b.header, b.data), 'the worker built the spool entry header, checksum included');
  assert.deepEqual([b.header.readUInt32LE(8), b.header.readUInt32LE(12).toString(16).padStart(8, '0') + b.header.readUInt32LE(16).toString(16).padStart(8, '0')], [b.rows, b.id]);
  const { rows, columns } = readNativeBlock(b.data);
  assert.equal(rows, b.rows);
  assert.deepEqual([...columns.keys()], RAW_COLUMNS.map((c) => c.name), 'every column, in table order');
  const col = (name: string) => columns.get(name)!.data;
  const out: Row[] = [];
  for (let i = 0; i < b.rows; i++) {
    const id = col('batch_id').readBigUInt64LE(i * 8).toString(16).padStart(16, '0');
    assert.equal(id, b.id, 'every row carries its batch id');
    out.push({
      batch: b.id,
      exporter: bytes16ToIpText(col('exporter_addr'), i * 16),
      time_received: col('time_received').readUInt32LE(i * 4),
      flow_start: col('flow_start').readUInt32LE(i * 4),
      flow_end: col('flow_end').readUInt32LE(i * 4),
      sampling_rate: col('sampling_rate').readUInt32LE(i * 4),
      src_port: col('src_port').readUInt16LE(i * 2),
    });
  }
  return out;
}

const quiet = new Logger('test', 'error');
const flows = (n: number, port = 1000): TestFlow[] =>
  Array.from({ length: n }, (_, k) => ({ src: `10.0.0.${k + 1}`, dst: '192.0.2.9', srcPort: port + k, dstPort: 443, protocol: 6, bytes: 100, packets: 2 }));

interface Setup {
  workers?: number;
  /** Release each batch as soon as it is offered (rows are read at once): slabs are then reused. */
  release?: boolean;
  decode?: string[];
  exporters?: ExporterRule[];
  allowUnknown?: boolean;
  clock?: string[];
}

function setup(o: Setup = {}) {
  const registry = new Registry();
  const batches: SpoolBatch[] = [];
  const readRows: Row[] = [];
  let incarnation = 100;
  const drops = new IngestDropMetrics(registry);
  const p = new DecodePipeline(
    {
      decode: loadConfig(DecodeConfig, { overrides: [`workers=${o.workers ?? 2}`, 'statsMs=50', ...(o.decode ?? [])] }),
      clock: loadConfig(ClockConfig, { overrides: o.clock ?? [] }),
      batchRows: 1000,
      format: 'native',
      batchMs: 50,
      exporters: o.exporters ?? [],
      allowUnknownExporters: o.allowUnknown ?? true,
      nextIncarnation: () => ++incarnation,
    },
    {
      offer: (b) => {
        if (!o.release) return (batches.push(b), true);
        readRows.push(...rowsOf(b));
        b.release?.();
        return true;
      },
    },
    new DecodePipelineMetrics(registry, DecodePipeline.errorReasons()),
    new ExporterMetrics(registry, 3),
    drops,
    quiet,
  );
  const rows = () => (o.release ? readRows : batches.flatMap(rowsOf));
  return { p, registry, batches, rows, drops };
}

const until = async (what: string, cond: () => boolean | Promise<boolean>, ms = 5000) => {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

const now = () => Math.floor(Date.now() / 1000);

describe('DecodePipeline (real worker threads)', () => {
  test('exporters are pinned to one worker each; v9 templates stay with their exporter', async () => {
    const { p, rows, registry } = setup({ workers: 2 });
    await p.start();
    try {
      assert.equal(p.workerCount, 2);
      const exporters = Array.from({ length: 8 }, (_, k) => `192.0.2.${k + 1}`);
      const slots = new Set(exporters.map((e) => p.slotOf(e)));
      assert.equal(slots.size, 2, 'the 8 exporters spread over both workers');
      // Template packets first, then data-only packets interleaved across exporters.
      for (const e of exporters) p.handle(netflowV9(flows(2), { unixSecs: now(), sequence: 0, sourceId: 1 }), e, Date.now());
      for (let round = 1; round <= 3; round++) {
        for (const e of exporters) p.handle(netflowV9(flows(3, 2000 + round * 10), { unixSecs: now(), sequence: round, sourceId: 1, templates: false }), e, Date.now());
      }
      await until('all rows', () => rows().length === 8 * (2 + 9));
      const byExporter = new Map<string, Set<string>>();
      for (const r of rows()) {
        const hi = r.batch.slice(0, 8);
        byExporter.set(r.exporter, (byExporter.get(r.exporter) ?? new Set()).add(hi));
      }
      assert.equal(byExporter.size, 8);
      for (const [e, his] of byExporter) assert.equal(his.size, 1, `${e} decoded by one worker`);
      assert.equal(new Set([...byExporter.values()].map((s) => [...s][0])).size, 2, 'both workers produced batches');
      await until('stats', async () => (await metricValue(registry, 'flowmesh_collector_decode_flows_total', { protocol: 'netflow_v9' })) === 88);
      assert.equal(await metricValue(registry, 'flowmesh_collector_decode_errors_total', { reason: 'missing_template' }), 0);
      // 8 exporters, 3 labelled series at most: the rest are summed as "other".
      await until('exporter counters', async () => (await metricValue(registry, 'flowmesh_collector_exporter_packets_total', { exporter: 'other' })) === 20);
      const labelled = ['192.0.2.1', '192.0.2.2', '192.0.2.3'];
      for (const e of labelled) assert.equal(await metricValue(registry, 'flowmesh_collector_exporter_packets_total', { exporter: e }), 4);
      assert.equal(await metricValue(registry, 'flowmesh_collector_exporter_packets_total', { exporter: 'other' }), 20);
      assert.equal(await metricValue(registry, 'flowmesh_collector_exporter_flows_total', { exporter: 'other' }), 55);
      assert.equal(await metricValue(registry, 'flowmesh_collector_exporter_templates', { exporter: '192.0.2.1' }), 2);
    } finally {
      await p.stop(2000);
    }
  });

  test('batch memory is reused once the spool releases batches, and only then', async () => {
    // ~110 kB per 1000-row batch, 256 kB slabs: 40 batches need 20 slabs unless released ones are refilled.
    for (const release of [true, false]) {
      const { p, rows, registry } = setup({ workers: 1, release, decode: ['batchSlabBytes=262144'] });
      await p.start();
      try {
        // In rounds, as a spool keeps up: a release reaches the worker after the packs queued before it.
        for (let round = 0; round < 16; round++) {
          for (let k = round * 100; k < (round + 1) * 100; k++) p.handle(netflowV5(flows(25, 1000 + (k % 50)), { unixSecs: now(), sequence: k * 25 }), '192.0.2.50', Date.now());
          await p.flush();
        }
        await until('all rows', () => rows().length === 40_000);
        const ports = rows().reduce((n, r) => n + r.src_port, 0);
        const want = Array.from({ length: 1600 }, (_, k) => Array.from({ length: 25 }, (_, j) => 1000 + (k % 50) + j)).flat().reduce((a, b) => a + b, 0);
        assert.equal(ports, want, 'every row read back intact (no slab reused while its batch was live)');
        const mem = p.batchMemoryBytes();
        if (release) assert.ok(mem <= 3 * 262_144, `released batches: ${mem} bytes of slabs`);
        else assert.ok(mem >= 15 * 262_144, `batches never released: ${mem} bytes of slabs`);
        assert.equal(await metricValue(registry, 'flowmesh_collector_decode_batch_memory_bytes'), mem);
      } finally {
        await p.stop(2000);
      }
    }
  });

  test('a worker that crashes is restarted and counted; its exporters keep their templates; garbage costs only itself', async () => {
    const { p, rows, registry } = setup({ workers: 1 });
    await p.start();
    try {
      const e = '198.51.100.7';
      p.handle(netflowV9(flows(2), { unixSecs: now(), sequence: 0 }), e, Date.now());
      await until('templates reported', async () => (await metricValue(registry, 'flowmesh_collector_exporter_templates', { exporter: e })) === 2);
      await until('rows', () => rows().length === 2);
      const before = rows()[0].batch.slice(0, 8);
      p.injectCrash(0);
      await until('restarted', () => p.restarts(0) === 1 && p.health().status === 'ok');
      assert.equal(await metricValue(registry, 'flowmesh_collector_decode_worker_restarts_total'), 1);
      // Data without templates: decodable only because the new worker got the templates the old one reported.
      p.handle(netflowV9(flows(3, 3000), { unixSecs: now(), sequence: 1, templates: false }), e, Date.now());
      p.handle(Buffer.from('garbage, not a flow export'), e, Date.now());
      p.handle(Buffer.from([9]), e, Date.now());
      await until('rows after restart', () => rows().length === 5);
      const after = rows()[4].batch.slice(0, 8);
      assert.notEqual(after, before, 'the new worker has its own batch-id incarnation');
      await until('errors', async () => (await metricValue(registry, 'flowmesh_collector_decode_errors_total', { reason: 'bad_version' })) === 1);
      assert.equal(await metricValue(registry, 'flowmesh_collector_decode_errors_total', { reason: 'too_short' }), 1);
      assert.equal(await metricValue(registry, 'flowmesh_collector_decode_errors_total', { reason: 'missing_template' }), 0);
      assert.deepEqual(
        rows().slice(2).map((r) => r.src_port),
        [3000, 3001, 3002],
      );
    } finally {
      await p.stop(2000);
    }
  });

  test('allow-list: other senders are counted and create no state; sampling override and default apply', async () => {
    const { p, rows, registry } = setup({
      workers: 1,
      allowUnknown: false,
      exporters: [
        { address: '192.0.2.0/29', name: 'edge', samplingRate: 100 },
        { address: '2001:db8::/32', defaultSamplingRate: 10 },
        { address: '203.0.113.5' },
      ],
    });
    await p.start();
    try {
      p.handle(netflowV5(flows(2), { unixSecs: now() }), '192.0.2.6', Date.now());
      p.handle(netflowV5(flows(3), { unixSecs: now() }), '192.0.2.8', Date.now()); // outside /29
      p.handle(netflowV9(flows(2), { unixSecs: now() }), '198.51.100.1', Date.now());
      p.handle(netflowV5(flows(1), { unixSecs: now() }), '2001:db8:1::1', Date.now());
      p.handle(netflowV5(flows(4), { unixSecs: now() }), '203.0.113.5', Date.now());
      await until('rows', () => rows().length === 7);
      await until('stats', async () => (await metricValue(registry, 'flowmesh_collector_decode_flows_total', { protocol: 'netflow_v5' })) === 7);
      const rate = (e: string) => [...new Set(rows().filter((r) => r.exporter === e).map((r) => r.sampling_rate))];
      assert.deepEqual(rate('192.0.2.6'), [100], 'override');
      assert.deepEqual(rate('2001:db8:1::1'), [10], 'default where the record has none');
      assert.deepEqual(rate('203.0.113.5'), [1], 'no settings: as decoded');
      assert.equal(rows().filter((r) => r.exporter === '192.0.2.8' || r.exporter === '198.51.100.1').length, 0);
      assert.equal(await metricValue(registry, 'flowmesh_collector_ingest_dropped_packets_total', { reason: 'not_allowed' }), 2);
      assert.equal(await metricValue(registry, 'flowmesh_collector_decode_flows_total', { protocol: 'netflow_v9' }), 0, 'never decoded');
      await new Promise((r) => setTimeout(r, 120));
      assert.equal(await metricValue(registry, 'flowmesh_collector_exporter_packets_total', { exporter: 'edge' }), 1);
      assert.equal(await metricValue(registry, 'flowmesh_collector_exporter_packets_total', { exporter: '198.51.100.1' }), undefined);
      assert.equal(await metricValue(registry, 'flowmesh_collector_exporter_templates', { exporter: '198.51.100.1' }), undefined, 'no decoder state');
    } finally {
      await p.stop(2000);
    }
  });

  for (const action of ['clamp', 'drop'] as const) {
    test(`clock skew (${action}): records too far in the future or past are ${action === 'clamp' ? 'clamped to receive time' : 'dropped'} and counted`, async () => {
      const { p, rows, registry } = setup({ workers: 1, clock: [`action=${action}`, 'maxFutureSec=300', 'maxPastSec=86400'] });
      await p.start();
      try {
        const rx = Date.now();
        const rxSec = Math.floor(rx / 1000);
        p.handle(netflowV5(flows(2, 100), { unixSecs: rxSec }), '192.0.2.1', rx); // fine: ends 1 s before export
        p.handle(netflowV5(flows(3, 200), { unixSecs: rxSec + 3600 }), '192.0.2.1', rx); // an hour ahead
        p.handle(netflowV5(flows(4, 300), { unixSecs: rxSec - 2 * 86400 }), '192.0.2.1', rx); // two days behind
        const want = action === 'clamp' ? 9 : 2;
        await until('rows', () => rows().length === want);
        await until('counted', async () => (await metricValue(registry, 'flowmesh_collector_decode_clock_skew_flows_total', { reason: 'past', action })) === 4);
        assert.equal(await metricValue(registry, 'flowmesh_collector_decode_clock_skew_flows_total', { reason: 'future', action }), 3);
        const ok = rows().filter((r) => r.src_port < 200);
        assert.equal(ok.length, 2);
        for (const r of ok) assert.ok(r.flow_end === rxSec - 1 && r.flow_start === rxSec - 10, JSON.stringify(r));
        for (const r of rows()) assert.equal(r.time_received, rxSec, 'receive time always recorded');
        if (action === 'clamp') {
          for (const r of rows().filter((x) => x.src_port >= 200)) assert.deepEqual([r.flow_start, r.flow_end], [rxSec, rxSec], JSON.stringify(r));
          assert.equal(await metricValue(registry, 'flowmesh_collector_ingest_dropped_flows_total', { reason: 'clock_future' }), 0);
        } else {
          assert.equal(await metricValue(registry, 'flowmesh_collector_ingest_dropped_flows_total', { reason: 'clock_future' }), 3);
          assert.equal(await metricValue(registry, 'flowmesh_collector_ingest_dropped_flows_total', { reason: 'clock_past' }), 4);
        }
      } finally {
        await p.stop(2000);
      }
    });
  }

  test('stop flushes the partial batches of every worker', async () => {
    const { p, rows } = setup({ workers: 2 });
    await p.start();
    for (let k = 0; k < 6; k++) p.handle(netflowV5(flows(5), { unixSecs: now(), sequence: 5 * k }), `192.0.2.${k + 1}`, Date.now());
    await p.stop(2000);
    assert.equal(rows().length, 30);
    assert.equal(p.health().status, 'error');
  });
});

describe('DecodePipeline runtime control', () => {
  test('setExporters, importTemplates/exportTemplates, setBatching, flush, listeners', async () => {
    const { p, rows, registry } = setup({ workers: 2 });
    await p.start();
    try {
      const seen: string[] = [];
      let templateEvents = 0;
      p.onNewExporter((a) => seen.push(a));
      p.onTemplatesChanged(() => templateEvents++);
      // Templates learnt from one exporter, exported, and imported for another address.
      p.handle(netflowV9(flows(1), { unixSecs: now(), sequence: 0, sourceId: 3 }), '192.0.2.1', Date.now());
      await until('templates reported', () => p.exportTemplates().domains.length === 1 && templateEvents >= 1);
      const state = p.exportTemplates();
      const copy = { version: 1 as const, domains: state.domains.map((d) => ({ ...d, exporter: '192.0.2.77' })) };
      p.importTemplates(copy);
      p.handle(netflowV9(flows(2, 5000), { unixSecs: now(), sequence: 0, sourceId: 3, templates: false }), '192.0.2.77', Date.now());
      await p.flush();
      assert.deepEqual(rows().filter((r) => r.exporter === '192.0.2.77').map((r) => r.src_port), [5000, 5001], 'decoded with imported templates');
      assert.deepEqual(seen, ['192.0.2.1', '192.0.2.77']);

      // A deny rule and a sampling override, at run time.
      p.setExporters([{ address: '192.0.2.1', allow: false }, { address: '192.0.2.0/24', samplingRate: 64 }], false);
      p.handle(netflowV5(flows(2), { unixSecs: now() }), '192.0.2.1', Date.now());
      p.handle(netflowV5(flows(3, 7000), { unixSecs: now() }), '192.0.2.5', Date.now());
      p.handle(netflowV5(flows(3), { unixSecs: now() }), '198.51.100.1', Date.now());
      p.setBatching(2, 60_000);
      await p.flush();
      const r5 = rows().filter((r) => r.exporter === '192.0.2.5');
      assert.deepEqual(r5.map((r) => r.sampling_rate), [64, 64, 64]);
      assert.equal(await metricValue(registry, 'flowmesh_collector_ingest_dropped_packets_total', { reason: 'not_allowed' }), 2);
      // Batches of at most 2 rows from now on.
      const n = p.workerCount;
      p.handle(netflowV5(flows(5, 8000), { unixSecs: now(), sequence: 3 }), '192.0.2.5', Date.now());
      await until('two full batches', () => rows().filter((r) => r.src_port >= 8000).length >= 4);
      assert.equal(n, 2);
    } finally {
      await p.stop(2000);
    }
  });

  test('workers read the sockets themselves (recvmmsg, one SO_REUSEPORT socket each): every flow once, templates kept over a crash, allow-list applied', async () => {
    const { p, rows, registry, drops } = setup({ workers: 2, exporters: [{ address: '127.0.0.1' }], allowUnknown: false });
    await p.start();
    const udpMetrics = new UdpInputMetrics(registry);
    const listeners = loadConfig(ListenersConfig, { overrides: ['netflow.address=::', 'netflow.port=0', 'ipfix.enabled=false', 'sflow.enabled=false', 'receiver=recvmmsg', 'receiveBufferBytes=4194304'] });
    const udp = new UdpInput(listeners, p, udpMetrics, quiet, (e) => assert.fail(e));
    await udp.start();
    const senders: Socket[] = [];
    try {
      const [l] = udp.listeners();
      assert.deepEqual([l.receiver, l.sockets], ['recvmmsg', 2]);
      // A second node on the same port must not join the SO_REUSEPORT group and take part of the traffic.
      // Two workers' worth of sockets; never reached (the bind fails first).
      const neverReached: DatagramSink & SocketReaders = {
        handle: () => assert.fail('no datagram expected'),
        socketsPerListener: 2,
        attach: () => assert.fail('bound a taken port'),
        detach: async () => undefined,
        onListenerCounts: () => undefined,
        onSocketError: () => undefined,
      };
      const second = new UdpInput(
        loadConfig(ListenersConfig, { overrides: ['netflow.address=::', `netflow.port=${l.port}`, 'ipfix.enabled=false', 'sflow.enabled=false', 'receiver=recvmmsg'] }),
        neverReached,
        new UdpInputMetrics(new Registry()),
        quiet,
        (e) => assert.fail(e),
      );
      await assert.rejects(second.start(), new RegExp(`listener netflow: cannot bind :::${l.port}: EADDRINUSE`));
      // 16 exporters' transport sessions: 127.0.0.1 from 16 source ports (IPv4-mapped on the dual-stack socket).
      for (let k = 0; k < 16; k++) senders.push(await new Promise<Socket>((r) => { const s = createSocket('udp4'); s.bind(0, '127.0.0.1', () => r(s)); }));
      const send = (s: Socket, b: Buffer) => new Promise<void>((r, j) => s.send(b, l.port, '127.0.0.1', (e) => (e ? j(e) : r())));
      const round = async (seq: number, templates: boolean) => {
        for (const [k, s] of senders.entries()) await send(s, netflowV9(flows(4, 10_000 + k * 100 + seq * 4), { unixSecs: now(), sequence: seq, sourceId: k, templates }));
      };
      await round(0, true);
      await round(1, false);
      await until('rows of two rounds', () => rows().length === 16 * 4 * 2);
      // Both workers read: the kernel spread the 16 sessions over both sockets.
      assert.equal(new Set(rows().map((r) => r.batch.slice(0, 8))).size, 2, 'both workers decoded');
      assert.ok(rows().every((r) => r.exporter === '127.0.0.1'));
      const exporter = '::ffff:127.0.0.1'; // the metrics label: the sender as the dual-stack socket names it
      // A worker crashes: its replacement reads the same socket (the fd stays open in the main thread) and
      // decodes data-only packets with the templates the old one reported.
      await until('templates reported', async () => (await metricValue(registry, 'flowmesh_collector_exporter_templates', { exporter })) === 32);
      p.injectCrash(0);
      await until('restarted', () => p.restarts(0) === 1 && p.health().status === 'ok');
      await round(2, false);
      await until('rows after the crash', () => rows().length === 16 * 4 * 3);
      const ports = rows().map((r) => r.src_port).sort((a, b) => a - b);
      const want = [0, 1, 2].flatMap((seq) => Array.from({ length: 16 }, (_, k) => [0, 1, 2, 3].map((j) => 10_000 + k * 100 + seq * 4 + j)).flat()).sort((a, b) => a - b);
      assert.deepEqual(ports, want, 'every flow exactly once');
      assert.equal(await metricValue(registry, 'flowmesh_collector_decode_errors_total', { reason: 'missing_template' }), 0);
      await until('listener counts', async () => (await metricValue(registry, 'flowmesh_collector_udp_packets_received_total', { listener: 'netflow' })) === 48);
      await until('exporter counts', async () => (await metricValue(registry, 'flowmesh_collector_exporter_packets_total', { exporter })) === 48);
      // Not on the allow-list: counted, never decoded.
      p.setExporters([{ address: '192.0.2.1' }], false);
      await new Promise((r) => setTimeout(r, 100));
      await round(3, true);
      await until('not_allowed', () => drops.totals['packets_not_allowed'] === 16);
      assert.equal(rows().length, 16 * 4 * 3);
    } finally {
      for (const s of senders) s.close();
      await udp.stop();
      await p.stop(2000);
    }
  });
});
