import 'reflect-metadata';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { NodeHeartbeat, NodeInfo, REDIS_KEYS } from '@flowmesh/config-sync';

/*
 * The real master as its own OS process, against a redis-server this test starts, with node
 * entries in Redis pointing at tiny HTTP servers that implement the aggregate contract with known data.
 */

type Group = { key: string; bytes: number; packets: number; flows: number };
type Partial = { totals: { bytes: number; packets: number; flows: number }; groups: Group[] };

// Locally n1's top-1 is 10.0.0.1 and n2's is 10.0.0.2; merged, 10.0.0.3 (90 + 90) leads.
const DATA: Record<string, Partial> = {
  n1: {
    totals: { bytes: 195, packets: 19, flows: 7 },
    groups: [
      { key: '10.0.0.1', bytes: 100, packets: 10, flows: 3 },
      { key: '10.0.0.3', bytes: 90, packets: 8, flows: 3 },
      { key: '10.0.0.4', bytes: 5, packets: 1, flows: 1 },
    ],
  },
  n2: {
    totals: { bytes: 191, packets: 18, flows: 6 },
    groups: [
      { key: '10.0.0.2', bytes: 100, packets: 9, flows: 2 },
      { key: '10.0.0.3', bytes: 90, packets: 8, flows: 3 },
      { key: '10.0.0.5', bytes: 1, packets: 1, flows: 1 },
    ],
  },
};
const DIMENSIONS = ['src_addr', 'dst_addr', 'src_port', 'dst_port', 'protocol', 'exporter_addr', 'next_hop', 'in_if', 'out_if', 'src_as', 'dst_as', 'tos', 'ip_version', 'flow_type'];
const TIMEOUT_MS = 700;
const MAX_TOP_N = 50;

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

function alive(p: ChildProcess | undefined): p is ChildProcess {
  return !!p && p.exitCode === null && p.signalCode === null;
}

interface FakeNode {
  id: string;
  server: Server;
  apiUrl: string;
  requests: Array<{ from: number; to: number; by: string | null }>;
}

/** Implements POST /internal/v1/aggregate with fixed data (delayMs > 0: answers too late). */
async function fakeNode(id: string, delayMs = 0): Promise<FakeNode> {
  const node: FakeNode = { id, server: undefined as unknown as Server, apiUrl: '', requests: [] };
  node.server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/internal/v1/aggregate') return void res.writeHead(404).end();
      const body = JSON.parse(text) as { from: number; to: number; by: string | null };
      node.requests.push(body);
      if (!Number.isInteger(body.from) || !Number.isInteger(body.to) || (body.by !== null && !DIMENSIONS.includes(body.by))) {
        return void res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ message: ['by: bad'] }));
      }
      const data = DATA[id] ?? { totals: { bytes: 1, packets: 1, flows: 1 }, groups: [{ key: '10.9.9.9', bytes: 1, packets: 1, flows: 1 }] };
      const send = () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ node: id, ...data, elapsedMs: 1 }));
      if (delayMs) setTimeout(send, delayMs).unref();
      else send();
    });
  });
  await new Promise<void>((r) => node.server.listen(0, '127.0.0.1', r));
  node.apiUrl = `http://127.0.0.1:${(node.server.address() as AddressInfo).port}`;
  return node;
}

function info(id: string, apiUrl: string): NodeInfo {
  return {
    id,
    version: '0.1.0-test',
    hostname: `host-${id}`,
    group: 'edge',
    apiUrl,
    addresses: ['127.0.0.1'],
    listeners: [
      { protocol: 'netflow', address: '0.0.0.0', port: 2055 },
      { protocol: 'ipfix', address: '0.0.0.0', port: 4739 },
    ],
    startedAt: '2024-05-01T10:00:00.000Z',
    pid: 4242,
  };
}

function heartbeat(at: number): NodeHeartbeat {
  return {
    at, ready: true, packets: 1000, flows: 25_000, storedRows: 24_000, decodeErrors: 3, packetsPerSecond: 12.5, flowsPerSecond: 300,
    droppedPackets: 7, droppedFlows: 40, kernelDrops: 2, spoolBytes: 4096, spoolAgeSeconds: 1.5,
  };
}

describe('flowmesh master command line', () => {
  test('a bad configuration exits 2 naming the key; --check passes a good one', () => {
    const main = join(__dirname, 'main.js');
    const bad = spawnSync(process.execPath, [main, 'master', '--set', 'http.port=70000', '--set', 'query.maxTopN=0'], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /http\.port: must not be greater than 65535/);
    assert.match(bad.stderr, /query\.maxTopN: must not be less than 1/);
    const good = spawnSync(process.execPath, [main, 'master', '--check', '--set', 'query.timeoutMs=2500'], { encoding: 'utf8' });
    assert.equal(good.status, 0, good.stderr);
    const dump = spawnSync(process.execPath, [main, 'master', '--dump', '--set', 'query.timeoutMs=2500'], { encoding: 'utf8' });
    assert.equal((JSON.parse(dump.stdout) as { query: { timeoutMs: number } }).query.timeoutMs, 2500);
  });
});

describe('master (real process, real Redis)', () => {
  let work: string;
  let redisProc: ChildProcess | undefined;
  let master: ChildProcess | undefined;
  let masterErr = '';
  let redis: Redis;
  let base: string;
  const nodes: Record<string, FakeNode> = {};
  const live = ['n1', 'n2', 'n3', 'n5'];

  async function beatAll(): Promise<void> {
    const now = Date.now();
    for (const id of live) await redis.hset(REDIS_KEYS.node(id), 'heartbeat', JSON.stringify(heartbeat(now)));
  }

  async function post(path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
    const res = await fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  }

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'flowmesh-master-int-'));
    const redisPort = await freePort();
    redisProc = spawn('/usr/bin/redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    redis = new Redis(`redis://127.0.0.1:${redisPort}`, { maxRetriesPerRequest: 1, retryStrategy: () => 100 });
    redis.on('error', () => undefined);
    await until('redis-server', async () => ((await redis.ping()) === 'PONG' ? true : undefined));

    for (const id of ['n1', 'n2', 'n3', 'n4']) nodes[id] = await fakeNode(id);
    nodes.n5 = await fakeNode('n5', 3000);
    // n3 is registered and heartbeating, but its API server is gone.
    nodes.n3.server.closeAllConnections();
    await new Promise((r) => nodes.n3.server.close(r));
    for (const n of Object.values(nodes)) {
      await redis.sadd(REDIS_KEYS.nodes, n.id);
      await redis.hset(REDIS_KEYS.node(n.id), 'info', JSON.stringify(info(n.id, n.apiUrl)));
    }
    // n4's last heartbeat is a minute old: down.
    await redis.hset(REDIS_KEYS.node('n4'), 'heartbeat', JSON.stringify(heartbeat(Date.now() - 60_000)));
    await beatAll();

    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FLOWMESH_MASTER_') && k !== 'REDIS_URL'));
    master = spawn(
      process.execPath,
      [
        join(__dirname, 'main.js'), 'master',
        '--set', `http.port=${port}`, '--set', 'http.host=127.0.0.1', '--set', `dataDir=${join(work, 'data')}`,
        '--set', `redis.url=redis://127.0.0.1:${redisPort}`, '--set', `query.timeoutMs=${TIMEOUT_MS}`,
        '--set', `query.maxTopN=${MAX_TOP_N}`, '--set', 'query.maxConcurrency=1',
      ],
      { env, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    master.stderr!.on('data', (c: Buffer) => (masterErr += c.toString()));
    await until('master /readyz', async () => {
      if (!alive(master)) throw new Error(`master exited: ${masterErr}`);
      return (await fetch(base + '/readyz')).status === 200 ? true : undefined;
    });
  });

  after(async () => {
    if (alive(master)) master.kill('SIGKILL');
    if (alive(redisProc)) redisProc.kill('SIGKILL');
    redis?.disconnect();
    for (const n of Object.values(nodes)) {
      n.server.closeAllConnections();
      n.server.close();
    }
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('/healthz and /readyz answer 200', async () => {
    assert.equal((await fetch(base + '/healthz')).status, 200);
    const ready = await fetch(base + '/readyz');
    assert.equal(ready.status, 200);
    assert.equal(((await ready.json()) as { status: string }).status, 'ok');
  });

  test('GET /api/v1/nodes shows every registered node with status, ports, rates and totals', async () => {
    await beatAll();
    const res = await fetch(base + '/api/v1/nodes');
    assert.equal(res.status, 200);
    const body = (await res.json()) as { nodes: Array<Record<string, unknown>>; up: number; down: number };
    assert.deepEqual(body.nodes.map((n) => [n.id, n.status]), [['n1', 'up'], ['n2', 'up'], ['n3', 'up'], ['n4', 'down'], ['n5', 'up']]);
    assert.equal(body.up, 4);
    assert.equal(body.down, 1);
    const n1 = body.nodes[0];
    assert.equal(n1.group, 'edge');
    assert.equal(n1.apiUrl, nodes.n1.apiUrl);
    assert.deepEqual(n1.addresses, ['127.0.0.1']);
    assert.deepEqual((n1.listeners as Array<{ port: number }>).map((l) => l.port), [2055, 4739]);
    assert.equal(n1.version, '0.1.0-test');
    assert.equal(n1.startedAt, '2024-05-01T10:00:00.000Z');
    assert.ok(Math.abs(Date.parse(n1.lastHeartbeat as string) - Date.now()) < 10_000, String(n1.lastHeartbeat));
    assert.deepEqual(n1.ingest, { flowsPerSecond: 300, packetsPerSecond: 12.5 });
    assert.deepEqual(n1.totals, { packets: 1000, flows: 25_000, storedRows: 24_000, decodeErrors: 3 });
    assert.deepEqual(n1.loss, { droppedPackets: 7, droppedFlows: 40, kernelDrops: 2, spoolBytes: 4096, spoolAgeSeconds: 1.5 });
    assert.equal(body.nodes[3].ready, false);
  });

  test('POST /api/v1/query merges the nodes exactly (the global top key is in no local top-1)', async () => {
    await beatAll();
    nodes.n1.requests.length = 0;
    const { status, json } = await post('/api/v1/query', { from: '2024-05-01T10:00:00Z', to: '2024-05-01T11:00:00Z', by: 'src_addr', top: 1, nodes: ['n1', 'n2'] });
    assert.equal(status, 200, JSON.stringify(json));
    assert.deepEqual(nodes.n1.requests, [{ from: Date.parse('2024-05-01T10:00:00Z'), to: Date.parse('2024-05-01T11:00:00Z'), by: 'src_addr' }]);
    assert.equal(json.from, '2024-05-01T10:00:00.000Z');
    assert.equal(json.to, '2024-05-01T11:00:00.000Z');
    assert.equal(json.by, 'src_addr');
    assert.equal(json.orderBy, 'bytes');
    assert.deepEqual(json.top, [{ key: '10.0.0.3', bytes: 180, packets: 16, flows: 6 }]);
    assert.deepEqual(json.totals, { bytes: 386, packets: 37, flows: 13 });
    assert.deepEqual(json.other, { bytes: 206, packets: 21, flows: 7 });
    assert.equal(json.partial, false);
    assert.deepEqual((json.nodes as Array<{ id: string; status: string }>).map((n) => [n.id, n.status]), [['n1', 'ok'], ['n2', 'ok']]);
    assert.equal(typeof json.elapsedMs, 'number');
  });

  test('nodes that are down, unreachable or too slow are named and make the answer partial', async () => {
    await beatAll();
    const { status, json } = await post('/api/v1/query', { top: 3, orderBy: 'packets' });
    assert.equal(status, 200, JSON.stringify(json));
    assert.equal(json.partial, true);
    const byId = Object.fromEntries((json.nodes as Array<{ id: string; status: string; error?: string }>).map((n) => [n.id, n]));
    assert.deepEqual(Object.keys(byId).sort(), ['n1', 'n2', 'n3', 'n4', 'n5']);
    assert.equal(byId.n1.status, 'ok');
    assert.equal(byId.n2.status, 'ok');
    assert.equal(byId.n3.status, 'error');
    assert.match(byId.n3.error ?? '', /ECONNREFUSED|fetch failed/);
    assert.equal(byId.n4.status, 'down');
    assert.equal(byId.n5.status, 'timeout');
    assert.deepEqual(json.top, [
      { key: '10.0.0.3', bytes: 180, packets: 16, flows: 6 },
      { key: '10.0.0.1', bytes: 100, packets: 10, flows: 3 },
      { key: '10.0.0.2', bytes: 100, packets: 9, flows: 2 },
    ]);
    assert.deepEqual(json.totals, { bytes: 386, packets: 37, flows: 13 });
    // Relative defaults: the last hour up to now.
    assert.ok(Math.abs(Date.parse(json.to as string) - Date.now()) < 10_000);
    assert.equal(Date.parse(json.to as string) - Date.parse(json.from as string), 3_600_000);
  });

  test('a bad body is a 400 naming the field', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ top: 0 }, /^top: /],
      [{ top: MAX_TOP_N + 1 }, /^top: must not be greater than 50/],
      [{ by: 'payload' }, /^by: must be one of/],
      [{ from: 'yesterday' }, /^from: /],
      [{ from: '-1h', to: '-2h' }, /^from: must be before to/],
      [{ orderBy: 'octets' }, /^orderBy: /],
      [{ filter: 'tcp' }, /^filter: unknown key/],
    ];
    for (const [body, expected] of cases) {
      const { status, json } = await post('/api/v1/query', body);
      assert.equal(status, 400, JSON.stringify(body));
      assert.ok((json.message as string[]).some((m) => expected.test(m)), `${JSON.stringify(body)} -> ${JSON.stringify(json.message)}`);
    }
  });

  test('more queries than query.maxConcurrency are refused with 429', async () => {
    await beatAll();
    const slow = post('/api/v1/query', { nodes: ['n5'] });
    await new Promise((r) => setTimeout(r, 200));
    const second = await post('/api/v1/query', { nodes: ['n1'] });
    assert.equal(second.status, 429);
    assert.match(String(second.json.message), /maxConcurrency=1/);
    const first = await slow;
    assert.equal(first.status, 200);
    assert.equal(first.json.partial, true);
  });

  test('/metrics exposes query counters, latency and registry gauges', async () => {
    const text = await (await fetch(base + '/metrics')).text();
    const value = (series: string) => Number(new RegExp(`^${series.replace(/[{}"]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);
    assert.ok(value('flowmesh_master_query_requests_total{status="ok"}') >= 1);
    assert.ok(value('flowmesh_master_query_requests_total{status="partial"}') >= 2);
    assert.ok(value('flowmesh_master_query_requests_total{status="invalid"}') >= 7);
    assert.ok(value('flowmesh_master_query_requests_total{status="overloaded"}') >= 1);
    assert.ok(value('flowmesh_master_query_duration_seconds_count') >= 10);
    assert.equal(value('flowmesh_master_registry_nodes{status="down"}'), 1);
    assert.match(text, /^process_cpu_user_seconds_total /m);
  });

  test('without Redis /readyz is 503 naming it, /healthz stays 200, and SIGTERM stops the master', async () => {
    redisProc!.kill('SIGKILL');
    await until('redis-server to exit', async () => (alive(redisProc) ? undefined : true));
    const body = await until('/readyz 503', async () => {
      const res = await fetch(base + '/readyz');
      return res.status === 503 ? ((await res.json()) as { reason: string }) : undefined;
    });
    assert.match(body.reason, /registry: redis redis:\/\/127\.0\.0\.1:\d+ is not reachable/);
    assert.equal((await fetch(base + '/healthz')).status, 200);
    assert.equal((await fetch(base + '/api/v1/nodes')).status, 503);

    const exited = new Promise<number | null>((r) => master!.once('exit', (code) => r(code)));
    master!.kill('SIGTERM');
    assert.equal(await exited, 0, masterErr.slice(-2000));
  });
});
