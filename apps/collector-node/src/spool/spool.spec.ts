import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { Logger } from '@flowmesh/common';
import { IngestDropMetrics } from '../observability/ingest-drops.metrics';
import type { EncodedBatch } from '../storage/storage';
import { metricValue } from '../testing/metric-value';
import { Spool, SPOOL_HEADER_BYTES, SpoolBatch, SpoolTarget } from './spool.component';
import { encodeSpoolHeader } from './spool-entry';
import { SpoolConfig } from './spool.config';
import { SpoolMetrics } from './spool.metrics';

/**
 * The one fake allowed here: a store that can commit a batch and then throw (the reply lost), a fault
 * the real stores cannot show on demand. It keeps what it committed by id, so duplicates are visible.
 */
class FakeStore implements SpoolTarget {
  readonly committedIds: string[] = [];
  readonly rows = new Map<string, number>();
  mode: 'ok' | 'down' | 'commit-then-throw' = 'ok';
  inserts = 0;
  checks = 0;
  async insert(b: EncodedBatch): Promise<void> {
    this.inserts++;
    if (this.mode === 'down') throw new Error('store down');
    assert.equal(b.data.length % 10, 0, 'data arrives whole');
    assert.equal(b.format, parseInt(b.id.slice(8), 16) % 2 ? 'native' : 'rowbinary', 'the format survives the spool (memory and disk)');
    this.committedIds.push(b.id);
    this.rows.set(b.id, (this.rows.get(b.id) ?? 0) + b.rows);
    if (this.mode === 'commit-then-throw') throw new Error('connection reset after commit');
  }
  async committed(id: string): Promise<boolean> {
    this.checks++;
    if (this.mode === 'down') throw new Error('store down');
    return this.rows.has(id);
  }
}

const quiet = new Logger('test', 'error');
const root = mkdtempSync(join(tmpdir(), 'flowmesh-spool-spec-'));
after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;

function batch(n: number, rows = 10): SpoolBatch {
  return { id: `00000001${n.toString(16).padStart(8, '0')}`, rows, format: n % 2 ? 'native' : 'rowbinary', data: randomBytes(rows * 10), receivedMs: Date.now() - 1000 };
}

function open(dir: string, store: SpoolTarget, o: Partial<SpoolConfig> = {}) {
  const registry = new Registry();
  const drops = new IngestDropMetrics(registry);
  const spool = new Spool({ ...new SpoolConfig(), retryMs: 5, maxRetryMs: 20, ...o, dir }, store, new SpoolMetrics(registry), drops, quiet);
  return { spool, registry, drops };
}

const until = async (what: string, cond: () => boolean, ms = 3000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

const newDir = () => join(root, `s${++dirs}`);
const segments = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.seg')).sort();

describe('Spool', () => {
  test('appends, delivers in order, acknowledges, and deletes finished segments', async () => {
    const dir = newDir();
    const store = new FakeStore();
    const { spool, registry } = open(dir, store, { segmentBytes: 300 });
    await spool.start();
    for (let k = 0; k < 6; k++) assert.equal(spool.offer(batch(k)), true);
    await until('all delivered', () => store.committedIds.length === 6 && spool.pendingEntries === 0);
    assert.deepEqual(store.committedIds, [0, 1, 2, 3, 4, 5].map((k) => batch(k).id));
    assert.equal(store.checks, 0, 'fresh batches are not looked up before their first insert');
    assert.equal(await metricValue(registry, 'flowmesh_collector_spool_appended_total'), 6);
    assert.equal(await metricValue(registry, 'flowmesh_collector_spool_delivered_rows_total'), 60);
    assert.equal(await metricValue(registry, 'flowmesh_collector_spool_bytes'), 0);
    assert.equal(await metricValue(registry, 'flowmesh_collector_spool_entries'), 0);
    const ack = JSON.parse(readFileSync(join(dir, 'ack'), 'utf8')) as { segment: number; offset: number };
    // 132-byte entries in 300-byte segments: two per segment, three segments; the last is active.
    assert.deepEqual(ack, { segment: 3, offset: 2 * (SPOOL_HEADER_BYTES + 100) });
    assert.deepEqual(segments(dir), ['00000000000000000003.seg']);
    await spool.stop(1000);
  });

  test('what the store refused is replayed in order by the next start, each looked up first', async () => {
    const dir = newDir();
    const store = new FakeStore();
    store.mode = 'down';
    const a = open(dir, store);
    await a.spool.start();
    for (let k = 0; k < 3; k++) {
      const b = batch(k);
      // The third comes with its entry header built by the producer (as decode workers do): read back at start, it must check out.
      a.spool.offer(k === 2 ? { ...b, header: encodeSpoolHeader(b, b.data) } : b);
    }
    await until('a failed insert and a failed look-up', () => store.inserts >= 1 && store.checks >= 1);
    assert.equal(a.spool.health().status, 'warning');
    await a.spool.stop(50);
    assert.ok((await metricValue(a.registry, 'flowmesh_collector_spool_store_errors_total', { op: 'insert' }))! >= 1);
    assert.equal(store.committedIds.length, 0);

    store.mode = 'ok';
    const checksBefore = store.checks;
    const b = open(dir, store);
    await b.spool.start();
    await until('replayed', () => store.committedIds.length === 3);
    assert.deepEqual(store.committedIds, [0, 1, 2].map((k) => batch(k).id));
    assert.equal(store.checks - checksBefore, 3, 'every replayed batch is looked up with committed(id) first');
    assert.equal(await metricValue(b.registry, 'flowmesh_collector_spool_replayed_total'), 3);
    await until('acknowledged', () => b.spool.pendingEntries === 0);
    await b.spool.stop(1000);
  });

  test('a batch committed whose reply was lost is never stored twice (committed(id) skip)', async () => {
    const dir = newDir();
    const store = new FakeStore();
    store.mode = 'commit-then-throw';
    const a = open(dir, store);
    await a.spool.start();
    a.spool.offer(batch(0));
    a.spool.offer(batch(1));
    await until('the first insert committed and threw', () => store.inserts >= 1);
    store.mode = 'ok';
    await until('all there', () => a.spool.pendingEntries === 0);
    assert.deepEqual(store.committedIds, [batch(0).id, batch(1).id], 'batch 0 inserted once; batch 1 after it');
    assert.ok((await metricValue(a.registry, 'flowmesh_collector_spool_skipped_committed_total'))! >= 1);
    await a.spool.stop(1000);

    // The same across a restart: every insert commits then "fails" and the process stops before its ack.
    const dir2 = newDir();
    const store2 = new FakeStore();
    store2.mode = 'commit-then-throw';
    const c = open(dir2, store2);
    await c.spool.start();
    for (let k = 0; k < 3; k++) c.spool.offer(batch(k));
    await until('first committed', () => store2.inserts >= 1);
    await c.spool.stop(10);
    store2.mode = 'ok';
    const d = open(dir2, store2);
    await d.spool.start();
    await until('replayed', () => d.spool.pendingEntries === 0);
    assert.deepEqual(store2.committedIds, [0, 1, 2].map((k) => batch(k).id), 'each batch exactly once, in order');
    assert.equal([...store2.rows.values()].reduce((x, y) => x + y, 0), 30);
    // The committed-then-failed batch is skipped either before the stop (c) or on replay (d), never inserted again.
    const skipped = (await metricValue(c.registry, 'flowmesh_collector_spool_skipped_committed_total'))! + (await metricValue(d.registry, 'flowmesh_collector_spool_skipped_committed_total'))!;
    assert.ok(skipped >= 1, `skipped ${skipped}`);
    await d.spool.stop(1000);
  });

  test('a torn tail (crash mid-write) is cut off and never replayed', async () => {
    const dir = newDir();
    const store = new FakeStore();
    store.mode = 'down';
    const a = open(dir, store);
    await a.spool.start();
    for (let k = 0; k < 3; k++) a.spool.offer(batch(k));
    await until('appended', () => a.spool.bytes === 3 * (SPOOL_HEADER_BYTES + 100));
    await a.spool.stop(10);
    const [seg] = segments(dir);
    const path = join(dir, seg);
    const full = statSync(path).size;
    assert.equal(full, 3 * (SPOOL_HEADER_BYTES + 100));
    truncateSync(path, full - 37); // the third entry loses its last 37 bytes

    store.mode = 'ok';
    const b = open(dir, store);
    await b.spool.start();
    assert.equal(statSync(path).size, 2 * (SPOOL_HEADER_BYTES + 100), 'cut at the last whole entry');
    await until('delivered', () => b.spool.pendingEntries === 0);
    assert.deepEqual(store.committedIds, [batch(0).id, batch(1).id]);
    assert.equal(await metricValue(b.registry, 'flowmesh_collector_spool_corrupt_entries_total'), 1);
    assert.equal(await metricValue(b.registry, 'flowmesh_collector_spool_truncated_bytes_total'), SPOOL_HEADER_BYTES + 100 - 37);
    await b.spool.stop(1000);

    // A flipped bit inside a whole entry fails its checksum the same way.
    const dir2 = newDir();
    const s2 = new FakeStore();
    s2.mode = 'down';
    const c = open(dir2, s2);
    await c.spool.start();
    c.spool.offer(batch(7));
    await until('appended', () => c.spool.bytes > 0);
    await c.spool.stop(10);
    const p2 = join(dir2, segments(dir2)[0]);
    const bytes = readFileSync(p2);
    bytes[SPOOL_HEADER_BYTES + 5] ^= 1;
    writeFileSync(p2, bytes);
    s2.mode = 'ok';
    const d = open(dir2, s2);
    await d.spool.start();
    assert.equal(d.spool.pendingEntries, 0);
    assert.equal(statSync(p2).size, 0);
    assert.deepEqual(s2.committedIds, []);
    await d.spool.stop(100);
  });

  test('calls each batch\'s release exactly once, when it no longer reads its bytes (decode workers reuse them)', async () => {
    // Kept in memory until delivered: released after the ack; beyond maxMemoryBytes: released once written.
    const dir = newDir();
    const store = new FakeStore();
    store.mode = 'down';
    const { spool } = open(dir, store, { maxMemoryBytes: 250, maxQueueBytes: 100_000, maxBytes: 1_000_000 });
    await spool.start();
    const released = new Map<string, number>();
    const tracked = (k: number): SpoolBatch => {
      const b = batch(k);
      return { ...b, release: () => released.set(b.id, (released.get(b.id) ?? 0) + 1) };
    };
    for (let k = 0; k < 5; k++) spool.offer(tracked(k)); // 100 bytes each: two fit in memory
    await until('written', () => spool.pendingEntries === 5 && released.size === 3);
    assert.deepEqual([...released.keys()].sort(), [2, 3, 4].map((k) => batch(k).id), 'written and not kept: released at once');
    store.mode = 'ok';
    await until('delivered', () => store.committedIds.length === 5 && spool.pendingEntries === 0);
    assert.deepEqual([...released.values()], [1, 1, 1, 1, 1], 'each once');
    assert.equal(released.size, 5, 'kept ones after their delivery');
    // Dropped batches are released too: over the queue bound, and after stop.
    const { spool: small } = open(newDir(), new FakeStore(), { maxQueueBytes: 150 });
    await small.start();
    const ids = [10, 11, 12].map((k) => tracked(k));
    const taken = ids.map((b) => small.offer(b));
    assert.ok(taken.includes(false), 'one was over maxQueueBytes');
    const dropped = ids.filter((_, i) => !taken[i]);
    assert.ok(dropped.every((b) => released.get(b.id) === 1), 'a dropped batch is released at once');
    await small.stop();
    await spool.stop();
    assert.equal(small.offer(tracked(13)), false);
    assert.equal(released.get(batch(13).id), 1);
    assert.ok(ids.every((b) => released.get(b.id) === 1));
  });

  test('bounded: a full spool drops new batches (spool_full) and takes them again once delivered', async () => {
    const dir = newDir();
    const store = new FakeStore();
    store.mode = 'down';
    const maxBytes = 64 * 1024;
    const { spool, registry, drops } = open(dir, store, { maxBytes });
    await spool.start();
    const big = (k: number): SpoolBatch => ({ ...batch(k, 2000), data: randomBytes(20_000) });
    for (let k = 0; k < 5; k++) spool.offer(big(k));
    await until('two dropped and the group written', () => (drops.totals.flows_spool_full ?? 0) === 4000 && spool.pendingEntries <= 3);
    assert.equal(spool.pendingEntries, 3, '3 × 20 KB fit in 64 KiB');
    assert.equal(await metricValue(registry, 'flowmesh_collector_ingest_dropped_flows_total', { reason: 'spool_full' }), 4000);
    assert.ok(spool.bytes <= maxBytes);
    store.mode = 'ok';
    await until('drained', () => spool.pendingEntries === 0);
    assert.equal(spool.offer(big(9)), true);
    await until('delivered', () => store.committedIds.length === 4);
    assert.deepEqual(store.committedIds, [0, 1, 2, 9].map((k) => big(k).id));
    await spool.stop(1000);
  });

  test('bounded memory: beyond maxQueueBytes waiting to be written, batches are dropped (backpressure)', async () => {
    const dir = newDir();
    const store = new FakeStore();
    const { spool, registry } = open(dir, store, { maxQueueBytes: 64 * 1024 });
    await spool.start();
    let accepted = 0;
    for (let k = 0; k < 10; k++) if (spool.offer({ ...batch(k, 1000), data: randomBytes(10_000) })) accepted++;
    assert.equal(accepted, 6, 'synchronously offered: 6 × 10 KB fit in the 64 KiB queue');
    assert.equal(await metricValue(registry, 'flowmesh_collector_ingest_dropped_flows_total', { reason: 'backpressure' }), 4000);
    await until('delivered', () => store.committedIds.length === 6);
    await spool.stop(1000);
  });
});
