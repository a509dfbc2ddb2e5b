import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export class SpoolMetrics {
  readonly bytes: Gauge;
  readonly entries: Gauge;
  readonly oldestAge: Gauge;
  readonly appended: Counter;
  readonly appendedRows: Counter;
  readonly deliveredRows: Counter;
  readonly replayed: Counter;
  readonly skippedCommitted: Counter;
  readonly corrupt: Counter;
  readonly truncatedBytes: Counter;
  readonly storeErrors: Counter<'op'>;
  readonly fsyncSeconds: Histogram;
  readonly batchRows: Histogram;
  readonly latency: Histogram;

  /** Set by the spool: the age of its oldest unacknowledged batch, read at scrape time. */
  ageSource: () => number = () => 0;

  constructor(registry: Registry) {
    const r = [registry];
    const age = () => this.ageSource();
    this.bytes = new Gauge({ name: 'flowmesh_collector_spool_bytes', help: 'Unacknowledged bytes in the spool (on disk)', registers: r });
    this.entries = new Gauge({ name: 'flowmesh_collector_spool_entries', help: 'Unacknowledged batches in the spool', registers: r });
    this.oldestAge = new Gauge({
      name: 'flowmesh_collector_spool_oldest_entry_age_seconds',
      help: 'Age of the oldest unacknowledged batch (from its first datagram received)',
      registers: r,
      collect() {
        this.set(age());
      },
    });
    this.appended = new Counter({ name: 'flowmesh_collector_spool_appended_total', help: 'Batches appended (and synced) to the spool', registers: r });
    this.appendedRows = new Counter({ name: 'flowmesh_collector_spool_appended_rows_total', help: 'Flow rows appended to the spool', registers: r });
    this.deliveredRows = new Counter({ name: 'flowmesh_collector_spool_delivered_rows_total', help: 'Flow rows the store confirmed (acknowledged in the spool)', registers: r });
    this.replayed = new Counter({ name: 'flowmesh_collector_spool_replayed_total', help: 'Batches sent again: left by an earlier run, or after a store error', registers: r });
    this.skippedCommitted = new Counter({
      name: 'flowmesh_collector_spool_skipped_committed_total',
      help: 'Replayed batches the store already held (committed(id) true): acknowledged without inserting again',
      registers: r,
    });
    this.corrupt = new Counter({ name: 'flowmesh_collector_spool_corrupt_entries_total', help: 'Torn or corrupt entries found (checksum) and cut off', registers: r });
    this.truncatedBytes = new Counter({ name: 'flowmesh_collector_spool_truncated_bytes_total', help: 'Bytes cut off torn segment tails', registers: r });
    this.storeErrors = new Counter({ name: 'flowmesh_collector_spool_store_errors_total', help: 'Store calls that failed (retried), by operation', labelNames: ['op'], registers: r });
    this.storeErrors.inc({ op: 'insert' }, 0);
    this.storeErrors.inc({ op: 'committed' }, 0);
    this.fsyncSeconds = new Histogram({
      name: 'flowmesh_collector_spool_fsync_seconds',
      help: 'Time to write and sync one group of appended batches',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: r,
    });
    this.batchRows = new Histogram({
      name: 'flowmesh_collector_spool_batch_rows',
      help: 'Rows per batch appended',
      buckets: [10, 100, 1000, 5000, 10_000, 25_000, 50_000, 100_000, 200_000, 500_000, 1_000_000],
      registers: r,
    });
    this.latency = new Histogram({
      name: 'flowmesh_collector_spool_batch_latency_seconds',
      help: 'From the first datagram of a batch received to the store confirming it',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600],
      registers: r,
    });
  }
}
