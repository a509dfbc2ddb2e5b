import 'reflect-metadata';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildListingSql, buildPartialSql, compileFilterToSql, DistinctField, distinctFieldOf, NodeQueryRequest, parseFilter, partialColumns, planQuery, plannerFilterFields,
  listingWindows, QueryDimension, QueryMetric, runListingPage,
} from '@flowmesh/flow-query';
import { MasterConfig } from '../config/master.config';
import { RegistryService } from '../registry/registry.service';
import { FederatedQueryService } from './federated-query.service';
import { MergeEngine } from './merge-engine.component';
import { QueryGate } from './query-gate';
import { buildAggregateMergeSql, buildSeriesMergeSql, mergeSettings } from './merge-v2-sql';
import { PartialOutcome } from './partial-client';
import { QueryMetrics } from './query.metrics';
import { QueryV2RequestDto } from './query-v2.dto';

/*
 * Exactness: the same flows split over 3 stores (databases n1..n3 in one chDB, each with the raw table,
 * rollups and their views) and loaded into one store (`one`). Federated answers (node partial SQL + the
 * master's merge SQL, both real chDB) must equal a plain query over `one` for many random queries.
 */

const DBS = ['n1', 'n2', 'n3'];
const T0 = 1_714_557_600; // 2024-05-01T10:00:00Z, hour-aligned
const SPAN = 4 * 3600;
const ROWS = 40_000;
const LIMITS = { timeoutMs: 20_000, maxRows: 1_000_000, maxMemoryBytes: 2 * 1024 ** 3 };

function flowsDdl(db: string): string[] {
  const dims = 'exporter_addr, flow_type, ip_version, protocol, in_if, out_if, src_as, dst_as, tos, direction';
  const rollup = (t: string, bucket: string) => [
    `CREATE TABLE ${db}.${t} (ts DateTime, exporter_addr FixedString(16), flow_type UInt8, ip_version UInt8, protocol UInt8, in_if UInt32, out_if UInt32, src_as UInt32, dst_as UInt32, tos UInt8, direction UInt8, bytes UInt64, packets UInt64, flows UInt64, bytes_scaled UInt64, packets_scaled UInt64) ENGINE = SummingMergeTree((bytes, packets, flows, bytes_scaled, packets_scaled)) ORDER BY (ts, ${dims})`,
    `CREATE MATERIALIZED VIEW ${db}.${t}_mv TO ${db}.${t} AS SELECT ${bucket}(t) AS ts, ${dims}, sum(b) AS bytes, sum(p) AS packets, count() AS flows, sum(b * s) AS bytes_scaled, sum(p * s) AS packets_scaled FROM (SELECT time_received AS t, ${dims}, bytes AS b, packets AS p, toUInt64(greatest(sampling_rate, 1)) AS s FROM ${db}.flows) GROUP BY ts, ${dims}`,
  ];
  return [
    `CREATE DATABASE ${db}`,
    `CREATE TABLE ${db}.flows (time_received DateTime, flow_start DateTime, flow_end DateTime, exporter_addr FixedString(16), observation_domain UInt32, flow_type UInt8, sampling_rate UInt32, ip_version UInt8, src_addr FixedString(16), dst_addr FixedString(16), src_port UInt16, dst_port UInt16, protocol UInt8, tcp_flags UInt8, tos UInt8, bytes UInt64, packets UInt64, in_if UInt32, out_if UInt32, src_as UInt32, dst_as UInt32, next_hop FixedString(16), src_mask UInt8, dst_mask UInt8, direction UInt8, vlan UInt16, src_mac UInt64, dst_mac UInt64, batch_id UInt64) ENGINE = MergeTree ORDER BY (toStartOfHour(time_received), exporter_addr, time_received)`,
    ...rollup('flows_1m', 'toStartOfMinute'),
    ...rollup('flows_1h', 'toStartOfHour'),
  ];
}

const v4 = (expr: string) => `unhex(concat('00000000000000000000FFFF', lpad(hex(toUInt32(${expr})), 8, '0')))`;
/** Deterministic synthetic flows; a few exact duplicates (number % 997 = 0 copies its neighbour) exercise the cursor. */
function flowsSelect(n: number): string {
  const x = 'if(number % 997 = 0, number - 1, number)';
  return `SELECT toDateTime(${T0} + (${x} * 7919) % ${SPAN}) AS time_received, time_received AS flow_start, time_received AS flow_end,
    ${v4(`167772160 + (${x} % 3)`)} AS exporter_addr, 0, toUInt8(${x} % 2) AS flow_type, toUInt32(if(${x} % 5 = 0, 0, ${x} % 3 + 1)),
    4, ${v4(`167772160 + (${x} * 31) % 300`)}, ${v4(`3232235520 + (${x} * 17) % 500`)},
    toUInt16(1024 + (${x} * 13) % 40), toUInt16([53, 80, 443, 22, 8080][${x} % 5 + 1]), toUInt8([6, 17, 1][${x} % 3 + 1]), toUInt8(${x} % 64), toUInt8(${x} % 4),
    toUInt64(40 + (${x} * 101) % 1500), toUInt64(1 + ${x} % 10), toUInt32(${x} % 4), toUInt32(${x} % 3), toUInt32(64500 + ${x} % 7), toUInt32(64600 + ${x} % 5),
    ${v4('0')}, 24, 24, toUInt8(${x} % 2), 0, 0, 0, intDiv(number, 100)
    FROM numbers(${n})`;
}

/** Seeded PRNG (mulberry32). */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FILTERS = ['', 'proto tcp', 'dst port 443 or dst port 53', 'src net 10.0.0.0/24', 'not proto udp and in if 1', 'exporter 10.0.0.1', 'bytes > 700', 'src as 64503 or dst as 64601', 'ipv4 and tos 2'];
const DIMS: QueryDimension[] = ['src_addr', 'dst_addr', 'dst_port', 'protocol', 'exporter_addr', 'in_if', 'src_as', 'tos', 'direction'];
const METRICS: QueryMetric[] = ['bytes', 'packets', 'flows', 'bps', 'distinct_src_addr', 'distinct_dst_port'];

describe('federated merge equals one store (real chDB)', () => {
  let dir: string;
  let engine: MergeEngine;
  const sql = async (q: string) => engine.run(q, 'JSONCompactEachRow');
  const json = async (q: string) => (await engine.run(q, 'JSONEachRow')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'flowmesh-fed-spec-'));
    const config = new MasterConfig();
    config.dataDir = dir;
    engine = new MergeEngine(config);
    await engine.start();
    for (const db of [...DBS, 'one']) for (const s of flowsDdl(db)) await engine.run(s);
    await engine.run(`INSERT INTO one.flows ${flowsSelect(ROWS)}`);
    for (let i = 0; i < 3; i++) await engine.run(`INSERT INTO ${DBS[i]}.flows SELECT * FROM one.flows WHERE cityHash64(batch_id, src_port, bytes) % 3 = ${i}`);
  });

  after(async () => {
    await engine.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function partialLines(req: NodeQueryRequest, filterText: string, dbs: string[]): Promise<string[]> {
    const f = parseFilter(filterText);
    const out: string[] = [];
    for (const db of dbs) {
      const text = await sql(req.mode === 'flows' ? buildListingSql(req, f, { database: db }) : buildPartialSql(req, f, { database: db }));
      out.push(...text.split('\n').filter(Boolean));
    }
    return out;
  }

  test('the split is real: every store holds a third, and rollups are populated', async () => {
    const counts = await json(`SELECT (SELECT count() FROM n1.flows) AS a, (SELECT count() FROM n2.flows) AS b, (SELECT count() FROM n3.flows) AS c, (SELECT sum(flows) FROM one.flows_1h) AS h`);
    const { a, b, c, h } = counts[0] as Record<string, number>;
    assert.equal(Number(a) + Number(b) + Number(c), ROWS);
    for (const n of [a, b, c]) assert.ok(Number(n) > ROWS / 4, `unbalanced split ${a}/${b}/${c}`);
    assert.equal(Number(h), ROWS);
  });

  test('random top-N / totals / distinct queries: 3 stores merged == plain SQL over one store', async () => {
    const r = rng(42);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)];
    for (let i = 0; i < 40; i++) {
      const groupBy = [...new Set([pick(DIMS), ...(r() < 0.3 ? [pick(DIMS)] : [])])];
      const metrics = [...new Set(['bytes', 'packets', 'flows', ...(r() < 0.5 ? [pick(METRICS)] : [])])] as QueryMetric[];
      const orderBy = pick(metrics);
      const filterText = pick(FILTERS);
      const top = 1 + Math.floor(r() * 12);
      const aligned = r() < 0.5;
      const fromS = aligned ? T0 + 3600 * Math.floor(r() * 2) : T0 + Math.floor(r() * 5000);
      const toS = aligned ? fromS + 3600 * (1 + Math.floor(r() * 2)) : fromS + 600 + Math.floor(r() * 7000);
      const distinct = [...new Set(metrics.map(distinctFieldOf).filter((d): d is DistinctField => !!d))];
      const plan = planQuery({ fromMs: fromS * 1000, toMs: toS * 1000, groupBy, filterFields: plannerFilterFields(parseFilter(filterText)), distinct, rollups: ['flows_1m', 'flows_1h'] });
      const req: NodeQueryRequest = { mode: 'aggregate', from: fromS * 1000, to: toS * 1000, filter: filterText, groupBy, distinct, segments: plan.segments, limits: LIMITS };
      const lines = await partialLines(req, filterText, DBS);
      const merged = await engine.mergeLines(lines, (file) => buildAggregateMergeSql({ file, columns: partialColumns(req), groupBy, distinct, metrics, orderBy, top, seconds: toS - fromS, settings: mergeSettings(20, 2 ** 31) }), 20_000);

      const f = parseFilter(filterText);
      const where = `time_received >= toDateTime(${fromS}) AND time_received < toDateTime(${toS}) AND ${compileFilterToSql(f)}`;
      const keys = groupBy.map((g) => (['src_addr', 'dst_addr', 'exporter_addr'].includes(g) ? `hex(${g})` : `toUInt64(${g})`) + ` AS g_${g}`);
      const m = metrics.map((x) => {
        const d = distinctFieldOf(x);
        if (d) return `uniqExact(${d}) AS m_${x}`;
        if (x === 'bps') return `sum(bytes * greatest(sampling_rate, 1)) * 8 / ${toS - fromS} AS m_bps`;
        return x === 'flows' ? 'count() AS m_flows' : `sum(${x} * greatest(sampling_rate, 1)) AS m_${x}`;
      });
      const ord = distinctFieldOf(orderBy) ? orderBy : orderBy === 'bps' ? 'bytes' : orderBy;
      const ordExpr = distinctFieldOf(orderBy) ? `uniqExact(${distinctFieldOf(orderBy)})` : ord === 'flows' ? 'count()' : `sum(${ord} * greatest(sampling_rate, 1))`;
      const expectTop = await json(`SELECT ${[...keys, ...m].join(', ')} FROM one.flows WHERE ${where} GROUP BY ${groupBy.map((g) => `g_${g}`).join(', ')} ORDER BY ${ordExpr} DESC, ${groupBy.map((g) => `g_${g}`).join(', ')} LIMIT ${top} SETTINGS output_format_json_quote_64bit_integers = 0`);
      const expectTotals = (await json(`SELECT ${m.join(', ')} FROM one.flows WHERE ${where} SETTINGS output_format_json_quote_64bit_integers = 0`))[0];
      const ctx = `query ${i}: ${JSON.stringify({ groupBy, metrics, orderBy, filterText, top, fromS, toS, plan: plan.segments.map((s) => s.table) })}`;
      const gotTop = merged.filter((x) => Number(x.r) > 1);
      assert.equal(gotTop.length, expectTop.length, ctx);
      for (let k = 0; k < expectTop.length; k++) {
        for (const g of groupBy) assert.equal(String(gotTop[k][`g_${g}`]), String(expectTop[k][`g_${g}`]), `${ctx} row ${k} key ${g}`);
        for (const x of metrics) assert.equal(Number(gotTop[k][x]).toFixed(6), Number(expectTop[k][`m_${x}`]).toFixed(6), `${ctx} row ${k} ${x}`);
      }
      const gotTotals = merged.find((x) => Number(x.r) === 0)!;
      for (const x of metrics) assert.equal(Number(gotTotals[x]).toFixed(6), Number(expectTotals[`m_${x}`]).toFixed(6), `${ctx} totals ${x}`);
      const other = merged.find((x) => Number(x.r) === 1);
      if (other) assert.equal(Number(other.flows) + gotTop.reduce((s, x) => s + Number(x.flows), 0), Number(gotTotals.flows), `${ctx} other + top = totals`);
    }
  });

  test('random time series: 3 stores merged == one store merged, and buckets sum to the totals', async () => {
    const r = rng(7);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)];
    for (let i = 0; i < 20; i++) {
      const groupBy = r() < 0.3 ? [] : [pick(DIMS)];
      const metrics: QueryMetric[] = ['bytes', 'flows', ...(r() < 0.4 ? (['distinct_dst_port'] as QueryMetric[]) : [])];
      const filterText = pick(FILTERS);
      const interval = pick([60, 300, 600, 3600]);
      const fromS = T0 + (r() < 0.5 ? 0 : Math.floor(r() * 3000));
      const toS = fromS + 1800 + Math.floor(r() * 9000);
      const distinct = metrics.map(distinctFieldOf).filter((d): d is DistinctField => !!d);
      const plan = planQuery({ fromMs: fromS * 1000, toMs: toS * 1000, groupBy, filterFields: plannerFilterFields(parseFilter(filterText)), distinct, intervalS: interval, rollups: ['flows_1m', 'flows_1h'] });
      const req: NodeQueryRequest = { mode: 'aggregate', from: fromS * 1000, to: toS * 1000, filter: filterText, groupBy, interval, distinct, segments: plan.segments, limits: LIMITS };
      const run = async (dbs: string[]) =>
        engine.mergeLines(await partialLines(req, filterText, dbs), (file) => buildSeriesMergeSql({ file, columns: partialColumns(req), groupBy, distinct, metrics, orderBy: 'bytes', top: 5, seconds: toS - fromS, interval, settings: mergeSettings(20, 2 ** 31) }), 20_000);
      const fed = await run(DBS);
      const one = await run(['one']);
      assert.deepEqual(fed, one, `series ${i} ${filterText} ${groupBy} ${interval} ${plan.reason}`);
      const raw = await json(`SELECT count() AS c FROM one.flows WHERE time_received >= toDateTime(${fromS}) AND time_received < toDateTime(${toS}) AND ${compileFilterToSql(parseFilter(filterText))}`);
      assert.equal(fed.reduce((s, x) => s + Number(x.flows), 0), Number(raw[0].c), `series ${i} flows`);
    }
  });

  test('flow listing: paging over 3 stores with cursors returns exactly the one-store order, duplicates included', async () => {
    const config = new MasterConfig();
    const svc = new FederatedQueryService(config, {} as RegistryService, engine, {} as QueryMetrics, new QueryGate(config));
    for (const [sort, order, filterText, limit] of [['bytes', 'desc', 'dst port 443', 37], ['time_received', 'asc', '', 250], ['src_addr', 'desc', 'proto udp', 101]] as const) {
      const fromS = T0 + 600;
      const toS = T0 + 600 + 2400;
      const dto = Object.assign(new QueryV2RequestDto(), { mode: 'flows', sort, order, filter: filterText, limit });
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const c = cursor ? JSON.parse(Buffer.from(cursor, 'base64url').toString()) : undefined;
        const outcomes: PartialOutcome[] = [];
        for (const db of DBS) {
          const id = db;
          const after = c ? (id < c.n ? { values: c.v, inclusive: false, skip: 0 } : id === c.n ? { values: c.v, inclusive: true, skip: c.d } : { values: c.v, inclusive: true, skip: 0 }) : undefined;
          const req: NodeQueryRequest = { mode: 'flows', from: fromS * 1000, to: toS * 1000, filter: filterText, groupBy: [], distinct: [], segments: [], sort: { field: sort, desc: order === 'desc' }, limit, ...(after ? { after } : {}), limits: LIMITS };
          const rows = (await partialLines({ ...req, limit }, filterText, [db])).map((l) => JSON.parse(l) as Array<number | string>);
          // The node drops `skip` leading rows equal to the cursor (as PartialQueryService does).
          let n = 0;
          while (after && n < rows.length && n < after.skip && after.values.every((v: unknown, j: number) => rows[n][j] === v)) n++;
          outcomes.push({ id, status: 'ok', elapsedMs: 0, result: { node: id, columns: [], rows: rows.slice(n, n + limit) } });
        }
        const page = await svc.mergeListing(outcomes, dto, c, `${filterText}|${sort}|${order}`, fromS * 1000, toS * 1000, mergeSettings(20, 2 ** 31), 20_000);
        for (const f of page.flows!) seen.push(JSON.stringify({ ...f, node: undefined }));
        cursor = page.nextCursor ?? undefined;
        assert.ok(++pages < 200, 'paging does not end');
      } while (cursor);
      const f = compileFilterToSql(parseFilter(filterText));
      const expected = await json(`SELECT count() AS c FROM one.flows WHERE time_received >= toDateTime(${fromS}) AND time_received < toDateTime(${toS}) AND ${f}`);
      assert.equal(seen.length, Number(expected[0].c), `${sort} ${order}: every flow once`);
      const ref = (await sql(buildListingSql({ mode: 'flows', from: fromS * 1000, to: toS * 1000, filter: filterText, groupBy: [], distinct: [], segments: [], sort: { field: sort, desc: order === 'desc' }, limit: 100_000, limits: { ...LIMITS, maxRows: 100_000 } }, parseFilter(filterText), { database: 'one' }))).split('\n').filter(Boolean);
      assert.equal(ref.length, seen.length);
      const refKeys = ref.map((l) => (JSON.parse(l) as unknown[]).slice(0, 1).join());
      const seenSort = seen.map((s) => {
        const o = JSON.parse(s) as Record<string, unknown>;
        return sort === 'time_received' ? String(Date.parse(String(o.time_received)) / 1000) : sort === 'bytes' ? String(o.bytes) : String(o.src_addr);
      });
      if (sort !== 'src_addr') assert.deepEqual(seenSort, refKeys, `${sort} ${order}: same order as one store`);
    }
  });
  test('a listing by receive time reads growing windows: its pages equal the whole-range listing (desc and asc, cursors)', async () => {
    const fromS = T0 + 600;
    const select = async (q: string) => (await sql(q)).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Array<number | string>);
    // The last range runs 6 h past the data (4 h from T0): the page starts at the newest flow, not at `to`.
    for (const [desc, filterText, limit, toS] of [[true, '', 700, T0 + 7600], [false, 'proto udp', 333, T0 + 7600], [true, 'dst port 443 and bytes > 1000', 250, T0 + 7600], [true, 'proto tcp', 900, T0 + 10 * 3600]] as const) {
      const base: NodeQueryRequest = { mode: 'flows', from: fromS * 1000, to: toS * 1000, filter: filterText, groupBy: [], distinct: [], segments: [], sort: { field: 'time_received', desc }, limit, limits: LIMITS };
      const windows = listingWindows(base);
      assert.ok(windows.length >= 3, `several windows: ${JSON.stringify(windows)}`);
      const all = await select(buildListingSql({ ...base, limit: 100_000, limits: { ...LIMITS, maxRows: 100_000 } }, parseFilter(filterText), { database: 'one' }));
      assert.ok(all.length > 2 * limit, `${all.length} rows`);
      const paged: Array<Array<number | string>> = [];
      let after: NodeQueryRequest['after'];
      for (let pages = 0; paged.length < all.length; pages++) {
        assert.ok(pages < 100, 'paging does not end');
        const page = await runListingPage({ ...base, ...(after ? { after } : {}) }, parseFilter(filterText), { database: 'one' }, select);
        assert.ok(page.length > 0, 'a page before the end is never empty');
        paged.push(...page);
        const last = page[page.length - 1];
        // Rows equal to the last one (the same flow twice) that this page showed: the cursor's skip count.
        let skip = 0;
        for (let k = page.length - 1; k >= 0 && page[k].every((v, j) => v === last[j]); k--) skip++;
        if (after && after.inclusive && skip === page.length && after.values.every((v, j) => v === last[j])) skip += after.skip;
        after = { values: last, inclusive: true, skip };
      }
      assert.deepEqual(paged, all, `desc=${desc} '${filterText}' limit ${limit}: the same rows in the same order`);
    }
  });
});
