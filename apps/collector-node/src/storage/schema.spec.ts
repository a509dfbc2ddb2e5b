import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, validateConfig } from '@flowmesh/common';
import { CommittedIds } from './committed-ids';
import { expiredPartitions } from './retention';
import { migrate, migrations, RAW_COLUMNS, ROLLUP_DIMENSIONS, ROLLUP_SUMS, SCHEMA_VERSION, serverFeatures, SqlRunner } from './schema';
import { batchIdLiteral, isBatchId } from './storage';
import { StorageConfig } from './storage.config';

const OLD = serverFeatures('18.16.1');
const NEW = serverFeatures('26.7.1.1');
const all = (db: string, f = OLD) => migrations(db, f).flatMap((m) => m.statements).join('\n');

describe('schema DDL per server version', () => {
  test('features from SELECT version()', () => {
    assert.deepEqual(OLD, { version: '18.16.1', major: 18, minor: 16, codecs: false, ttl: false, skipIndexes: false });
    assert.deepEqual([NEW.major, NEW.codecs, NEW.ttl, NEW.skipIndexes], [26, true, true, true]);
    assert.equal(serverFeatures('garbage').codecs, false, 'unknown versions get the oldest dialect');
  });

  test('18.16: no codecs, TTL, skip indexes or LowCardinality; the index migration is empty there', () => {
    const sql = all('flowmesh');
    for (const modern of ['CODEC', 'TTL', 'INDEX', 'LowCardinality', 'ttl_only_drop_parts', 'IPv6', 'DateTime64']) assert.ok(!sql.includes(modern), modern);
    assert.deepEqual(migrations('flowmesh', OLD).find((m) => m.version === 5)?.statements, []);
  });

  test('26.x: ZSTD codecs on every column, TTL-friendly settings, a minmax index on batch_id', () => {
    const ms = migrations('flowmesh', NEW);
    const flows = ms[0].statements[0];
    assert.equal((flows.match(/CODEC\(/g) ?? []).length, RAW_COLUMNS.length - 1, 'one codec per column of migration 1');
    assert.match(flows, /time_received DateTime CODEC\(Delta, ZSTD\(1\)\)/);
    assert.match(flows, /ttl_only_drop_parts = 1/);
    assert.match(ms[1].statements[0], /ADD COLUMN IF NOT EXISTS batch_id UInt64 CODEC\(ZSTD\(1\)\)/);
    assert.deepEqual(ms[4].statements, ['ALTER TABLE flowmesh.flows ADD INDEX IF NOT EXISTS batch_id_idx batch_id TYPE minmax GRANULARITY 1']);
    assert.equal(Math.max(...ms.map((m) => m.version)), SCHEMA_VERSION);
  });

  test('sort keys start with the time bucket, then the exporter; partitions by day (hourly rollup by month)', () => {
    const sql = all('db1');
    assert.match(sql, /CREATE TABLE IF NOT EXISTS db1\.flows [\s\S]*PARTITION BY toYYYYMMDD\(time_received\) ORDER BY \(toStartOfHour\(time_received\), exporter_addr, time_received\)/);
    assert.match(sql, /db1\.flows_1m [\s\S]*SummingMergeTree\(\(sum_bytes, sum_packets, flows, bytes_scaled, packets_scaled\)\) PARTITION BY toYYYYMMDD\(ts\) ORDER BY \(toStartOfHour\(ts\), exporter_addr, ts, flow_type,/);
    assert.match(sql, /db1\.flows_1h [\s\S]*PARTITION BY toYYYYMM\(ts\) ORDER BY \(toStartOfDay\(ts\), exporter_addr, ts, flow_type,/);
    assert.ok(!/flowmesh\./.test(sql), 'every name in the chosen database');
  });

  test('every rollup is fed from the raw table (on 18.16 a view over a view target never fires)', () => {
    for (const f of [OLD, NEW]) {
      const allViews = all('flowmesh', f).split('\n').filter((s) => s.startsWith('CREATE MATERIALIZED VIEW'));
      assert.equal(allViews.length, 4);
      const views = allViews.filter((v) => /TO flowmesh\.flows_1[mh] /.test(v));
      assert.equal(views.length, 2);
      for (const v of allViews.filter((x) => !views.includes(x))) {
        assert.match(v, /TO flowmesh\.flows_(src|dst)_1h AS SELECT toStartOfHour\(time_received\) AS ts, exporter_addr, (src|dst)_addr, .* FROM flowmesh\.flows GROUP BY ts, exporter_addr, (src|dst)_addr$/);
      }
      for (const v of views) {
        assert.match(v, /FROM flowmesh\.flows GROUP BY/);
        assert.ok(!/FROM flowmesh\.flows_1/.test(v));
        for (const c of [...ROLLUP_DIMENSIONS, ...ROLLUP_SUMS]) assert.ok(v.includes(c), c);
        assert.ok(!/sum\((bytes|packets)\) AS (bytes|packets)\b/.test(v), 'never sum(x) AS x: both analyzers refuse it');
        assert.match(v, /GROUP BY ts, exporter_addr/, 'pre-aggregated per insert block');
      }
      assert.match(views[0], /TO flowmesh\.flows_1m AS SELECT toStartOfMinute\(\w+\) AS ts/);
      assert.match(views[1], /TO flowmesh\.flows_1h AS SELECT toStartOfHour\(\w+\) AS ts/);
    }
    assert.match(all('flowmesh', NEW), /bytes UInt64 ALIAS sum_bytes,\n {2}packets UInt64 ALIAS sum_packets\n\)/, 'no codec on alias columns');
    assert.equal(all('flowmesh', OLD).split('\n').filter((x) => x.startsWith('CREATE MATERIALIZED')).join(), all('flowmesh', NEW).split('\n').filter((x) => x.startsWith('CREATE MATERIALIZED')).join(), 'same views everywhere');
  });
});

/** A SqlRunner that records statements and knows which migrations/columns exist (for the runner's logic). */
class FakeDb implements SqlRunner {
  log: string[] = [];
  versions: number[] = [];
  columns = new Set<string>();
  async exec(sql: string): Promise<void> {
    this.log.push(sql);
    const ins = /VALUES \((\d+),/.exec(sql);
    if (ins) this.versions.push(Number(ins[1]));
    const add = /ADD COLUMN (\w+)/.exec(sql);
    if (add) this.columns.add(add[1]);
  }
  async select(sql: string): Promise<{ rows: string[][] }> {
    if (sql.startsWith('SELECT DISTINCT version')) return { rows: [...new Set(this.versions)].map((v) => [String(v)]) };
    const col = /name = '(\w+)'/.exec(sql);
    if (col) return { rows: [[this.columns.has(col[1]) ? '1' : '0']] };
    throw new Error(`unexpected ${sql}`);
  }
}

describe('migration runner', () => {
  test('applies each version once, in order; a second run is a no-op; empty migrations are not recorded', async () => {
    const db = new FakeDb();
    assert.deepEqual(await migrate(db, 'flowmesh', OLD), [1, 2, 3, 4, 6]);
    assert.ok(db.log.some((s) => s === 'ALTER TABLE flowmesh.flows ADD COLUMN batch_id UInt64'), '18.16 gets a plain ADD COLUMN after a look-up');
    const n = db.log.length;
    assert.deepEqual(await migrate(db, 'flowmesh', OLD), []);
    assert.ok(db.log.slice(n).every((s) => !s.startsWith('CREATE MATERIALIZED') && !s.includes('ADD COLUMN batch_id')));
    assert.deepEqual(await migrate(db, 'flowmesh', NEW), [5], 'after a server upgrade the gated migration applies');
  });

  test('a racing runner\'s "already exists" counts as done; other errors name the migration', async () => {
    const db = new FakeDb();
    db.exec = async (sql: string) => {
      if (sql.startsWith('CREATE MATERIALIZED VIEW')) throw new Error('Code: 57, e.displayText() = DB::Exception: Table flowmesh.flows_1m_mv already exists.');
      return FakeDb.prototype.exec.call(db, sql);
    };
    assert.deepEqual(await migrate(db, 'flowmesh', OLD), [1, 2, 3, 4, 6]);
    const bad = new FakeDb();
    bad.exec = async (sql: string) => {
      if (sql.includes('flows_1h')) throw new Error('Code: 241, Memory limit exceeded');
      return FakeDb.prototype.exec.call(bad, sql);
    };
    await assert.rejects(migrate(bad, 'flowmesh', OLD), /migration 4 \(1-hour rollup\) failed: Code: 241/);
  });
});

describe('retention on servers without TTL', () => {
  const now = Date.UTC(2026, 10, 21, 10, 0); // 2026-11-21
  test('day partitions wholly older than the retention (plus a day of time-zone margin) go, nothing else', () => {
    const parts = ['20261018', '20261019', '20261020', '20261021', '20261121', 'tuple()', '2026'];
    assert.deepEqual(expiredPartitions(parts, 30, now), ['20261018', '20261019', '20261020']);
  });
  test('month partitions go when their last day is past the retention', () => {
    assert.deepEqual(expiredPartitions(['202410', '202411', '202412', '202611'], 730, now), ['202410']);
  });
});

describe('batch ids and the committed set', () => {
  test('ids are 16 lowercase hex digits; the SQL literal is the UInt64 in decimal', () => {
    assert.equal(batchIdLiteral('ffffffffffffffff'), '18446744073709551615');
    assert.equal(batchIdLiteral('0000000100000002'), '4294967298');
    for (const bad of ['', 'FFFFFFFFFFFFFFFF', '1 OR 1=1 -- xxxx', '00000000000000000']) {
      assert.equal(isBatchId(bad), false, bad);
      assert.throws(() => batchIdLiteral(bad), /invalid batch id/);
    }
  });
  test('the set is bounded and forgets the oldest first', () => {
    const s = new CommittedIds(3);
    for (const id of ['a', 'b', 'c', 'a', 'd']) s.add(id);
    assert.equal(s.size, 3);
    assert.deepEqual(['a', 'b', 'c', 'd'].map((id) => s.has(id)), [true, false, true, true]);
  });
});

describe('StorageConfig', () => {
  test('defaults', () => {
    const c = validateConfig(StorageConfig, {});
    assert.equal(c.engine, 'chdb');
    assert.deepEqual({ ...c.retention }, { rawDays: 30, minuteDays: 180, hourDays: 730 });
    assert.deepEqual({ ...c.clickhouse }, { url: 'http://127.0.0.1:8123', database: 'flowmesh', username: 'default', password: '', requestTimeoutMs: 30_000 });
  });
  test('a ClickHouse URL must be http(s); the database an identifier; unknown keys are errors', () => {
    const ok = validateConfig(StorageConfig, { engine: 'clickhouse', clickhouse: { url: 'https://ch.example:8443', database: 'shard_1' } });
    assert.equal(ok.clickhouse.url, 'https://ch.example:8443');
    for (const [plain, key] of [
      [{ clickhouse: { url: 'tcp://127.0.0.1:9000' } }, 'clickhouse.url'],
      [{ clickhouse: { url: 'http://' } }, 'clickhouse.url'],
      [{ clickhouse: { database: 'a; DROP' } }, 'clickhouse.database'],
      [{ retention: { rawDays: 0 } }, 'retention.rawDays'],
      [{ engine: 'sqlite' }, 'engine'],
      [{ clickhouse: { nope: 1 } }, 'nope'],
    ] as const) {
      assert.throws(
        () => validateConfig(StorageConfig, plain as Record<string, unknown>),
        (e: unknown) => e instanceof ConfigError && e.message.includes(key),
        JSON.stringify(plain),
      );
    }
  });
});
