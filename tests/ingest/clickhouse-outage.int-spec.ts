/**
 * Issue 4 fault test (a): the ClickHouse 18.16 server stopped during ingest and started again later ->
 * every flow sent is stored exactly once.
 *
 * Real processes: a throwaway clickhouse-server 18.16 (@flowmesh/testing), redis-server, the node with
 * storage.engine=clickhouse, real UDP from the generator. The server is stopped with SIGTERM while the
 * generator is sending (inserts in flight fail, or commit while their reply is lost), the node keeps
 * decoding into its spool, the server comes back on the same data and ports, the spool replays. The
 * raw table is then read on the server: rows = sent, no row twice, no batch twice.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clickHouseServerSkipReason, ClickHouseServer, startClickHouseServer, startRedis, stopProcess, waitUntil } from '@flowmesh/testing';
import { exactlyOnceSql, metric, NodeProcess, send, sleep, uniqueFlows } from './ingest-node';

const RECORDS = 400_000;
const RATE = 100_000;
const skip = clickHouseServerSkipReason();

describe('ClickHouse 18.16 stopped during ingest and started again', { skip }, () => {
  let dataDir: string;
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let ch: ClickHouseServer;
  let node: NodeProcess;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'flowmesh-ingest-ch-'));
    [redis, ch] = await Promise.all([startRedis(), startClickHouseServer()]);
    node = new NodeProcess({
      id: 'ch-outage-node',
      dataDir,
      redisUrl: redis.url,
      sets: [
        'storage.engine=clickhouse',
        `storage.clickhouse.url=${ch.url}`,
        'storage.clickhouse.requestTimeoutMs=5000',
        'storage.batchRows=5000',
        'storage.batchMs=200',
        'spool.retryMs=100',
        'spool.maxRetryMs=1000',
      ],
    });
    await node.start();
  });

  after(async () => {
    await node?.stop('SIGKILL').catch(() => undefined);
    await ch?.stop().catch(() => undefined);
    await stopProcess(redis?.proc.child, 'SIGTERM');
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  test('every flow sent is stored exactly once', async () => {
    const count = async (): Promise<number> => Number((await ch.query('SELECT count() FROM flowmesh.flows FORMAT TSV')).trim());
    const sending = send(uniqueFlows({ proto: 'v9', port: node.port, records: RECORDS, rate: RATE }));
    // Stop the server once the first batches are in (while the generator is still sending).
    const storedBeforeOutage = await waitUntil('the first batches to be stored', async () => (await count()) || undefined, 3_500, 50);
    await ch.halt(); // SIGTERM while batches are being inserted
    const sent = await sending;
    assert.equal(sent.send_errors, 0);
    assert.equal(sent.records, RECORDS);

    // Everything reaches the spool while the server is down; the store's failures are counted.
    await waitUntil('every flow sent to reach the spool', async () => metric(await node.metrics(), 'flowmesh_collector_spool_appended_rows_total') === RECORDS, 30_000, 100);
    await sleep(1500); // a few retries against the stopped server
    const down = await node.metrics();
    const errors = metric(down, 'flowmesh_collector_spool_store_errors_total') ?? 0;
    const pending = metric(down, 'flowmesh_collector_spool_entries') ?? 0;
    process.stdout.write(`# outage: ${storedBeforeOutage} rows stored before it; while down: ${errors} store errors, ${pending} batches waiting in the spool\n`);
    assert.ok(errors > 0, 'the node saw the store fail');
    assert.ok(pending > 0, 'unconfirmed batches wait in the spool');
    assert.ok(storedBeforeOutage > 0 && storedBeforeOutage < RECORDS, `the outage started mid-ingest (${storedBeforeOutage} rows stored before it)`);

    await ch.restart(); // same data directory and ports
    await waitUntil(
      'the spool to drain into the restarted server',
      async () => (await count()) >= RECORDS && metric(await node.metrics(), 'flowmesh_collector_spool_entries') === 0,
      90_000,
      200,
    );
    await sleep(500);
    assert.equal(await node.storedFlows(), RECORDS, 'rows through the node API = flows sent');

    const q = exactlyOnceSql('flowmesh.flows');
    const [rows, distinct, batches] = (await ch.query(q.totals)).trim().split('\t').map(Number);
    assert.equal(rows, RECORDS, 'rows on the server = flows sent');
    assert.equal(distinct, rows, 'no flow stored twice');
    assert.ok(batches >= RECORDS / 5000, `batches ${batches}`);
    assert.equal((await ch.query(q.badBatches)).trim(), '', 'every batch_id holds each of its rows once');
    const after = await node.metrics();
    process.stdout.write(`# after restart: replayed ${metric(after, 'flowmesh_collector_spool_replayed_total')}, skipped as committed ${metric(after, 'flowmesh_collector_spool_skipped_committed_total')}, ${batches} batches\n`);
    assert.equal(await node.stop('SIGTERM'), 0, `clean exit: ${node.output().slice(-2000)}`);
  });
});
