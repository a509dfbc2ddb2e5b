/**
 * Issue 4 fault test (b): the collector node killed with SIGKILL mid-ingest and restarted on the same
 * data directory (embedded chDB) -> every flow sent is stored exactly once.
 *
 * Real processes: redis-server and the node (dist/apps/collector-node/src/main.js), real UDP from the
 * generator. The node is killed after every datagram reached the durable spool (appended rows = sent)
 * while the spool still holds batches the store has not confirmed (small batches make chDB the slow
 * step); on restart the spool replays them, asking the store `committed(id)` first. Then, with the node
 * stopped, its chDB directory is read back: rows = sent, no row twice, no batch twice.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedis, stopProcess, waitUntil } from '@flowmesh/testing';
import { chdbQuery, exactlyOnceSql, metric, NodeProcess, send, sleep, uniqueFlows } from './ingest-node';

const ID = 'kill-node';
const RECORDS = 300_000;
const BATCH_ROWS = 2000;

describe('node killed with SIGKILL mid-ingest (chDB)', () => {
  let dataDir: string;
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let node: NodeProcess;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'flowmesh-ingest-kill-'));
    redis = await startRedis();
    node = new NodeProcess({
      id: ID,
      dataDir,
      redisUrl: redis.url,
      sets: [`storage.batchRows=${BATCH_ROWS}`, 'storage.batchMs=200', 'storage.memoryLimitBytes=1073741824', 'spool.retryMs=50', 'spool.maxRetryMs=500'],
    });
    await node.start();
  });

  after(async () => {
    await node?.stop('SIGKILL').catch(() => undefined);
    await stopProcess(redis?.proc.child, 'SIGTERM');
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  test('every flow sent is stored exactly once after SIGKILL and restart', async () => {
    const sent = await send(uniqueFlows({ proto: 'v9', port: node.port, records: RECORDS, rate: 150_000 }));
    assert.equal(sent.send_errors, 0);
    assert.equal(sent.records, RECORDS);

    // Kill as soon as everything is in the spool, while batches are still unconfirmed by the store.
    let atKill = { appended: 0, delivered: 0, entries: 0 };
    await waitUntil(
      'every flow sent to reach the spool',
      async () => {
        const m = await node.metrics();
        atKill = {
          appended: metric(m, 'flowmesh_collector_spool_appended_rows_total') ?? NaN,
          delivered: metric(m, 'flowmesh_collector_spool_delivered_rows_total') ?? NaN,
          entries: metric(m, 'flowmesh_collector_spool_entries') ?? NaN,
        };
        if (atKill.appended > RECORDS) throw new Error(`more rows appended than sent: ${JSON.stringify(atKill)}`);
        return atKill.appended === RECORDS;
      },
      30_000,
      10,
    ).catch(async (e: Error) => {
      const m = await node.metrics().catch(() => '');
      throw new Error(`${e.message}; kernel drops ${metric(m, 'flowmesh_collector_udp_kernel_drops_total')}, app drops ${metric(m, 'flowmesh_collector_ingest_dropped_packets_total')} datagrams / ${metric(m, 'flowmesh_collector_ingest_dropped_flows_total')} flows`);
    });
    await node.stop('SIGKILL');
    assert.ok(atKill.delivered < RECORDS && atKill.entries > 0, `the kill must land while the spool holds unconfirmed batches: ${JSON.stringify(atKill)}`);

    await node.start(); // same data directory, same ports
    const stored = await waitUntil(
      'the replay to store every flow',
      async () => {
        const [n, m] = [await node.storedFlows(), await node.metrics()];
        return n >= RECORDS && metric(m, 'flowmesh_collector_spool_entries') === 0 ? n : undefined;
      },
      90_000,
      200,
    );
    assert.equal(stored, RECORDS, 'rows through the node API after the replay');
    const m = await node.metrics();
    const replayed = (metric(m, 'flowmesh_collector_spool_replayed_total') ?? 0) + (metric(m, 'flowmesh_collector_spool_skipped_committed_total') ?? 0);
    process.stdout.write(`# at SIGKILL: ${JSON.stringify(atKill)}; after restart: replayed ${metric(m, 'flowmesh_collector_spool_replayed_total')}, skipped as committed ${metric(m, 'flowmesh_collector_spool_skipped_committed_total')}\n`);
    assert.ok(replayed >= 1, 'the restarted node found unconfirmed batches in its spool');

    // Still ingesting after the restart.
    const more = await send(uniqueFlows({ proto: 'v9', port: node.port, records: 10_000, rate: 50_000, seed: 8 }));
    await waitUntil('the new flows to be stored', async () => (await node.storedFlows()) === RECORDS + more.records, 30_000, 100);
    await sleep(300);
    assert.equal(await node.stop('SIGTERM'), 0, `clean exit on SIGTERM: ${node.output().slice(-2000)}`);

    const q = exactlyOnceSql('flowmesh.flows');
    const [[rows, distinct, batches]] = chdbQuery(join(dataDir, ID, 'chdb'), q.totals);
    assert.equal(Number(rows), RECORDS + more.records, 'rows in chDB = flows sent');
    assert.equal(Number(distinct), Number(rows), 'no flow stored twice');
    assert.ok(Number(batches) >= Math.ceil(RECORDS / BATCH_ROWS), `batches ${batches}`);
    assert.deepEqual(chdbQuery(join(dataDir, ID, 'chdb'), q.badBatches), [], 'every batch_id holds each of its rows once');
  });
});
