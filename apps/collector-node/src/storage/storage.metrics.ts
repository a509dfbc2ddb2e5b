import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export const STORE_DROP_REASONS = ['store_backlog', 'shutdown'] as const;
export type StoreDropReason = (typeof STORE_DROP_REASONS)[number];

export class StorageMetrics {
  readonly rowsStored: Counter;
  readonly errors: Counter;
  readonly rowsDropped: Counter<'reason'>;
  readonly flushSeconds: Histogram;
  readonly pendingRows: Gauge;
  readonly retentionDrops: Counter;

  constructor(registry: Registry) {
    this.rowsStored = new Counter({ name: 'flowmesh_collector_storage_rows_stored_total', help: 'Flow rows committed to the store', registers: [registry] });
    this.errors = new Counter({ name: 'flowmesh_collector_storage_errors_total', help: 'Batch writes the store refused (each is retried)', registers: [registry] });
    this.rowsDropped = new Counter({
      name: 'flowmesh_collector_storage_rows_dropped_total',
      help: 'Decoded rows never stored, by reason',
      labelNames: ['reason'],
      registers: [registry],
    });
    for (const r of STORE_DROP_REASONS) this.rowsDropped.inc({ reason: r }, 0);
    this.flushSeconds = new Histogram({
      name: 'flowmesh_collector_storage_flush_seconds',
      help: 'Time to write one batch to the store (temp file + INSERT)',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
    this.retentionDrops = new Counter({
      name: 'flowmesh_collector_storage_retention_partitions_dropped_total',
      help: 'Partitions dropped by retention on servers without TTL (ClickHouse 18.16)',
      registers: [registry],
    });
    this.pendingRows = new Gauge({ name: 'flowmesh_collector_storage_pending_rows', help: 'Encoded rows waiting to be written', registers: [registry] });
  }
}
