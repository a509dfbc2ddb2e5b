import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFilter } from './filter-parser';
import {
  afterCondition, buildListingSql, buildPartialSql, cellKind, expandReferences, KnownTables, listingOrder, listingWindows, NodeQueryRequest, planQuery, plannerFilterFields,
} from './query-model';
import { formatFilter } from './filter-format';

const H = 3_600_000;
const T = Date.parse('2024-05-01T00:00:00Z');
const ALL = ['flows_1m', 'flows_1h', 'flows_src_1h', 'flows_dst_1h'] as const;
const LIMITS = { timeoutMs: 5000, maxRows: 1000, maxMemoryBytes: 1 << 30 };
const plan = (o: Partial<Parameters<typeof planQuery>[0]>) => planQuery({ fromMs: T, toMs: T + 2 * H, groupBy: [], filterFields: [], distinct: [], rollups: ALL, ...o });

describe('planQuery', () => {
  test('an hour-aligned range over rollup fields reads flows_1h only', () => {
    assert.deepEqual(plan({ groupBy: ['protocol', 'exporter_addr'], filterFields: ['in_if'] }).segments, [{ table: 'flows_1h', from: T / 1000, to: T / 1000 + 7200 }]);
  });

  test('a minute-aligned range: hours in the middle, minutes at the edges; unaligned seconds from raw', () => {
    const from = T + 90_500; // 00:01:30.5 -> second 91
    const to = T + 2 * H + 150_000; // 02:02:30
    assert.deepEqual(plan({ fromMs: from, toMs: to }).segments, [
      { table: 'flows', from: T / 1000 + 91, to: T / 1000 + 120 },
      { table: 'flows_1m', from: T / 1000 + 120, to: T / 1000 + 3600 },
      { table: 'flows_1h', from: T / 1000 + 3600, to: T / 1000 + 7200 },
      { table: 'flows_1m', from: T / 1000 + 7200, to: T / 1000 + 7320 },
      { table: 'flows', from: T / 1000 + 7320, to: T / 1000 + 7350 },
    ]);
  });

  test('addresses, ports, bytes filters and distinct counts need the raw table, and say why', () => {
    for (const o of [{ groupBy: ['src_port'] }, { filterFields: ['dst_port'] }, { filterFields: ['bytes'] }, { distinct: ['dst_addr'] }, { filterFields: ['tcp_flags'] }, { groupBy: ['next_hop'] }]) {
      const p = plan(o);
      assert.deepEqual(p.segments.map((s) => s.table), ['flows'], JSON.stringify(o));
      assert.match(p.reason, /^raw: .* not in the rollups$/);
    }
  });

  test('top talkers: grouped and filtered on one address (and the exporter) read its hourly address rollup, edges from raw', () => {
    const from = T + 90_500;
    const to = T + 2 * H + 150_000;
    assert.deepEqual(plan({ fromMs: from, toMs: to, groupBy: ['src_addr'], filterFields: ['exporter_addr'] }).segments, [
      { table: 'flows', from: T / 1000 + 91, to: T / 1000 + 3600 },
      { table: 'flows_src_1h', from: T / 1000 + 3600, to: T / 1000 + 7200 },
      { table: 'flows', from: T / 1000 + 7200, to: T / 1000 + 7350 },
    ]);
    assert.deepEqual(plan({ groupBy: ['dst_addr', 'exporter_addr'], filterFields: ['dst_addr'] }).segments.map((s) => s.table), ['flows_dst_1h']);
    assert.deepEqual(plan({ groupBy: ['src_addr'], intervalS: 3600 }).segments.map((s) => s.table), ['flows_src_1h']);
    // Anything else the address rollup does not hold, and it is raw:
    for (const o of [
      { groupBy: ['src_addr'], filterFields: ['dst_port'] },
      { groupBy: ['src_addr', 'dst_addr'] },
      { groupBy: ['src_addr'], filterFields: ['dst_addr'] },
      { groupBy: ['src_addr'], distinct: ['dst_addr'] },
      { groupBy: ['src_addr'], intervalS: 300 },
      { groupBy: ['src_addr'], filterFields: ['protocol'] },
      { groupBy: ['src_addr'], rollups: ['flows_1m', 'flows_1h'] as const },
    ]) {
      assert.deepEqual(plan(o).segments.map((s) => s.table), ['flows'], JSON.stringify(o));
    }
  });

  test('an address rollup segment sums its pre-scaled columns; it refuses fields it does not hold', () => {
    const r: NodeQueryRequest = {
      mode: 'aggregate', from: T, to: T + H, filter: '', groupBy: ['src_addr'], distinct: [], segments: [{ table: 'flows_src_1h', from: 0, to: 3600 }], limits: LIMITS,
    };
    assert.match(buildPartialSql(r, parseFilter('src net 10.0.0.0/8 and exporter 192.0.2.1')), /src_addr AS k0, bytes_scaled AS b_, packets_scaled AS p_, flows AS f_ FROM flowmesh\.flows_src_1h WHERE ts >= /);
    assert.throws(() => buildPartialSql(r, parseFilter('dst port 443')), /flows_src_1h cannot answer this query/);
    assert.throws(() => buildPartialSql({ ...r, groupBy: ['dst_addr'] }, parseFilter('')), /flows_src_1h cannot answer this query/);
  });

  test('a series interval must be a multiple of the rollup step', () => {
    assert.deepEqual(plan({ intervalS: 300 }).segments.map((s) => s.table), ['flows_1m']);
    assert.deepEqual(plan({ intervalS: 3600 }).segments.map((s) => s.table), ['flows_1h']);
    assert.deepEqual(plan({ intervalS: 30 }).segments.map((s) => s.table), ['flows']);
  });

  test('without rollups everything is raw; an empty range has no segments', () => {
    assert.equal(plan({ rollups: [] }).reason, 'raw: no rollups in the store');
    assert.deepEqual(plan({ fromMs: T, toMs: T }).segments, []);
  });

  test('filter fields come from the parsed filter (references included)', () => {
    const f = parseFilter('proto tcp and channel web', { resolve: () => 'dst port 443' });
    assert.deepEqual(plannerFilterFields(f), ['dst_port', 'protocol']);
    assert.equal(formatFilter(expandReferences(f)), 'proto tcp and dst port 443');
  });
});

describe('KnownTables', () => {
  test('segments over a table the store lacks read raw; the list is asked once per ttl; a suffix names Distributed tables', async () => {
    let asked = 0;
    const known = new KnownTables(async () => {
      asked++;
      return ['flows_all', 'flows_1h_all'];
    }, '_all', 60_000);
    const segs = [{ table: 'flows_1h' as const, from: 0, to: 3600 }, { table: 'flows_src_1h' as const, from: 3600, to: 7200 }];
    assert.deepEqual((await known.available(segs)).map((s) => s.table), ['flows_1h', 'flows']);
    assert.deepEqual(await known.available([{ table: 'flows', from: 0, to: 1 }]), [{ table: 'flows', from: 0, to: 1 }]);
    await known.available(segs);
    assert.equal(asked, 1);
  });
});

describe('listingWindows', () => {
  const r = { from: T, to: T + 10 * H };
  test('newest first: growing windows ending at `to`, then the whole range', () => {
    assert.deepEqual(listingWindows({ ...r, sort: { field: 'time_received', desc: true } }), [
      { from: T + 10 * H - 300_000, to: T + 10 * H },
      { from: T + 9 * H, to: T + 10 * H },
      { from: T + 4 * H, to: T + 10 * H },
      { from: T, to: T + 10 * H },
    ]);
  });
  test('after a cursor: windows start at its time (inclusive of its second), ascending from there', () => {
    const after = { values: [T / 1000 + 7200, 0], inclusive: true, skip: 1 };
    assert.deepEqual(listingWindows({ ...r, sort: { field: 'time_received', desc: false }, after }).slice(0, 2), [
      { from: T + 2 * H, to: T + 2 * H + 300_000 },
      { from: T + 2 * H, to: T + 3 * H },
    ]);
    assert.deepEqual(listingWindows({ ...r, sort: { field: 'time_received', desc: true }, after })[0], { from: T + 2 * H + 1000 - 300_000, to: T + 2 * H + 1000 });
  });
  test('a store whose flows end early starts at its newest flow (the edge), not at `to`', () => {
    assert.deepEqual(listingWindows({ ...r, sort: { field: 'time_received', desc: true } }, T / 1000 + 3 * 3600 - 1).slice(0, 2), [
      { from: T + 3 * H - 300_000, to: T + 3 * H },
      { from: T + 2 * H, to: T + 3 * H },
    ]);
  });

  test('other sorts read the whole range at once', () => {
    assert.deepEqual(listingWindows({ ...r, sort: { field: 'bytes', desc: true } }), [{ from: T, to: T + 10 * H }]);
  });
});

describe('partial and listing SQL', () => {
  const req = (o: Partial<NodeQueryRequest>): NodeQueryRequest => ({
    mode: 'aggregate', from: T, to: T + H, filter: '', groupBy: [], distinct: [], segments: [{ table: 'flows', from: T / 1000, to: T / 1000 + 3600 }], limits: LIMITS, ...o,
  });

  test('partial aggregate: scaled sums, hex keys, distinct sets, read-only limits last', () => {
    const sql = buildPartialSql(req({ groupBy: ['src_addr', 'dst_port'], distinct: ['dst_addr'], interval: 300 }), parseFilter('dst port 443'));
    assert.match(sql, /bytes \* if\(sampling_rate = 0, 1, sampling_rate\) AS b_/);
    assert.match(sql, /hex\(k0\) AS g_src_addr, k1 AS g_dst_port/);
    assert.match(sql, /intDiv\(t_, 300\) \* 300 AS t/);
    assert.match(sql, /arrayStringConcat\(groupUniqArray\(hex\(v0\)\), ','\) AS d_dst_addr/);
    assert.match(sql, /\(dst_port = 443\)/);
    assert.match(sql, /SETTINGS max_execution_time = 5, max_memory_usage = 1073741824, max_result_rows = 1001, result_overflow_mode = 'throw', readonly = 1$/);
  });

  test('rollup segments read the pre-scaled sums; a rollup that cannot answer is refused', () => {
    const sql = buildPartialSql(req({ groupBy: ['protocol'], segments: [{ table: 'flows_1h', from: 0, to: 3600 }] }), parseFilter('exporter 10.0.0.1'), { database: 'db2' });
    assert.match(sql, /bytes_scaled AS b_, packets_scaled AS p_, flows AS f_ FROM db2\.flows_1h WHERE ts >= toDateTime\(0\)/);
    assert.throws(() => buildPartialSql(req({ groupBy: ['src_addr'], segments: [{ table: 'flows_1h', from: 0, to: 3600 }] }), parseFilter('')), /cannot answer/);
    assert.throws(() => buildPartialSql(req({ groupBy: ['bytes) FROM system.users --' as never] }), parseFilter('')), /not a query column/);
    assert.throws(() => buildPartialSql(req({}), parseFilter(''), { database: 'x; DROP' }), /bad table/);
  });

  test('cursor condition: lexicographic, typed literals only; hostile values are refused', () => {
    const order = listingOrder({ field: 'bytes', desc: true });
    const values: Array<number | string> = order.map((c) => (cellKind(c.column) === 'addr' ? '00000000000000000000FFFF0A000001' : 7));
    const cond = afterCondition(order, { values, inclusive: false, skip: 0 });
    assert.match(cond, /^\(bytes < 7 OR \(bytes = 7 AND \(time_received > toDateTime\(7\)/);
    assert.ok(cond.endsWith(` AND 0${')'.repeat(order.length * 2)}`), cond.slice(-40));
    const bad = [...values];
    bad[4] = "1') OR 1=1 --";
    assert.throws(() => afterCondition(order, { values: bad, inclusive: true, skip: 0 }), /expected 32 hex digits/);
    assert.throws(() => afterCondition(order, { values: values.slice(1), inclusive: true, skip: 0 }), /must hold/);
    const sql = buildListingSql(req({ mode: 'flows', sort: { field: 'src_addr', desc: false }, limit: 50, after: { values: values.map((v, i) => (i === 0 ? '00000000000000000000FFFF0A000001' : v)), inclusive: true, skip: 3 } }), parseFilter(''));
    assert.match(sql, /ORDER BY src_addr, time_received, .* LIMIT 53 /);
    assert.match(sql, /hex\(src_addr\) AS s_/);
  });
});
