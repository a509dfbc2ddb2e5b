import 'reflect-metadata';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MasterConfig } from '../config/master.config';
import { AggregateResponse } from './aggregate-client';
import { OrderMetric } from './dimensions';
import { MergeEngine } from './merge-engine.component';
import { TopRowDto } from './query-response.dto';

type Flow = { key: string; bytes: number; packets: number };

/** What a node sends: its totals and every group of its own flows. */
function partial(node: string, flows: Flow[]): AggregateResponse {
  const groups = new Map<string, TopRowDto>();
  for (const f of flows) {
    const g = groups.get(f.key) ?? { key: f.key, bytes: 0, packets: 0, flows: 0 };
    g.bytes += f.bytes;
    g.packets += f.packets;
    g.flows += 1;
    groups.set(f.key, g);
  }
  const totals = { bytes: 0, packets: 0, flows: 0 };
  for (const g of groups.values()) {
    totals.bytes += g.bytes;
    totals.packets += g.packets;
    totals.flows += g.flows;
  }
  return { node, totals, groups: [...groups.values()] };
}

/** The oracle: top-N over one store holding every flow. */
function topOverUnion(flows: Flow[], orderBy: OrderMetric, n: number): TopRowDto[] {
  const all = partial('union', flows).groups;
  return all.sort((a, b) => b[orderBy] - a[orderBy] || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).slice(0, n);
}

function rows(spec: Array<[string, number, number, number]>): TopRowDto[] {
  return spec.map(([key, bytes, packets, flows]) => ({ key, bytes, packets, flows }));
}

describe('MergeEngine (chDB)', () => {
  let dir: string;
  let engine: MergeEngine;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'flowmesh-merge-spec-'));
    const config = new MasterConfig();
    config.dataDir = dir;
    engine = new MergeEngine(config);
    await engine.start();
  });

  after(async () => {
    await engine.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the global top key wins even when it is in no node’s local top-N', async () => {
    // Locally, node a's top-1 is 10.0.0.1 and node b's is 10.0.0.2; merged, 10.0.0.3 (90 + 90) is first.
    const a: AggregateResponse = { node: 'a', totals: { bytes: 195, packets: 19, flows: 7 }, groups: rows([['10.0.0.1', 100, 10, 3], ['10.0.0.3', 90, 8, 3], ['10.0.0.4', 5, 1, 1]]) };
    const b: AggregateResponse = { node: 'b', totals: { bytes: 191, packets: 18, flows: 6 }, groups: rows([['10.0.0.2', 100, 9, 2], ['10.0.0.3', 90, 8, 3], ['10.0.0.5', 1, 1, 1]]) };
    const r = await engine.merge([a, b], 'bytes', 1, 5000);
    assert.deepEqual(r.top, rows([['10.0.0.3', 180, 16, 6]]));
    assert.deepEqual(r.totals, { bytes: 386, packets: 37, flows: 13 });
    assert.deepEqual(r.other, { bytes: 206, packets: 21, flows: 7 });

    const top3 = await engine.merge([a, b], 'bytes', 3, 5000);
    assert.deepEqual(top3.top, rows([['10.0.0.3', 180, 16, 6], ['10.0.0.1', 100, 10, 3], ['10.0.0.2', 100, 9, 2]]), 'ties broken by key ascending');
    assert.deepEqual(top3.other, { bytes: 6, packets: 2, flows: 2 });
  });

  test('orderBy decides the ranking', async () => {
    const a: AggregateResponse = { node: 'a', totals: { bytes: 1100, packets: 60, flows: 3 }, groups: rows([['big', 1000, 10, 1], ['chatty', 100, 50, 2]]) };
    assert.deepEqual((await engine.merge([a], 'bytes', 1, 5000)).top.map((t) => t.key), ['big']);
    assert.deepEqual((await engine.merge([a], 'packets', 1, 5000)).top.map((t) => t.key), ['chatty']);
    assert.deepEqual((await engine.merge([a], 'flows', 1, 5000)).top.map((t) => t.key), ['chatty']);
  });

  test('merged top-N equals the top-N over the union of all flows (randomised, 3 nodes)', async () => {
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const perNode: Flow[][] = [[], [], []];
    for (let i = 0; i < 3000; i++) {
      // Skewed keys so nodes disagree about their local leaders.
      const k = Math.floor(rand() ** 2 * 80);
      const node = (k + Math.floor(rand() * 3)) % 3;
      perNode[node].push({ key: `10.1.${k >> 4}.${k}`, bytes: 40 + Math.floor(rand() * 1500), packets: 1 + Math.floor(rand() * 20) });
    }
    const partials = perNode.map((flows, i) => partial(`n${i}`, flows));
    const union = perNode.flat();
    for (const orderBy of ['bytes', 'packets', 'flows'] as OrderMetric[]) {
      for (const n of [1, 5, 10, 200]) {
        const r = await engine.merge(partials, orderBy, n, 5000);
        assert.deepEqual(r.top, topOverUnion(union, orderBy, n), `orderBy ${orderBy} top ${n}`);
        const all = partial('union', union).totals;
        assert.deepEqual(r.totals, all);
        const inTop = r.top.reduce((s, t) => s + t.bytes, 0);
        assert.equal(r.other.bytes, all.bytes - inTop);
      }
    }
  });

  test('node-supplied keys are data, never SQL', async () => {
    const nasty = ["a'b", 'back\\slash', "'); DROP TABLE x; --", 'line\nbreak', '名前', ''];
    const p: AggregateResponse = { node: 'a', totals: { bytes: 21, packets: 6, flows: 6 }, groups: nasty.map((key, i) => ({ key, bytes: i + 1, packets: 1, flows: 1 })) };
    const r = await engine.merge([p], 'bytes', 10, 5000);
    assert.deepEqual(r.top.map((t) => t.key), [...nasty].reverse());
    assert.deepEqual(r.other, { bytes: 0, packets: 0, flows: 0 });
  });

  test('no answers merge to zeros; totals come from node totals, other never goes negative', async () => {
    const empty = await engine.merge([], 'bytes', 10, 5000);
    assert.deepEqual(empty, { top: [], totals: { bytes: 0, packets: 0, flows: 0 }, other: { bytes: 0, packets: 0, flows: 0 } });
    const lying: AggregateResponse = { node: 'a', totals: { bytes: 5, packets: 1, flows: 1 }, groups: rows([['x', 10, 2, 2]]) };
    const r = await engine.merge([lying], 'bytes', 10, 5000);
    assert.deepEqual(r.totals, { bytes: 5, packets: 1, flows: 1 });
    assert.deepEqual(r.other, { bytes: 0, packets: 0, flows: 0 });
  });

  test('large counters survive (beyond 32 bits)', async () => {
    const big = 2 ** 40;
    const p = (node: string): AggregateResponse => ({ node, totals: { bytes: big, packets: 2 ** 33, flows: 1 }, groups: rows([['k', big, 2 ** 33, 1]]) });
    const r = await engine.merge([p('a'), p('b')], 'bytes', 1, 5000);
    assert.deepEqual(r.top, rows([['k', 2 * big, 2 ** 34, 2]]));
  });

  test('merges running at once do not mix their inputs', async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => engine.merge([partial('a', [{ key: `k${i}`, bytes: i + 1, packets: 1 }])], 'bytes', 5, 5000)),
    );
    results.forEach((r, i) => assert.deepEqual(r.top, rows([[`k${i}`, i + 1, 1, 1]])));
  });

  test('temporary files are removed after each merge', async () => {
    await engine.merge([partial('a', [{ key: 'k', bytes: 1, packets: 1 }])], 'bytes', 1, 5000);
    const workDir = (engine as unknown as { workDir: string }).workDir;
    assert.deepEqual(readdirSync(workDir), []);
    assert.equal(engine.health().status, 'ok');
  });
});
