import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@flowmesh/common';
import { FlowBatch, parseIpToBytes16 } from '@flowmesh/flow-decoder';
import { clickHouseServerSkipReason, ClickHouseServer, repoRoot, startClickHouseCluster, startClickHouseServer } from '@flowmesh/testing';
import { ChdbStore, insertFileDir } from './chdb.store';
import { ClickHouseStore } from './clickhouse.store';
import { BatchFormat, encodeBatch } from './batch-encoding';
import { ADDRESS_ROLLUPS, RAW_COLUMNS, ROLLUP_DIMENSIONS, ROLLUPS, SCHEMA_VERSION } from './schema';
import { EncodedBatch, FlowStore } from './storage';
import { ClickHouseConfig, RetentionConfig } from './storage.config';

const logger = new Logger('storage-spec', 'error');
const RETENTION: RetentionConfig = { rawDays: 30, minuteDays: 180, hourDays: 730 };
const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000; // an hour boundary, an hour ago

/** Rows covering every column: v4 and v6 addresses, MACs, 64-bit counters beyond 2^32, two exporters, three minutes, two hours. */
function sampleBatch(n: number, t0 = NOW): FlowBatch {
  const b = new FlowBatch(n);
  for (let k = 0; k < n; k++) {
    const i = b.next();
    b.time_received[i] = t0 + (k % 3) * 60_000 + (k % 2) * 3_600_000 + 1500;
    b.flow_start[i] = b.time_received[i] - 10_000;
    b.flow_end[i] = b.time_received[i] - 1000;
    parseIpToBytes16(k % 2 ? '192.0.2.1' : '2001:db8::1', b.exporter_addr, i * 16);
    b.observation_domain[i] = 7 + k;
    b.flow_type[i] = k % 2 ? 9 : 10;
    b.sampling_rate[i] = k % 4; // 0 = unknown, scales by 1
    b.ip_version[i] = k % 2 ? 4 : 6;
    parseIpToBytes16(k % 2 ? `10.0.${k % 256}.1` : `2001:db8::${(k + 256).toString(16)}`, b.src_addr, i * 16);
    parseIpToBytes16(k % 2 ? '198.51.100.7' : 'fe80::1', b.dst_addr, i * 16);
    parseIpToBytes16(k % 2 ? '203.0.113.1' : '::', b.next_hop, i * 16);
    b.src_port[i] = 65535 - k;
    b.dst_port[i] = 443;
    b.protocol[i] = k % 3 ? 6 : 17;
    b.tcp_flags[i] = 0x1b;
    b.tos[i] = k % 2 ? 0xb8 : 0;
    b.bytes[i] = 2 ** 33 + k;
    b.packets[i] = 2 ** 32 + 3 * k;
    b.in_if[i] = 4_000_000_000;
    b.out_if[i] = k;
    b.src_as[i] = 4_200_000_000;
    b.dst_as[i] = 64500;
    b.src_mask[i] = 24;
    b.dst_mask[i] = 64;
    b.direction[i] = k % 2;
    b.vlan[i] = 4095;
    b.src_mac[i] = 0xffffffffffff;
    b.dst_mac[i] = 0x0242ac110002 + k;
  }
  return b;
}

function encoded(b: FlowBatch, id: string, format: BatchFormat = 'native'): EncodedBatch {
  return encodeBatch(b, id, format);
}

const ALL_COLUMNS = RAW_COLUMNS.map((c) => (c.type === 'FixedString(16)' ? `IPv6NumToString(${c.name})` : c.type === 'DateTime' ? `toUInt32(${c.name})` : c.name)).join(', ');

/** The same row as text, as the query above returns it. */
function expectedRow(b: FlowBatch, i: number, id: string): string[] {
  const ip = (a: Uint8Array) => {
    const s = Buffer.from(a.subarray(i * 16, i * 16 + 16));
    if (s.subarray(0, 12).equals(Buffer.from('00000000000000000000ffff', 'hex'))) return `::ffff:${[...s.subarray(12)].join('.')}`;
    return s.equals(Buffer.alloc(16)) ? '::' : undefined;
  };
  const v6 = (a: Uint8Array, text: string) => ip(a) ?? text;
  const k = i;
  return [
    String(Math.floor(b.time_received[i] / 1000)), String(Math.floor(b.flow_start[i] / 1000)), String(Math.floor(b.flow_end[i] / 1000)),
    v6(b.exporter_addr, '2001:db8::1'), String(b.observation_domain[i]), String(b.flow_type[i]), String(b.sampling_rate[i]), String(b.ip_version[i]),
    v6(b.src_addr, `2001:db8::${(k + 256).toString(16)}`), v6(b.dst_addr, 'fe80::1'), String(b.src_port[i]), String(b.dst_port[i]), String(b.protocol[i]),
    String(b.tcp_flags[i]), String(b.tos[i]), String(b.bytes[i]), String(b.packets[i]), String(b.in_if[i]), String(b.out_if[i]), String(b.src_as[i]),
    String(b.dst_as[i]), v6(b.next_hop, '::'), String(b.src_mask[i]), String(b.dst_mask[i]), String(b.direction[i]), String(b.vlan[i]),
    String(b.src_mac[i]), String(b.dst_mac[i]), BigInt(`0x${id}`).toString(),
  ];
}

/** The checks both engines must pass; `store` is open on an empty database. */
function contract(engine: string, get: () => FlowStore) {
  const batch = sampleBatch(12);
  const id = '6553f10000000001';

  const rowBinaryId = '6553f10000000009';

  test(`${engine}: insert + select round trip of every column, Native and RowBinary`, async () => {
    const store = get();
    await store.insert(encoded(batch, id, 'native'));
    await store.insert(encoded(batch, rowBinaryId, 'rowbinary'));
    const cols = await store.select(`DESCRIBE TABLE ${store.database}.flows`);
    assert.deepEqual(cols.rows.map((r) => r.slice(0, 2)), RAW_COLUMNS.map((c) => [c.name, c.type]));
    for (const b of [id, rowBinaryId]) {
      const rows = (await store.select(`SELECT ${ALL_COLUMNS} FROM ${store.database}.flows WHERE batch_id = ${BigInt(`0x${b}`)} ORDER BY observation_domain`)).rows;
      assert.deepEqual(rows, Array.from({ length: batch.length }, (_, i) => expectedRow(batch, i, b)), b);
      assert.ok(rows.some((r) => r[3].startsWith('::ffff:')) && rows.some((r) => r[3] === '2001:db8::1'));
    }
  });

  test(`${engine}: committed(id) is true after the insert, false for an unknown or malformed id`, async () => {
    const store = get();
    assert.equal(await store.committed(id), true);
    assert.equal(await store.committed('6553f10000000002'), false);
    assert.equal(await store.committed('not-a-batch-id'), false);
    await assert.rejects(store.insert({ id: 'XYZ', rows: 1, format: 'rowbinary', data: Buffer.alloc(154) }), /refused batch/);
    await assert.rejects(store.insert({ id, rows: 2, format: 'rowbinary', data: Buffer.alloc(154) }), /refused batch: 154 bytes for 2 rows/);
    await assert.rejects(store.insert({ id, rows: 2, format: 'native', data: Buffer.alloc(308) }), /refused batch: 308 bytes for a Native block of 2 rows/);
  });

  test(`${engine}: the 1-minute, 1-hour and address rollups hold the raw table's sums`, async () => {
    const store = get();
    const more = sampleBatch(30, NOW + 120_000);
    await store.insert(encoded(more, '6553f10000000003'));
    const dims = ROLLUP_DIMENSIONS.map((d) => (d === 'exporter_addr' ? `hex(${d})` : d)).join(', ');
    for (const r of ROLLUPS) {
      const fromRollup = await store.select(
        `SELECT toUInt32(ts) AS tb, ${dims}, sum(bytes), sum(packets), sum(flows), sum(bytes_scaled), sum(packets_scaled) FROM ${store.database}.${r.table} GROUP BY tb, ${dims} ORDER BY tb, ${dims}`,
      );
      const fromRaw = await store.select(
        `SELECT toUInt32(${r.bucket}(time_received)) AS tb, ${dims}, sum(bytes), sum(packets), count(), sum(bytes * greatest(sampling_rate, 1)), sum(packets * greatest(sampling_rate, 1)) FROM ${store.database}.flows GROUP BY tb, ${dims} ORDER BY tb, ${dims}`,
      );
      assert.deepEqual(fromRollup.rows, fromRaw.rows, r.table);
      const total = await store.select(`SELECT sum(bytes), sum(flows), uniqExact(ts) FROM ${store.database}.${r.table}`);
      // `batch` went in twice (Native and RowBinary, the round-trip test), `more` once.
      const wantBytes = [...batch.bytes.subarray(0, 12), ...batch.bytes.subarray(0, 12), ...more.bytes.subarray(0, 30)].reduce((a, v) => a + BigInt(v), 0n);
      assert.deepEqual(total.rows[0].slice(0, 2), [String(wantBytes), '54'], `${r.table} totals`);
      assert.ok(Number(total.rows[0][2]) >= (r.table === 'flows_1m' ? 6 : 2), `${r.table} buckets`);
    }
    for (const r of ADDRESS_ROLLUPS) {
      const keys = `hex(exporter_addr), hex(${r.address})`;
      const fromRollup = await store.select(
        `SELECT toUInt32(ts) AS tb, ${keys}, sum(bytes), sum(packets), sum(flows), sum(bytes_scaled), sum(packets_scaled) FROM ${store.database}.${r.table} GROUP BY tb, ${keys} ORDER BY tb, ${keys}`,
      );
      const fromRaw = await store.select(
        `SELECT toUInt32(toStartOfHour(time_received)) AS tb, ${keys}, sum(bytes), sum(packets), count(), sum(bytes * greatest(sampling_rate, 1)), sum(packets * greatest(sampling_rate, 1)) FROM ${store.database}.flows GROUP BY tb, ${keys} ORDER BY tb, ${keys}`,
      );
      assert.deepEqual(fromRollup.rows, fromRaw.rows, r.table);
      assert.ok(fromRaw.rows.length >= (r.address === 'src_addr' ? 12 : 2), `${r.table}: one row per hour, exporter and address (${fromRaw.rows.length})`);
    }
  });
}

describe('ChdbStore (real chDB)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flowmesh-chdb-store-'));
  const prefix = `flowmesh-spec-${process.pid}-`;
  let store: ChdbStore;
  const open = () => new ChdbStore({ path: join(dir, 'chdb'), memoryLimitBytes: 512 * 1024 ** 2, filePrefix: prefix, retention: RETENTION, logger });
  before(async () => {
    store = open();
    await store.start();
  });
  after(async () => {
    await store.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  contract('chDB', () => store);

  test('chDB: the experimental Arrow path stores the same rows as RowBinary', async () => {
    const b = sampleBatch(7, NOW - 86_400_000);
    await store.insertArrow(b, '6553f10000000a01');
    await store.insert(encoded(b, '6553f10000000a02', 'rowbinary'));
    const q = (id: string) => store.select(`SELECT ${ALL_COLUMNS.replace(/, batch_id$/, '')} FROM flowmesh.flows WHERE batch_id = ${BigInt(`0x${id}`)} ORDER BY observation_domain`);
    const viaArrow = (await q('6553f10000000a01')).rows;
    assert.equal(viaArrow.length, 7);
    assert.deepEqual(viaArrow, (await q('6553f10000000a02')).rows);
    assert.equal(await store.committed('6553f10000000a01'), true);
  });

  test('chDB: migrations are recorded once; reopening applies none; TTL per table; insert files removed', async () => {
    assert.match(store.features?.version ?? '', /^2\d\./);
    assert.deepEqual(store.health(), { status: 'ok' });
    assert.deepEqual(readdirSync(insertFileDir()).filter((f) => f.startsWith(prefix)), []);
    await store.stop();
    store = open();
    await store.start();
    const versions = (await store.select('SELECT version FROM flowmesh.schema_migrations ORDER BY version')).rows.flat();
    assert.deepEqual(versions, ['1', '2', '3', '4', '5', '6']);
    assert.equal(SCHEMA_VERSION, 6);
    const ttl = (await store.select("SELECT name, extract(create_table_query, 'TTL [^S]*') FROM system.tables WHERE database = 'flowmesh' AND name LIKE 'flows%' AND engine LIKE '%MergeTree' ORDER BY name")).rows;
    assert.deepEqual(ttl, [
      ['flows', 'TTL time_received + toIntervalDay(30) '],
      ['flows_1h', 'TTL ts + toIntervalDay(730) '],
      ['flows_1m', 'TTL ts + toIntervalDay(180) '],
      ['flows_dst_1h', 'TTL ts + toIntervalDay(730) '],
      ['flows_src_1h', 'TTL ts + toIntervalDay(730) '],
    ]);
    assert.deepEqual((await store.applyRetention()).changed, [], 'an unchanged TTL is not modified again');
    assert.equal(await store.committed('6553f10000000001'), true, 'found by the query after a reopen');
    await assert.rejects(store.select('SELECT no_such_column FROM flowmesh.flows'), /no_such_column/);
  });

  test('chDB: an upgrade to migration 6 fills the address rollups from the flows already stored, once', async () => {
    for (const r of ADDRESS_ROLLUPS) {
      await store.exec(`DROP TABLE IF EXISTS flowmesh.${r.table}_mv`);
      await store.exec(`DROP TABLE IF EXISTS flowmesh.${r.table}`);
    }
    await store.exec('DELETE FROM flowmesh.schema_migrations WHERE version = 6');
    const sums = async (t: string) => (await store.select(`SELECT sum(${t === 'flows' ? '1' : 'flows'}), sum(bytes) FROM flowmesh.${t}`)).rows[0];
    const raw = await sums('flows');
    assert.ok(Number(raw[0]) > 50, `flows stored before the upgrade: ${raw[0]}`);
    for (let reopen = 0; reopen < 2; reopen++) {
      // The second time as after a crash before version 6 was recorded: it runs again, adding nothing.
      if (reopen === 1) await store.exec('DELETE FROM flowmesh.schema_migrations WHERE version = 6');
      await store.stop();
      store = open();
      await store.start();
      for (const r of ADDRESS_ROLLUPS) assert.deepEqual(await sums(r.table), raw, `${r.table} after start ${reopen + 1}`);
    }
  });
});

describe('ClickHouseStore (real ClickHouse 18.16 server)', () => {
  const skip = clickHouseServerSkipReason();
  let ch: ClickHouseServer;
  let store: ClickHouseStore;
  const server = (): ClickHouseConfig => ({ url: ch.url, database: 'fm_shard1', username: 'default', password: '', requestTimeoutMs: 5000 });
  const open = () => new ClickHouseStore({ server: server(), retention: RETENTION, logger, pingEveryMs: 200 });
  before(async () => {
    if (skip) return;
    ch = await startClickHouseServer();
    store = open();
    await store.start();
  });
  after(async () => {
    await store?.stop();
    await ch?.stop();
  });

  if (skip) {
    test('ClickHouse 18.16', { skip }, () => undefined);
    return;
  }

  contract('18.16', () => store);

  test('18.16: committed() of another process scans batch_id once per incarnation, then answers from the snapshot', async () => {
    const other = open();
    await other.start();
    try {
      assert.equal(await other.committed('6553f10000000001'), true);
      assert.equal(await other.committed('6553f10000000003'), true);
      assert.equal(await other.committed('6553f100000000ff'), false);
      assert.equal(other.scans, 1);
      assert.equal(await other.committed('0000000100000001'), false);
      assert.equal(other.scans, 2);
    } finally {
      await other.stop();
    }
  });

  test('18.16: migrations apply once; concurrent restarts re-apply nothing and fail nothing', async () => {
    assert.match(ch.version, /^18\.16\./);
    assert.equal(store.features?.ttl, false);
    const others = [open(), open()];
    await Promise.all(others.map((s) => s.start()));
    for (const s of others) assert.deepEqual(s.health(), { status: 'ok' });
    await Promise.all(others.map((s) => s.stop()));
    const versions = (await store.select('SELECT version, count() FROM fm_shard1.schema_migrations GROUP BY version ORDER BY version')).rows;
    assert.deepEqual(versions, [['1', '1'], ['2', '1'], ['3', '1'], ['4', '1'], ['6', '1']], 'the gated index migration is not recorded on 18.16');
    const tables = (await store.select("SELECT name FROM system.tables WHERE database = 'fm_shard1' ORDER BY name")).rows.flat();
    assert.deepEqual(tables, ['flows', 'flows_1h', 'flows_1h_mv', 'flows_1m', 'flows_1m_mv', 'flows_dst_1h', 'flows_dst_1h_mv', 'flows_src_1h', 'flows_src_1h_mv', 'schema_migrations']);
  });

  test('18.16: retention drops partitions older than each table\'s days, and only those', async () => {
    const day = 86_400_000;
    const old = sampleBatch(4, NOW - 40 * day); // raw 30 d: goes; 1m 180 d, 1h 730 d: stay
    const ancient = sampleBatch(4, NOW - 200 * day); // raw and 1m go; 1h stays
    await store.insert(encoded(old, '6553f10000000010'));
    await store.insert(encoded(ancient, '6553f10000000011'));
    const count = async (t: string) => Number((await store.select(`SELECT sum(${t === 'flows' ? '1' : 'flows'}) FROM fm_shard1.${t}`)).rows[0][0]);
    const before = { flows: await count('flows'), flows_1m: await count('flows_1m'), flows_1h: await count('flows_1h') };
    const r = await store.applyRetention();
    assert.equal(r.mode, 'partitions');
    assert.ok(r.changed.length >= 3, r.changed.join('\n'));
    assert.deepEqual(
      { flows: await count('flows'), flows_1m: await count('flows_1m'), flows_1h: await count('flows_1h') },
      { flows: before.flows - 8, flows_1m: before.flows_1m - 4, flows_1h: before.flows_1h },
    );
    assert.equal(await store.committed('6553f10000000001'), true, 'recent rows stay');
    assert.deepEqual((await store.applyRetention()).changed, [], 'nothing left to drop');
  });

  test('18.16: an insert against a stopped server rejects with nothing stored, and succeeds after a restart', async () => {
    const rows = async () => Number((await store.select('SELECT count() FROM fm_shard1.flows')).rows[0][0]);
    const had = await rows();
    await ch.halt();
    const b = encoded(sampleBatch(5), '6553f10000000020');
    await assert.rejects(store.insert(b));
    assert.equal(store.health().status, 'error');
    await assert.rejects(store.committed('6553f10000000020'));
    await ch.restart();
    await new Promise((r) => setTimeout(r, 400)); // the ping timer clears the error
    assert.deepEqual(store.health(), { status: 'ok' });
    assert.equal(await rows(), had, 'the refused insert left nothing');
    assert.equal(await store.committed('6553f10000000020'), false);
    await store.insert(b);
    assert.equal(await store.committed('6553f10000000020'), true);
    assert.equal(await rows(), had + 5);
  });
});

describe('two 18.16 shards: one node per shard, Distributed reads (deploy/clickhouse/cluster.sql)', () => {
  const skip = clickHouseServerSkipReason();
  let shards: ClickHouseServer[] = [];
  const stores: ClickHouseStore[] = [];
  after(async () => {
    await Promise.all(stores.map((s) => s.stop()));
    await Promise.all(shards.map((s) => s.stop()));
  });

  test('each node writes its shard; flows_all and the rollups read both', { skip }, async () => {
    shards = await startClickHouseCluster(2);
    for (const [n, ch] of shards.entries()) {
      const s = new ClickHouseStore({ server: { url: ch.url, database: 'flowmesh', username: 'default', password: '', requestTimeoutMs: 5000 }, retention: RETENTION, logger });
      stores.push(s);
      await s.start();
      await s.insert(encoded(sampleBatch(n ? 30 : 12, NOW + n * 60_000), `6553f1000000010${n}`));
    }
    const ddl = readFileSync(join(repoRoot, 'deploy/clickhouse/cluster.sql'), 'utf8')
      .split('\n')
      .filter((l) => !l.startsWith('--'))
      .join('\n')
      .split(';')
      .map((q) => q.trim())
      .filter(Boolean);
    assert.equal(ddl.length, 5);
    for (const q of ddl) await shards[0].query(q);
    const r = await shards[0].query(
      'SELECT (SELECT count() FROM flowmesh.flows_all), (SELECT sum(flows) FROM flowmesh.flows_1m_all), (SELECT sum(flows) FROM flowmesh.flows_1h_all), ' +
        '(SELECT count() FROM flowmesh.flows), (SELECT sum(bytes) FROM flowmesh.flows_all) = (SELECT sum(bytes) FROM flowmesh.flows_1h_all), ' +
        '(SELECT sum(flows) FROM flowmesh.flows_src_1h_all), (SELECT sum(flows) FROM flowmesh.flows_dst_1h_all)',
      'reader',
    );
    assert.equal(r.trim(), '42\t42\t42\t12\t1\t42\t42');
  });
});
