/**
 * The real collector node as an OS process: real UDP, real decode worker threads, the real spool, real
 * chDB on a temp data directory, a real redis-server this test starts on a free port (never the
 * machine's 6379). Proves what the node answers equals what was sent, that the counters say the same,
 * that garbage costs only itself, that Redis going away shows in /readyz and the node re-registers when
 * it returns, that data survives a restart, and that a SIGKILL mid-ingest loses nothing that reached
 * the spool and stores nothing twice.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Session } from 'chdb';
import Redis from 'ioredis';
import { findRepoRoot } from '@flowmesh/common';
import { REDIS_KEYS } from '@flowmesh/config-sync';
import { freePort } from '@flowmesh/testing';
import { inspectSpool } from './spool/spool.component';
import { netflowV5, netflowV9, TestFlow } from './testing/netflow-packets';

const NODE_ID = 'int-node-1';
const mainJs = join(__dirname, 'main.js'); // the compiled entry beside this compiled spec
const started: ChildProcess[] = [];

const diag = (msg: string) => process.stderr.write(`# ${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 45_000): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(50);
  }
}

function startRedis(port: number): ChildProcess {
  const p = spawn('/usr/bin/redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  started.push(p);
  return p;
}

async function stopProcess(p: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', ms = 45_000): Promise<number | null> {
  if (p.exitCode !== null || p.signalCode !== null) return p.exitCode;
  const exited = new Promise<number | null>((r) => p.once('exit', (code) => r(code)));
  process.kill(p.pid!, signal);
  const t = setTimeout(() => p.exitCode === null && p.signalCode === null && process.kill(p.pid!, 'SIGKILL'), ms);
  const code = await exited;
  clearTimeout(t);
  return code;
}

interface Agg {
  node: string;
  totals: { bytes: number; packets: number; flows: number };
  groups: { key: string; bytes: number; packets: number; flows: number }[];
  elapsedMs: number;
}

describe('collector node (real process, chDB, Redis)', () => {
  let dataDir: string;
  let redisPort: number;
  let httpPort: number;
  let redis: ChildProcess;
  let node: ChildProcess;
  let nodeStderr = '';
  let ports: Record<string, number> = {};
  const t0 = Date.now();
  const base = () => `http://127.0.0.1:${httpPort}`;

  async function startNode(batchMs = 100, extra: string[] = []): Promise<void> {
    nodeStderr = '';
    node = spawn(
      process.execPath,
      [
        mainJs,
        'node',
        '--set', `id=${NODE_ID}`,
        '--set', `dataDir=${dataDir}`,
        '--set', `http.port=${httpPort}`,
        '--set', 'listeners.netflow.address=127.0.0.1',
        '--set', 'listeners.netflow.port=0',
        '--set', 'listeners.ipfix.address=127.0.0.1',
        '--set', 'listeners.ipfix.port=0',
        '--set', 'listeners.sflow.enabled=false',
        '--set', `storage.batchMs=${batchMs}`,
        '--set', 'storage.memoryLimitBytes=1073741824',
        '--set', 'heartbeatMs=300',
        '--set', 'decode.statsMs=100',
        ...extra.flatMap((x) => ['--set', x]),
      ],
      { cwd: findRepoRoot(), env: { ...process.env, REDIS_URL: `redis://127.0.0.1:${redisPort}`, FLOWMESH_NODE_REDIS__URL: '', FLOWMESH_LOG_LEVEL: 'info' }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    started.push(node);
    node.stderr!.on('data', (d: Buffer) => (nodeStderr += d.toString()));
    await until('the node to be ready', async () => {
      if (node.exitCode !== null) throw new Error(`node exited ${node.exitCode}: ${nodeStderr}`);
      const r = await fetch(`${base()}/readyz`);
      return r.status === 200 ? true : undefined;
    });
    const info = (await (await fetch(`${base()}/internal/v1/info`)).json()) as { listeners: { protocol: string; port: number }[] };
    ports = Object.fromEntries(info.listeners.map((l) => [l.protocol, l.port]));
  }

  async function aggregate(body: unknown): Promise<{ status: number; json: Agg & { message?: string[]; fields?: string[] } }> {
    const r = await fetch(`${base()}/internal/v1/aggregate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: r.status, json: (await r.json()) as Agg & { message?: string[]; fields?: string[] } };
  }

  const range = () => ({ from: t0 - 2000, to: Date.now() + 60_000 });

  async function metrics(): Promise<string> {
    return (await fetch(`${base()}/metrics`)).text();
  }
  function metric(text: string, series: string): number {
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    assert.ok(line, `no series ${series}`);
    return Number(line.slice(series.length + 1));
  }

  async function send(port: number, packets: Buffer[]): Promise<void> {
    const tx = createSocket('udp4');
    for (const p of packets) await new Promise<void>((r, j) => tx.send(p, port, '127.0.0.1', (e) => (e ? j(e) : r())));
    tx.close();
  }

  // What is sent, and what the node must then say.
  const unixSecs = Math.floor(Date.now() / 1000);
  const v5a: TestFlow[] = Array.from({ length: 30 }, (_, k) => ({ src: '10.0.0.1', dst: `192.0.2.${k}`, srcPort: 40000 + k, dstPort: 443, protocol: 6, bytes: 1000 + k, packets: 3 }));
  const v5b: TestFlow[] = Array.from({ length: 5 }, (_, k) => ({ src: '10.0.0.2', dst: '198.51.100.7', srcPort: 53, dstPort: 5300 + k, protocol: 17, bytes: 80, packets: 1 }));
  const v9: TestFlow[] = [
    { src: '10.0.0.1', dst: '203.0.113.5', srcPort: 1234, dstPort: 80, protocol: 6, bytes: 5000, packets: 10 },
    { src: '10.0.0.3', dst: '203.0.113.6', srcPort: 1235, dstPort: 80, protocol: 6, bytes: 7000, packets: 11 },
    { src: '2001:0db8:0000:0000:0000:0000:0000:0001', dst: '2001:0db8:0000:0000:0001:0000:0000:0002', srcPort: 5555, dstPort: 443, protocol: 6, bytes: 2 ** 33, packets: 2 ** 32 + 1 },
  ];
  const sent = [...v5a, ...v5b, ...v9];
  const want = {
    flows: sent.length,
    bytes: sent.reduce((n, f) => n + f.bytes, 0),
    packets: sent.reduce((n, f) => n + f.packets, 0),
  };

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'flowmesh-node-int-'));
    [redisPort, httpPort] = [await freePort(), await freePort()];
    redis = startRedis(redisPort);
    await startNode();
  });

  after(async () => {
    for (const p of started.reverse()) await stopProcess(p, 'SIGKILL', 1000).catch(() => undefined);
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  test('v5 and v9 datagrams are stored: totals and every group equal what was sent', async () => {
    await send(ports.netflow, [netflowV5(v5a, { unixSecs, sequence: 0 }), netflowV9(v9, { unixSecs, sequence: 0, sourceId: 7 })]);
    await send(ports.ipfix, [netflowV5(v5b, { unixSecs, sequence: 30 })]); // any listener takes any protocol
    const agg = await until('all flows to be stored', async () => {
      const r = await aggregate({ ...range(), by: null });
      return r.json.totals?.flows === want.flows ? r.json : undefined;
    });
    assert.equal(agg.node, NODE_ID);
    assert.deepEqual(agg.totals, want);
    assert.deepEqual(agg.groups, []);

    const bySrc = (await aggregate({ ...range(), by: 'src_addr' })).json;
    assert.deepEqual(bySrc.totals, want);
    const key = (k: string) => bySrc.groups.find((g) => g.key === k);
    assert.deepEqual(key('10.0.0.1'), {
      key: '10.0.0.1',
      flows: 31,
      bytes: v5a.reduce((n, f) => n + f.bytes, 0) + 5000,
      packets: 30 * 3 + 10,
    });
    assert.deepEqual(key('2001:db8::1'), { key: '2001:db8::1', flows: 1, bytes: 2 ** 33, packets: 2 ** 32 + 1 });
    assert.deepEqual(bySrc.groups.map((g) => g.key).sort(), ['10.0.0.1', '10.0.0.2', '10.0.0.3', '2001:db8::1']);

    const byDst = (await aggregate({ ...range(), by: 'dst_addr' })).json;
    assert.ok(byDst.groups.some((g) => g.key === '2001:db8::1:0:0:2'), JSON.stringify(byDst.groups.slice(-3)));
    assert.equal(byDst.groups.length, 30 + 1 + 3);

    for (const by of ['protocol', 'dst_port', 'exporter_addr', 'flow_type', 'ip_version']) {
      const g = (await aggregate({ ...range(), by })).json;
      const sum = g.groups.reduce((a, x) => ({ bytes: a.bytes + x.bytes, packets: a.packets + x.packets, flows: a.flows + x.flows }), { bytes: 0, packets: 0, flows: 0 });
      assert.deepEqual(sum, want, `groups by ${by} add up to the totals`);
      assert.deepEqual(g.totals, want);
    }
    const byProto = (await aggregate({ ...range(), by: 'protocol' })).json;
    assert.deepEqual(Object.fromEntries(byProto.groups.map((g) => [g.key, g.flows])), { '6': 33, '17': 5 });
    const byExporter = (await aggregate({ ...range(), by: 'exporter_addr' })).json;
    assert.deepEqual(byExporter.groups.map((g) => g.key), ['127.0.0.1']);
    const byType = (await aggregate({ ...range(), by: 'flow_type' })).json;
    assert.deepEqual(Object.fromEntries(byType.groups.map((g) => [g.key, g.flows])), { '5': 35, '9': 3 });

    // An empty window answers zeros, not an error.
    const empty = (await aggregate({ from: 0, to: 1000, by: 'src_port' })).json;
    assert.deepEqual(empty.totals, { bytes: 0, packets: 0, flows: 0 });
    assert.deepEqual(empty.groups, []);

    // Worker counters arrive every decode.statsMs.
    await until('decode counters', async () => (metric(await metrics(), 'flowmesh_collector_decode_flows_total{protocol="netflow_v9"}') === 3 ? true : undefined));
    const m = await metrics();
    assert.equal(metric(m, 'flowmesh_collector_udp_packets_received_total{listener="netflow"}'), 2);
    assert.equal(metric(m, 'flowmesh_collector_udp_packets_received_total{listener="ipfix"}'), 1);
    assert.equal(
      metric(m, 'flowmesh_collector_udp_received_bytes_total{listener="netflow"}'),
      netflowV5(v5a, { unixSecs }).length + netflowV9(v9, { unixSecs }).length,
    );
    assert.equal(metric(m, 'flowmesh_collector_decode_flows_total{protocol="netflow_v5"}'), 35);
    assert.equal(metric(m, 'flowmesh_collector_decode_flows_total{protocol="netflow_v9"}'), 3);
    assert.equal(metric(m, 'flowmesh_collector_storage_rows_stored_total'), want.flows);
    assert.equal(metric(m, 'flowmesh_collector_storage_errors_total'), 0);
    assert.ok(metric(m, 'flowmesh_collector_udp_receive_buffer_bytes{listener="netflow"}') > 0);
    assert.ok(metric(m, 'flowmesh_collector_storage_flush_seconds_count') >= 1);
    assert.ok(m.includes('process_cpu_seconds_total'), 'default process metrics are exported');
    assert.equal(metric(m, 'flowmesh_collector_exporter_packets_total{exporter="127.0.0.1"}'), 3);
    assert.equal(metric(m, 'flowmesh_collector_exporter_flows_total{exporter="127.0.0.1"}'), want.flows);
    assert.equal(metric(m, 'flowmesh_collector_udp_kernel_drops_total{listener="netflow"}'), 0);
    assert.equal(metric(m, 'flowmesh_collector_spool_delivered_rows_total'), want.flows);
    assert.equal(metric(m, 'flowmesh_collector_spool_bytes'), 0);
    assert.equal(metric(m, 'flowmesh_collector_ingest_dropped_packets_total{reason="not_allowed"}'), 0);
    assert.equal(metric(m, 'flowmesh_collector_ingest_dropped_flows_total{reason="spool_full"}'), 0);
    assert.ok(metric(m, 'flowmesh_collector_decode_workers') >= 1);
  });

  test('bad query bodies are 400 naming the field', async () => {
    const cases: [unknown, string][] = [
      [{ from: 'yesterday', to: 1, by: null }, 'from'],
      [{ from: 0, by: null }, 'to'],
      [{ from: 0, to: 1, by: 'src_addr; DROP TABLE flowmesh.flows' }, 'by'],
      [{ from: 0, to: 1, by: 'bytes' }, 'by'],
      [{ from: 0, to: 1, limit: 5 }, 'limit'],
      [{ from: 10, to: 1 }, 'to'],
    ];
    for (const [body, field] of cases) {
      const r = await aggregate(body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.ok(r.json.fields?.includes(field), `${JSON.stringify(body)} -> ${JSON.stringify(r.json)}`);
      assert.ok(r.json.message?.some((msg) => msg.startsWith(`${field}: `)));
    }
    // still there and unchanged
    assert.equal((await aggregate({ ...range(), by: null })).json.totals.flows, want.flows);
  });

  test('a garbage datagram is counted by reason and costs only itself', async () => {
    const before = await metrics();
    const badVersion = metric(before, 'flowmesh_collector_decode_errors_total{reason="bad_version"}');
    const tooShort = metric(before, 'flowmesh_collector_decode_errors_total{reason="too_short"}');
    await send(ports.netflow, [Buffer.from('\x00\x63 this is not a flow export'), Buffer.from([5])]);
    await until('the errors to be counted', async () => {
      const m = await metrics();
      return metric(m, 'flowmesh_collector_decode_errors_total{reason="bad_version"}') === badVersion + 1 &&
        metric(m, 'flowmesh_collector_decode_errors_total{reason="too_short"}') === tooShort + 1
        ? true
        : undefined;
    });
    assert.equal((await fetch(`${base()}/healthz`)).status, 200);
    assert.equal(node.exitCode, null);
    const agg = (await aggregate({ ...range(), by: null })).json;
    assert.deepEqual(agg.totals, want, 'nothing stored for garbage');
  });

  test('Redis going away shows in /readyz, collecting continues, and the node re-registers when it returns', async () => {
    const probe = new Redis(`redis://127.0.0.1:${redisPort}`, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await probe.connect();
    assert.ok((await probe.smembers(REDIS_KEYS.nodes)).includes(NODE_ID));
    const stored = JSON.parse((await probe.hget(REDIS_KEYS.node(NODE_ID), 'info'))!) as { apiUrl: string; listeners: { port: number }[] };
    assert.equal(stored.apiUrl, `http://127.0.0.1:${httpPort}`);
    assert.deepEqual(stored.listeners.map((l) => l.port).sort(), Object.values(ports).sort());
    probe.disconnect();

    await stopProcess(redis, 'SIGKILL');
    const down = await until('readyz 503', async () => {
      const r = await fetch(`${base()}/readyz`);
      const body = r.status === 503 ? ((await r.json()) as { reason: string }) : undefined;
      return body?.reason.includes('ECONNREFUSED') ? body : undefined; // first 'connection lost', then the cause
    });
    assert.match(down.reason, /^redis: unreachable \(ECONNREFUSED\) — collecting continues$/);

    // Still collecting while Redis is away.
    const extra: TestFlow[] = [{ src: '10.9.9.9', dst: '10.8.8.8', srcPort: 1, dstPort: 2, protocol: 6, bytes: 111, packets: 1 }];
    await send(ports.netflow, [netflowV5(extra, { unixSecs, sequence: 35 })]);
    want.flows += 1;
    want.bytes += 111;
    want.packets += 1;
    await until('the flow received during the outage to be stored', async () =>
      (await aggregate({ ...range(), by: null })).json.totals.flows === want.flows ? true : undefined,
    );

    redis = startRedis(redisPort); // empty: it kept nothing (--save '')
    await until('readyz 200 again', async () => ((await fetch(`${base()}/readyz`)).status === 200 ? true : undefined));
    const again = new Redis(`redis://127.0.0.1:${redisPort}`, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await again.connect();
    try {
      assert.ok((await again.smembers(REDIS_KEYS.nodes)).includes(NODE_ID), 'registered again in the new (empty) Redis');
      const hb = await until('a heartbeat', async () => {
        const raw = await again.hget(REDIS_KEYS.node(NODE_ID), 'heartbeat');
        return raw ? (JSON.parse(raw) as { ready: boolean; flows: number; storedRows: number; packets: number }) : undefined;
      });
      assert.equal(hb.ready, true);
      assert.equal(hb.flows, want.flows);
      assert.equal(hb.storedRows, want.flows);
    } finally {
      again.disconnect();
    }
  });

  test('stored flows survive a restart on the same data directory', async () => {
    const beforeRestart = (await aggregate({ ...range(), by: 'src_addr' })).json;
    const code = await stopProcess(node, 'SIGTERM');
    assert.equal(code, 0, `clean exit after SIGTERM: ${nodeStderr.slice(-2000)}`);
    assert.match(nodeStderr, /"msg":"node stopped"/);
    await startNode();
    const afterRestart = (await aggregate({ ...range(), by: 'src_addr' })).json;
    assert.deepEqual(afterRestart.totals, want);
    assert.deepEqual(afterRestart.groups, beforeRestart.groups);
    const m = await metrics();
    assert.equal(metric(m, 'flowmesh_collector_storage_rows_stored_total'), 0, 'counters are per process');
  });

  test('the last partial batch is flushed on SIGTERM', async () => {
    // batchMs of a minute: only the shutdown flush can write this row.
    assert.equal(await stopProcess(node, 'SIGTERM'), 0);
    await startNode(60_000);
    const last: TestFlow[] = [{ src: '10.7.7.7', dst: '10.6.6.6', srcPort: 7, dstPort: 7, protocol: 17, bytes: 777, packets: 7 }];
    await send(ports.netflow, [netflowV5(last, { unixSecs, sequence: 36 })]);
    await until('the datagram to be decoded', async () =>
      metric(await metrics(), 'flowmesh_collector_decode_flows_total{protocol="netflow_v5"}') === 1 ? true : undefined,
    );
    await sleep(200);
    assert.equal((await aggregate({ ...range(), by: null })).json.totals.flows, want.flows, 'not written before batchMs');
    assert.equal(await stopProcess(node, 'SIGTERM'), 0);
    await startNode();
    const agg = (await aggregate({ ...range(), by: null })).json;
    assert.equal(agg.totals.flows, want.flows + 1);
    assert.equal(agg.totals.bytes, want.bytes + 777);
  });

  test('SIGKILL mid-ingest: after a restart every flow that reached the spool is stored exactly once', async () => {
    const spoolDir = join(dataDir, NODE_ID, 'spool');
    assert.equal(await stopProcess(node, 'SIGTERM'), 0);
    await startNode(50, ['storage.batchRows=1000', 'spool.fsync=true']);
    const base = (await aggregate({ ...range(), by: null })).json.totals.flows;
    // Every flow unique: 10.100.x.y / src_port k.
    const flowAt = (k: number): TestFlow => ({ src: `10.100.${(k >> 8) & 255}.${k & 255}`, dst: '192.0.2.200', srcPort: k & 0xffff, dstPort: 80, protocol: 6, bytes: 100, packets: 1 });
    const tx = createSocket('udp4');
    let sent = 0;
    let appendedAtLastScrape = 0;
    let killed = false;
    const sender = (async () => {
      for (let p = 0; p < 2000 && !killed; p++) {
        const batch = Array.from({ length: 30 }, (_, i) => flowAt(p * 30 + i));
        await new Promise<void>((r) => tx.send(netflowV5(batch, { unixSecs, sequence: p * 30 }), ports.netflow, '127.0.0.1', () => r()));
        sent += 30;
        if (p % 50 === 49) await sleep(5);
      }
    })();
    await until('ingest under way', async () => {
      const m = await metrics();
      appendedAtLastScrape = metric(m, 'flowmesh_collector_spool_appended_rows_total');
      return appendedAtLastScrape >= 6000 ? true : undefined;
    }, 20_000);
    process.kill(node.pid!, 'SIGKILL');
    killed = true;
    await new Promise((r) => node.once('exit', r));
    await sender;
    tx.close();
    const unacked = inspectSpool(spoolDir);
    const unackedRows = unacked.reduce((n, e) => n + e.rows, 0);

    await startNode(50);
    // Each replayed batch costs a committed(id) look-up and an INSERT: on a loaded 2-core machine ~1 s each.
    await until('the spool replayed', async () => (metric(await metrics(), 'flowmesh_collector_spool_entries') === 0 ? true : undefined), 180_000);
    const m = await metrics();
    assert.equal(
      metric(m, 'flowmesh_collector_spool_replayed_total') + metric(m, 'flowmesh_collector_spool_skipped_committed_total'),
      unacked.length,
      'every unacknowledged batch was looked up and inserted or skipped',
    );
    const bySrc = (await aggregate({ ...range(), by: 'src_addr' })).json;
    const mine = bySrc.groups.filter((g) => g.key.startsWith('10.100.'));
    assert.equal(mine.filter((g) => g.flows !== 1).length, 0, 'no flow stored twice');
    assert.equal(bySrc.totals.flows - base, mine.length);
    assert.ok(mine.length >= appendedAtLastScrape, `stored ${mine.length} >= ${appendedAtLastScrape} appended before the kill`);
    assert.ok(mine.length <= sent);
    diag(`sent ${sent}, appended before the last scrape ${appendedAtLastScrape}, unacked at kill ${unacked.length} batches / ${unackedRows} rows, stored ${mine.length}`);

    // Batch by batch, straight from the node's chDB once it is stopped: each spooled batch is there, once.
    assert.equal(await stopProcess(node, 'SIGTERM'), 0);
    const session = new Session(join(dataDir, NODE_ID, 'chdb'));
    try {
      const q = async (sql: string) => (await session.queryAsync(sql, { format: 'TabSeparated' })).text().trim();
      const perBatch = new Map(
        (await q(`SELECT lower(hex(batch_id)), count() FROM flowmesh.flows GROUP BY batch_id`))
          .split('\n')
          .filter(Boolean)
          .map((l) => l.split('\t'))
          .map(([id, c]) => [id.padStart(16, '0'), Number(c)] as const),
      );
      for (const e of unacked) assert.equal(perBatch.get(e.id), e.rows, `batch ${e.id}: ${e.rows} rows, stored once`);
      assert.equal(await q(`SELECT count() FROM flowmesh.flows WHERE startsWith(IPv6NumToString(src_addr), '::ffff:10.100.')`), String(mine.length));
      assert.equal(await q(`SELECT count() FROM (SELECT batch_id, src_addr, src_port, count() AS c FROM flowmesh.flows WHERE startsWith(IPv6NumToString(src_addr), '::ffff:10.100.') GROUP BY batch_id, src_addr, src_port HAVING c > 1)`), '0');
    } finally {
      session.close();
    }
  });
});
