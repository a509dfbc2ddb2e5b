import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@flowmesh/common';
import { FlowBatch, parseIpToBytes16 } from '@flowmesh/flow-decoder';
import { ChdbStore, insertFileDir } from './chdb.store';
import { encodeRowBinary } from './row-binary';
import { FLOW_COLUMNS, FLOWS_TABLE, MIGRATIONS_TABLE, SCHEMA_VERSION } from './schema';

describe('ChdbStore (real chDB)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flowmesh-chdb-store-'));
  const prefix = `flowmesh-spec-${process.pid}-`;
  const open = () => new ChdbStore({ path: join(dir, 'chdb'), memoryLimitBytes: 512 * 1024 ** 2, filePrefix: prefix, logger: new Logger('test', 'error') });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('creates the schema, takes RowBinary, reads back the same values, survives reopening', async () => {
    const b = new FlowBatch(2);
    for (const [k, src] of ['10.1.2.3', '2001:db8::5'].entries()) {
      const i = b.next();
      b.time_received[i] = 1_700_000_000_000 + k * 1000;
      parseIpToBytes16(src, b.src_addr, i * 16);
      parseIpToBytes16('192.0.2.1', b.exporter_addr, i * 16);
      b.bytes[i] = 2 ** 40 + k;
      b.packets[i] = 3;
      b.src_port[i] = 65535;
      b.ip_version[i] = k ? 6 : 4;
      b.src_mac[i] = 0xffffffffffff;
    }
    let store = open();
    await store.start();
    assert.deepEqual(store.health(), { status: 'ok' });
    await store.insert({ rows: 2, data: encodeRowBinary(b) });
    const cols = await store.select(`SELECT name, type FROM system.columns WHERE database = 'flowmesh' AND table = 'flows' ORDER BY position`);
    assert.deepEqual(cols.rows, FLOW_COLUMNS.map((c) => [c.name, c.type]));
    const q = `SELECT toUInt32(time_received), IPv6NumToString(src_addr), IPv6NumToString(exporter_addr), bytes, packets, src_port, ip_version, src_mac FROM ${FLOWS_TABLE} ORDER BY time_received`;
    const rows = (await store.select(q)).rows;
    assert.deepEqual(rows, [
      ['1700000000', '::ffff:10.1.2.3', '::ffff:192.0.2.1', String(2 ** 40), '3', '65535', '4', String(0xffffffffffff)],
      ['1700000001', '2001:db8::5', '::ffff:192.0.2.1', String(2 ** 40 + 1), '3', '65535', '6', String(0xffffffffffff)],
    ]);
    assert.deepEqual(readdirSync(insertFileDir()).filter((f) => f.startsWith(prefix)), [], 'insert files are removed');
    await store.stop();

    store = open();
    await store.start();
    assert.deepEqual((await store.select(`SELECT version FROM ${MIGRATIONS_TABLE}`)).rows, [[String(SCHEMA_VERSION)]], 'each migration applied once');
    assert.deepEqual((await store.select(q)).rows.length, 2);
    await assert.rejects(store.select('SELECT no_such_column FROM flowmesh.flows'), /no_such_column/);
    await store.stop();
  });
});
