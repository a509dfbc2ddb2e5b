/**
 * Issue 6: federation on a ClickHouse server cluster through Distributed tables.
 *
 * Real processes: Redis, two ClickHouse 18.16 servers configured as one cluster (`flowmesh_cluster`), two
 * collector nodes with storage.engine=clickhouse writing one shard each (real UDP from the generator), the
 * Distributed tables of deploy/clickhouse/cluster.sql on shard 1, and the master with query.cluster.url
 * pointing there, querying as the read-only user. Expected answers come from each shard's own raw table
 * (plain SQL per shard, summed here), so the Distributed path, the address rollups and the merge are all
 * checked against the flows themselves. Then shard 2 is stopped: the answer is partial and names it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { formatAddress } from '@flowmesh/flow-query';
import {
  clickHouseServerSkipReason, ClickHouseServer, freePort, startClickHouseCluster, startProcess, startRedis, Started, stopProcess, waitUntil,
} from '@flowmesh/testing';
import { NodeProcess, send, uniqueFlows } from '../ingest/ingest-node';

const skip = clickHouseServerSkipReason();
const repoRoot = resolve(__dirname, '..', '..', '..');
type Answer = Record<string, unknown> & {
  partial: boolean;
  nodes: Array<{ id: string; status: string; error?: string; tables?: string[] }>;
  rows?: Array<{ key: Record<string, string>; metrics: Record<string, number> }>;
  totals?: Record<string, number>;
  flows?: Array<Record<string, string | number>>;
  nextCursor?: string | null;
  plan: { segments: Array<{ table: string }> };
};

describe('federated queries from a ClickHouse cluster (Distributed tables over two 18.16 shards)', { skip }, () => {
  const build = resolve(__dirname, '..', '..');
  const work = mkdtempSync(join(tmpdir(), 'flowmesh-cluster-int-'));
  const procs: Started[] = [];
  const nodes: NodeProcess[] = [];
  let shards: ClickHouseServer[] = [];
  let base = '';
  const hour = Math.floor(Date.now() / 3_600_000) * 3600;
  // Whole hours around now: aggregates read the address rollups' Distributed tables.
  const range = { from: new Date((hour - 3600) * 1000).toISOString(), to: new Date((hour + 3600) * 1000).toISOString() };
  const sent = [30_000, 20_000];

  async function query(body: Record<string, unknown>): Promise<{ status: number; json: Answer; text: string }> {
    const res = await fetch(`${base}/api/v2/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...range, ...body }) });
    const text = await res.text();
    return { status: res.status, text, json: (res.status === 200 ? JSON.parse(text) : {}) as Answer };
  }

  /** Per-shard SQL on the local raw table, as the reader; rows of TSV cells. */
  async function onShards(sql: string, which = shards): Promise<string[][]> {
    const out: string[][] = [];
    for (const s of which) for (const line of (await s.query(`${sql} FORMAT TSV`, 'reader')).split('\n')) if (line) out.push(line.split('\t'));
    return out;
  }

  before(async () => {
    const redis = await startRedis();
    procs.push(redis.proc);
    shards = await startClickHouseCluster(2);
    for (const [i, ch] of shards.entries()) {
      const node = new NodeProcess({
        id: `shard-node-${i + 1}`,
        dataDir: join(work, `n${i + 1}`),
        redisUrl: redis.url,
        sets: ['storage.engine=clickhouse', `storage.clickhouse.url=${ch.url}`, 'storage.batchRows=5000', 'storage.batchMs=200'],
      });
      nodes.push(node);
      await node.start();
    }
    await Promise.all(nodes.map((n, i) => send(uniqueFlows({ proto: i ? 'ipfix' : 'v9', port: n.port, records: sent[i], rate: 50_000, seed: 11 + i }))));
    await waitUntil('both nodes stored what was sent', async () => (await Promise.all(nodes.map((n) => n.storedFlows()))).every((v, i) => v === sent[i]), 60_000);
    const ddl = readFileSync(join(repoRoot, 'deploy/clickhouse/cluster.sql'), 'utf8').split('\n').filter((l) => !l.startsWith('--')).join('\n').split(';').map((q) => q.trim()).filter(Boolean);
    for (const q of ddl) await shards[0].query(q);
    const port = await freePort();
    procs.push(
      startProcess(process.execPath, [
        join(build, 'apps/master/src/main.js'), 'master', '--set', `http.port=${port}`, '--set', 'http.host=127.0.0.1', '--set', `dataDir=${join(work, 'master')}`,
        '--set', `redis.url=${redis.url}`, '--set', `query.cluster.url=${shards[0].url}`, '--set', 'query.cluster.username=reader',
      ]),
    );
    base = `http://127.0.0.1:${port}`;
    await waitUntil('master ready', async () => (await fetch(`${base}/readyz`).catch(() => undefined))?.status === 200, 60_000);
  });

  after(async () => {
    for (const n of nodes) await n.stop().catch(() => undefined);
    for (const p of procs.reverse()) await stopProcess(p.child).catch(() => undefined);
    await Promise.all(shards.map((s) => s.stop()));
    rmSync(work, { recursive: true, force: true });
  });

  test('top talkers come from the Distributed address rollup and equal the shards\' raw flows', async () => {
    const r = await query({ groupBy: ['src_addr'], top: 5 });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.partial, false);
    assert.deepEqual(r.json.nodes.map((n) => [n.id, n.status]), [['cluster:flowmesh_cluster', 'ok']]);
    assert.deepEqual([...new Set(r.json.plan.segments.map((s) => s.table))], ['flows_src_1h']);
    assert.deepEqual(r.json.nodes[0].tables, ['flows_src_1h'], 'read from flows_src_1h_all');
    const bySrc = new Map<string, number>();
    for (const [a, b] of await onShards('SELECT hex(src_addr), sum(bytes * if(sampling_rate = 0, 1, sampling_rate)) FROM flowmesh.flows GROUP BY src_addr')) {
      bySrc.set(a, (bySrc.get(a) ?? 0) + Number(b));
    }
    const want = [...bySrc].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1)).slice(0, 5);
    assert.deepEqual(
      r.json.rows!.map((x) => x.metrics.bytes),
      want.map((w) => w[1]),
    );
    assert.deepEqual(r.json.rows!.map((x) => x.key.src_addr).sort(), want.map((w) => formatAddress(Buffer.from(w[0], 'hex'))).sort());
    const total = (await onShards('SELECT count(), sum(bytes * if(sampling_rate = 0, 1, sampling_rate)) FROM flowmesh.flows')).reduce((a, x) => [a[0] + Number(x[0]), a[1] + Number(x[1])], [0, 0]);
    assert.deepEqual([r.json.totals!.flows, r.json.totals!.bytes], total);
    assert.equal(total[0], sent[0] + sent[1]);
  });

  test('a filtered aggregate on the raw Distributed table and an hourly series agree with the shards', async () => {
    const r = await query({ filter: 'proto tcp and dst port 443', groupBy: ['dst_port', 'protocol'], top: 3, metrics: ['flows', 'bytes', 'distinct_src_addr'] });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual([...new Set(r.json.plan.segments.map((s) => s.table))], ['flows']);
    const [[flows]] = (await onShards('SELECT count() FROM flowmesh.flows WHERE protocol = 6 AND dst_port = 443')).reduce((a, x) => [[a[0][0] + Number(x[0])]], [[0]]);
    assert.equal(r.json.totals!.flows, flows);
    const distinct = new Set((await onShards('SELECT DISTINCT hex(src_addr) FROM flowmesh.flows WHERE protocol = 6 AND dst_port = 443')).map((x) => x[0]));
    assert.equal(r.json.rows![0].metrics.distinct_src_addr, distinct.size, 'distinct counts union the shards, never add them');
    const s = await query({ mode: 'series', interval: '1h', groupBy: [] });
    assert.equal(s.status, 200, s.text);
    const points = s.json.series as Array<{ metrics: { flows: number } }>;
    assert.equal(points.reduce((a, p) => a + p.metrics.flows, 0), sent[0] + sent[1]);
  });

  test('a flow listing pages through both shards: newest first, every flow once', async () => {
    const [[want]] = (await onShards('SELECT count() FROM flowmesh.flows WHERE protocol = 17')).reduce((a, x) => [[a[0][0] + Number(x[0])]], [[0]]);
    assert.ok(want > 1000, `udp flows: ${want}`);
    const seen = new Set<string>();
    let cursor: string | undefined;
    let last = Infinity;
    let pages = 0;
    do {
      const r = await query({ mode: 'flows', filter: 'proto udp', limit: 2000, ...(cursor ? { cursor } : {}) });
      assert.equal(r.status, 200, r.text);
      for (const f of r.json.flows!) {
        const t = Date.parse(String(f.time_received));
        assert.ok(t <= last, 'newest first');
        last = t;
        const { node: _n, ...flow } = f;
        seen.add(JSON.stringify(flow));
      }
      cursor = r.json.nextCursor ?? undefined;
      pages++;
    } while (cursor && pages < 100);
    assert.equal(seen.size, want, 'every udp flow exactly once');
  });

  test('the shards cannot be chosen (400)', async () => {
    const r = await query({ nodes: ['shard-node-1'] });
    assert.equal(r.status, 400);
    assert.match(r.text, /nodes: this master answers from the ClickHouse cluster flowmesh_cluster/);
  });

  test('a shard down: the answer is partial and names it; the other shard\'s flows are all there', async () => {
    await nodes[1].stop();
    await shards[1].stop();
    const r = await query({ groupBy: [] });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.partial, true);
    const down = r.json.nodes.filter((n) => n.status === 'down');
    assert.equal(down.length, 1, JSON.stringify(r.json.nodes));
    assert.match(down[0].id, new RegExp(`^cluster:flowmesh_cluster/shard-2 \\(.*:${shards[1].tcpPort}\\)$`));
    assert.equal(r.json.totals!.flows, sent[0]);
  });
});
