import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { Health, Logger } from '@flowmesh/common';
import { DECODE_ERROR_REASONS } from '@flowmesh/flow-decoder';
import { ROW_BINARY_ROW_BYTES } from '../storage/row-binary';
import { EncodedBatch, FlowStore, TabularResult } from '../storage/storage';
import { StorageMetrics } from '../storage/storage.metrics';
import { metricValue } from '../testing/metric-value';
import { netflowV5, TestFlow } from '../testing/netflow-packets';
import { DecodePipeline, DecodePipelineOptions } from './decode-pipeline.component';
import { DecodePipelineMetrics } from './decode-pipeline.metrics';

/** A store that keeps inserted batches in memory and refuses the first `failFirst` inserts. */
class MemoryStore implements FlowStore {
  readonly name = 'memory';
  readonly batches: EncodedBatch[] = [];
  attempts = 0;
  constructor(public failFirst = 0) {}
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  health(): Health {
    return { status: 'ok' };
  }
  async insert(b: EncodedBatch): Promise<void> {
    this.attempts++;
    if (this.attempts <= this.failFirst) throw new Error('store down');
    assert.equal(b.data.length, b.rows * ROW_BINARY_ROW_BYTES);
    this.batches.push(b);
  }
  async select(): Promise<TabularResult> {
    return { rows: [] };
  }
  get rows(): number {
    return this.batches.reduce((n, b) => n + b.rows, 0);
  }
}

const quiet = new Logger('test', 'error');
const flows = (n: number, bytes = 100): TestFlow[] =>
  Array.from({ length: n }, (_, k) => ({ src: `10.0.0.${k + 1}`, dst: '192.0.2.9', srcPort: 1000 + k, dstPort: 443, protocol: 6, bytes, packets: 2 }));

function setup(store: FlowStore, o: Partial<DecodePipelineOptions> = {}) {
  const registry = new Registry();
  const p = new DecodePipeline(
    { batchRows: 1000, batchMs: 50, maxPendingRows: 10_000, retryMs: 5, maxRetryMs: 20, ...o },
    store,
    new DecodePipelineMetrics(registry, DecodePipeline.errorReasons()),
    new StorageMetrics(registry),
    quiet,
  );
  return { p, registry };
}

const until = async (cond: () => boolean, ms = 2000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('DecodePipeline', () => {
  test('decodes, counts and writes a batch once it is batchMs old', async () => {
    const store = new MemoryStore();
    const { p, registry } = setup(store);
    await p.start();
    p.handle(netflowV5(flows(3), { unixSecs: 1_700_000_000 }), '192.0.2.1', Date.now());
    assert.equal(store.rows, 0, 'not written before batchMs');
    await until(() => store.rows === 3);
    assert.equal(await metricValue(registry, 'flowmesh_collector_decode_flows_total', { protocol: 'netflow_v5' }), 3);
    assert.equal(await metricValue(registry, 'flowmesh_collector_storage_rows_stored_total'), 3);
    assert.deepEqual({ ...p.totals }, { packets: 1, flows: 3, decodeErrors: 0, storedRows: 3 });
    await p.stop(1000);
  });

  test('a full batch is written at once, mid-packet included; stop writes the rest', async () => {
    const store = new MemoryStore();
    const { p } = setup(store, { batchRows: 5, batchMs: 60_000 });
    await p.start();
    p.handle(netflowV5(flows(3), { unixSecs: 1_700_000_000 }), '192.0.2.1', Date.now());
    p.handle(netflowV5(flows(4), { unixSecs: 1_700_000_000, sequence: 3 }), '192.0.2.1', Date.now());
    await until(() => store.rows === 5);
    assert.deepEqual(
      store.batches.map((b) => b.rows),
      [5],
    );
    await p.stop(1000);
    assert.deepEqual(
      store.batches.map((b) => b.rows),
      [5, 2],
    );
  });

  test('every decode error reason is pre-registered; garbage costs only itself', async () => {
    const store = new MemoryStore();
    const { p, registry } = setup(store);
    await p.start();
    for (const reason of DECODE_ERROR_REASONS) {
      assert.equal(await metricValue(registry, 'flowmesh_collector_decode_errors_total', { reason }), 0, reason);
    }
    p.handle(Buffer.from([0x42]), '192.0.2.1', Date.now());
    p.handle(Buffer.from('not a flow export at all'), '192.0.2.1', Date.now());
    p.handle(netflowV5(flows(2), { unixSecs: 1_700_000_000 }), '192.0.2.1', Date.now());
    await p.stop(1000);
    assert.equal(await metricValue(registry, 'flowmesh_collector_decode_errors_total', { reason: 'too_short' }), 1);
    assert.equal(await metricValue(registry, 'flowmesh_collector_decode_errors_total', { reason: 'bad_version' }), 1);
    assert.equal(store.rows, 2);
    assert.equal(p.totals.decodeErrors, 2);
  });

  test('a refused write is kept and retried until the store takes it', async () => {
    const store = new MemoryStore(3);
    const { p, registry } = setup(store);
    await p.start();
    p.handle(netflowV5(flows(4), { unixSecs: 1_700_000_000 }), '192.0.2.1', Date.now());
    await until(() => store.rows === 4);
    assert.equal(store.attempts, 4);
    assert.equal(await metricValue(registry, 'flowmesh_collector_storage_errors_total'), 3);
    assert.equal(await metricValue(registry, 'flowmesh_collector_storage_rows_stored_total'), 4);
    assert.equal(await metricValue(registry, 'flowmesh_collector_storage_pending_rows'), 0);
    await p.stop(1000);
  });

  test('beyond maxPendingRows the oldest waiting batches are dropped and counted', async () => {
    const store = new MemoryStore(Number.MAX_SAFE_INTEGER);
    const { p, registry } = setup(store, { batchRows: 2, batchMs: 60_000, maxPendingRows: 4, retryMs: 1000, maxRetryMs: 1000 });
    await p.start();
    for (let k = 0; k < 5; k++) p.handle(netflowV5(flows(2), { unixSecs: 1_700_000_000, sequence: 2 * k }), '192.0.2.1', Date.now());
    // 5 batches of 2 rows, at most 4 rows waiting: 3 batches (6 rows) dropped.
    assert.equal(await metricValue(registry, 'flowmesh_collector_storage_rows_dropped_total', { reason: 'store_backlog' }), 6);
    assert.equal(p.pendingRowCount, 4);
    await p.stop(50);
    // The store refuses at once, so nothing is in flight when the grace period ends: both batches count.
    assert.equal(await metricValue(registry, 'flowmesh_collector_storage_rows_dropped_total', { reason: 'shutdown' }), 4);
    assert.equal(p.pendingRowCount, 0);
    assert.equal(store.rows, 0);
  });
});
