/**
 * The real collector node as an OS process: real UDP, real chDB on a temp data directory, a real
 * redis-server this test starts on a free port (never the machine's 6379). Proves what the node answers
 * equals what was sent, that the counters say the same, that garbage costs only itself, that Redis going
 * away shows in /readyz and the node re-registers when it returns, and that data survives a restart.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { findRepoRoot } from '@flowmesh/common';
import { REDIS_KEYS } from '@flowmesh/config-sync';
import { netflowV5, netflowV9, TestFlow } from './testing/netflow-packets';

const NODE_ID = 'int-node-1';
const mainJs = join(__dirname, 'main.js'); // the compiled entry beside this compiled spec
const started: ChildProcess[] = [];

function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
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

async function stopProcess(p: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', ms = 15_000): Promise<number | null> {
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

  async function startNode(batchMs = 100): Promise<void> {
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
    [redisPort, httpPort] = [await freeTcpPort(), await freeTcpPort()];
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
});
