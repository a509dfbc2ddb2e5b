import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, startProcess, startRedis, Started, stopProcess, waitUntil } from '@flowmesh/testing';

/*
 * Real processes: Redis, three collector nodes (n1 and n2 each hold half of the flows, `ref` holds all of
 * them) and the master. Federated answers over n1+n2 must equal the answers over `ref` alone.
 */
const FLOWS = 60_000;
const HOURS = 2;
/** Recent, whole hours (older data would fall to the stores' retention). */
const T0 = Math.floor(Date.now() / 3_600_000) * 3600 - (HOURS + 1) * 3600;
const FROM = new Date(T0 * 1000).toISOString();
const TO = new Date((T0 + HOURS * 3600) * 1000).toISOString();

type Answer = Record<string, unknown> & { partial: boolean; nodes: Array<{ id: string; status: string }>; flows?: Array<Record<string, unknown>>; nextCursor?: string | null };

describe('federated query API (real nodes and master)', () => {
  const build = resolve(__dirname, '..', '..');
  const work = mkdtempSync(join(tmpdir(), 'flowmesh-query-int-'));
  const procs: Started[] = [];
  const nodeProcs: Record<string, Started> = {};
  let api = '';
  let base = '';

  async function post(path: string, body: unknown): Promise<{ status: number; text: string; json: () => Answer }> {
    const res = await fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, text, json: () => JSON.parse(text) as Answer };
  }
  const fed = (q: Record<string, unknown>) => post('/api/v2/query', { from: FROM, to: TO, ...q, nodes: ['n1', 'n2'] });
  const ref = (q: Record<string, unknown>) => post('/api/v2/query', { from: FROM, to: TO, ...q, nodes: ['ref'] });
  const strip = (a: Answer) => {
    const { nodes: _n, elapsedMs: _e, nextCursor: _c, ...rest } = a;
    if (rest.flows) rest.flows = (rest.flows as Array<Record<string, unknown>>).map(({ node: _x, ...f }) => f);
    return rest;
  };

  before(async () => {
    const redis = await startRedis();
    procs.push(redis.proc);
    const ports: Record<string, number> = {};
    const startNode = async (id: string) => {
      ports[id] ??= await freePort();
      const p = startProcess(process.execPath, [
        join(build, 'apps/collector-node/src/main.js'), 'node', '--set', `id=${id}`, '--set', `dataDir=${work}`, '--set', `http.port=${ports[id]}`,
        '--set', 'http.host=127.0.0.1', '--set', `redis.url=${redis.url}`, '--set', 'heartbeatMs=500',
        ...['netflow', 'ipfix', 'sflow'].flatMap((l) => ['--set', `listeners.${l}.port=0`, '--set', `listeners.${l}.address=127.0.0.1`]),
      ]);
      await waitUntil(`node ${id}`, async () => (await fetch(`http://127.0.0.1:${ports[id]}/readyz`).catch(() => undefined))?.status === 200, 60_000);
      return p;
    };
    await Promise.all(['n1', 'n2', 'ref'].map(async (id) => stopProcess((await startNode(id)).child)));
    const gen = join(build, 'benchmarks/query/query.bench.js');
    for (const [id, first, count] of [['n1', 0, FLOWS / 2], ['n2', FLOWS / 2, FLOWS / 2], ['ref', 0, FLOWS]] as const) {
      const r = spawnSync(process.execPath, [gen, '--generate', join(work, id, 'chdb'), String(first), String(count), String(HOURS), '--flows', String(FLOWS), '--t0', String(T0)], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
    }
    for (const id of ['n1', 'n2', 'ref']) procs.push((nodeProcs[id] = await startNode(id)));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    api = `${base}/api/v2/query`;
    procs.push(
      startProcess(process.execPath, [
        join(build, 'apps/master/src/main.js'), 'master', '--set', `http.port=${port}`, '--set', 'http.host=127.0.0.1', '--set', `dataDir=${join(work, 'master')}`,
        '--set', `redis.url=${redis.url}`, '--set', 'query.timeoutMs=5000', '--set', 'nodeDownAfterMs=1500',
      ]),
    );
    await waitUntil('3 nodes answer through the master', async () => {
      const r = await fetch(api, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ from: FROM, to: TO, groupBy: [] }) }).catch(() => undefined);
      if (!r || r.status !== 200) return false;
      const a = (await r.json()) as Answer;
      if (a.nodes.filter((n) => n.status === 'ok').length === 3) return true;
      throw new Error(JSON.stringify(a.nodes).slice(0, 600));
    }, 60_000);
  });

  after(async () => {
    for (const p of procs.reverse()) await stopProcess(p.child).catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  });

  test('filtered top-N with other and totals: two nodes == one store', async () => {
    for (const q of [
      { filter: 'src net 10.0.0.0/16 and dst port 443', groupBy: ['src_addr'], top: 10 },
      { filter: 'proto udp or port 22', groupBy: ['dst_addr', 'protocol'], top: 7, orderBy: 'packets', metrics: ['bytes', 'packets', 'flows', 'pps'] },
      { filter: 'not exporter 10.0.0.1', groupBy: ['src_as'], top: 5, orderBy: 'distinct_src_addr', metrics: ['bytes', 'distinct_src_addr'] },
    ]) {
      const a = await fed(q);
      const b = await ref(q);
      assert.equal(a.status, 200, a.text);
      const ja = a.json();
      assert.equal(ja.partial, false);
      assert.deepEqual(strip(ja), strip(b.json()));
      assert.equal((ja.rows as unknown[]).length, q.top);
      assert.ok((ja.totals as Record<string, number>).bytes > 0);
    }
  });

  test('top talkers from the hourly address rollups equal the raw table\'s answer (and one store)', async () => {
    // Whole hours read flows_src_1h / flows_dst_1h (a half hour at an edge: raw); `bytes >= 0` (true for every flow) forces the raw table.
    const hourAligned = { from: new Date(T0 * 1000).toISOString(), to: new Date((T0 + HOURS * 3600) * 1000).toISOString() };
    for (const [q, raw] of [
      [{ groupBy: ['src_addr'], top: 10 }, 'bytes >= 0'],
      [{ filter: 'dst net 192.168.0.0/24 and exporter 10.0.0.1', groupBy: ['dst_addr'], top: 5, orderBy: 'flows' }, 'dst net 192.168.0.0/24 and exporter 10.0.0.1 and bytes >= 0'],
      [{ filter: 'src net 10.0.0.0/16', groupBy: ['src_addr', 'exporter_addr'], top: 8, from: new Date((T0 + 1800) * 1000).toISOString() }, 'src net 10.0.0.0/16 and bytes >= 0'],
    ] as const) {
      const talkers = { ...hourAligned, ...q };
      const a = await fed(talkers);
      assert.equal(a.status, 200, a.text);
      const viaRaw = await fed({ ...talkers, filter: raw });
      const tables = (x: Answer) => (x.plan as { segments: Array<{ table: string }> }).segments.map((seg) => seg.table);
      assert.ok(tables(a.json()).includes(q.groupBy[0] === 'src_addr' ? 'flows_src_1h' : 'flows_dst_1h'), JSON.stringify(a.json().plan));
      assert.deepEqual([...new Set(tables(viaRaw.json()))], ['flows']);
      for (const n of a.json().nodes as unknown as Array<{ tables: string[] }>) assert.ok(n.tables.includes(tables(a.json()).find((t) => t !== 'flows')!), 'each node read the address rollup');
      assert.deepEqual(strip(a.json()).rows, strip(viaRaw.json()).rows, JSON.stringify(q));
      assert.deepEqual(strip(a.json()).totals, strip(viaRaw.json()).totals, JSON.stringify(q));
      assert.deepEqual(strip(a.json()), strip((await ref(talkers)).json()));
      assert.equal((a.json().rows as unknown[]).length, q.top);
    }
  });

  test('time series (rollups and raw) equal one store; every bucket present', async () => {
    for (const q of [{ mode: 'series', interval: '5m', groupBy: ['protocol'], top: 2 }, { mode: 'series', interval: '10m', filter: 'dst port 443', groupBy: [] }]) {
      const a = (await fed(q)).json();
      assert.deepEqual(strip(a), strip((await ref(q)).json()));
      const points = a.series as Array<{ t: string }>;
      assert.equal(new Set(points.map((p) => p.t)).size, (HOURS * 3600) / (q.interval === '5m' ? 300 : 600));
    }
  });

  test('flow listing: cursor pages over two nodes give the one-store listing, in order, each flow once', async () => {
    const q = { mode: 'flows', filter: 'dst port 80 and proto udp and bytes > 1200', sort: 'bytes', order: 'desc', limit: 97 };
    const walk = async (ask: (q: Record<string, unknown>) => ReturnType<typeof fed>) => {
      const out: unknown[] = [];
      let cursor: string | undefined;
      for (let i = 0; i < 200; i++) {
        const page = (await ask({ ...q, ...(cursor ? { cursor } : {}) })).json();
        out.push(...strip(page).flows as unknown[]);
        if (!page.nextCursor) break;
        cursor = page.nextCursor;
      }
      return out;
    };
    const a = await walk(fed);
    const b = await walk(ref);
    assert.ok(a.length > 500, `only ${a.length} flows`);
    assert.deepEqual(a, b);
  });

  test('CSV and NDJSON export stream every row of the listing', async () => {
    const q = { from: FROM, to: TO, mode: 'flows', filter: 'dst port 80 and proto udp and bytes > 1200', sort: 'time_received', order: 'asc', nodes: ['n1', 'n2'] };
    const nd = await post('/api/v2/query/export', { ...q, format: 'ndjson' });
    assert.equal(nd.status, 200);
    const lines = nd.text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const csv = await post('/api/v2/query/export', { ...q, format: 'csv' });
    const rows = csv.text.trim().split('\n');
    assert.match(rows[0], /^node,time_received,flow_start,flow_end,src_addr,dst_addr,src_port,dst_port,protocol,bytes/);
    assert.equal(rows.length - 1, lines.length);
    const count = (await fed({ groupBy: [], filter: q.filter })).json().totals as Record<string, number>;
    assert.equal(lines.length, count.flows);
    const agg = await post('/api/v2/query/export', { from: FROM, to: TO, groupBy: ['protocol'], format: 'csv' });
    assert.match(agg.text, /^protocol,bytes,packets,flows\n/);
    assert.match(agg.text, /\n\(total\),/);
  });

  test('a filter syntax error is a 400 with position and expected tokens', async () => {
    const r = await fed({ filter: 'src net 10.0.0.0/8 and dst port abc' });
    assert.equal(r.status, 400);
    const body = JSON.parse(r.text) as { filter: { position: number; expected: string[] }; message: string[] };
    assert.equal(body.filter.position, 32);
    assert.ok(body.filter.expected.includes('<port number>'));
    assert.match(body.message[0], /^filter: at 32: /);
    assert.equal((await fed({ filter: 'channel web' })).status, 400);
  });

  test('hostile filters and bodies over HTTP: never a 500', async () => {
    const hostile = [
      "'; DROP TABLE flowmesh.flows; --", 'src ip 10.0.0.1\') OR 1=1 --', '\\', '"', '((((((((((', 'not '.repeat(100) + 'any', 'port 99999999999999999999',
      'src net 10.0.0.0/33', '\u0000\u0001', 'ﬁ ip ::1', 'x'.repeat(20_000), 'ip in [' + '10.0.0.1 '.repeat(5000) + ']', 'bytes > 1t', 'flags XYZ',
      'host ::ffff:10.0.0.1 or net 2001:db8::/129', 'port in []', 'proto 256', 'src as 4294967296',
    ];
    let seed = 5;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const words = ['src', 'dst', 'ip', 'net', 'port', 'proto', 'and', 'or', 'not', '(', ')', '10.0.0.1', '10/8', '443', 'tcp', '[', ']', 'in', '>', 'bytes', '1k', 'as', 'if', "'", ';', 'exporter', 'flags', 'SA'];
    for (let i = 0; i < 120; i++) hostile.push(Array.from({ length: 1 + Math.floor(rnd() * 8) }, () => words[Math.floor(rnd() * words.length)]).join(rnd() < 0.8 ? ' ' : ''));
    const modes = ['aggregate', 'series', 'flows'];
    for (const [i, filter] of hostile.entries()) {
      const r = await fed({ filter, mode: modes[i % 3], groupBy: i % 3 === 2 ? [] : ['src_addr'] });
      assert.ok(r.status === 200 || r.status === 400, `${JSON.stringify(filter).slice(0, 80)} -> ${r.status} ${r.text.slice(0, 200)}`);
      if (r.status === 200) assert.equal(r.json().partial, false, r.text.slice(0, 300));
    }
    for (const body of [[], 'x', { groupBy: 'src_addr' }, { top: -1 }, { metrics: [] }, { cursor: 'not-a-cursor', mode: 'flows' }, { from: 'yesterday' }, { sort: 'payload', mode: 'flows' }, { interval: '7m', mode: 'series' }, { extra: 1 }]) {
      const r = await post('/api/v2/query', body);
      assert.equal(r.status, 400, `${JSON.stringify(body)} -> ${r.status} ${r.text.slice(0, 200)}`);
    }
  });

  test('the OpenAPI document describes the v2 query', async () => {
    const doc = (await (await fetch(`${base}/api/docs-json`)).json()) as { paths: Record<string, unknown>; components: { schemas: Record<string, { properties: Record<string, unknown> }> } };
    assert.ok(doc.paths['/api/v2/query']);
    assert.ok(doc.components.schemas.QueryV2RequestDto.properties.filter);
  });

  test('the v1 request shape still works', async () => {
    const r = await post('/api/v1/query', { from: FROM, to: TO, by: 'dst_port', top: 3, nodes: ['n1', 'n2'] });
    assert.equal(r.status, 200, r.text);
    assert.equal((r.json().top as unknown[]).length, 3);
  });

  test('a node that is down is named and the answer is partial', async () => {
    await stopProcess(nodeProcs.n2.child, 'SIGKILL');
    const r = await fed({ groupBy: ['protocol'] });
    assert.equal(r.status, 200);
    const a = r.json();
    assert.equal(a.partial, true);
    const n2 = a.nodes.find((n) => n.id === 'n2');
    assert.ok(n2 && n2.status !== 'ok', JSON.stringify(a.nodes));
  });
});
