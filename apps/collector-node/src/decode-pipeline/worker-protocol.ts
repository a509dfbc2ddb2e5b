import type { ExporterStats, TemplateState } from '@flowmesh/flow-decoder';
import type { ExporterRule } from '../exporters/exporter-policy';
import type { BatchFormat } from '../storage/batch-encoding';

/** Counters a worker accumulated since its last report. */
export interface StatsDelta {
  packets: number;
  flows: Record<string, number>;
  errors: Record<string, number>;
  clockFuture: number;
  clockPast: number;
  /** Rows posted in batches. */
  rowsOut: number;
}

export type ToWorker =
  | { t: 'pack'; buf: ArrayBuffer; used: number; count: number }
  | { t: 'flush' }
  | { t: 'crash' }
  | { t: 'exporters'; rules: ExporterRule[] }
  | { t: 'batching'; batchRows: number; batchMs: number }
  | { t: 'import-templates'; state: TemplateState };

export type FromWorker =
  | { t: 'ready' }
  | { t: 'batch'; id: string; rows: number; format: BatchFormat; data: ArrayBuffer; receivedMs: number; header: Uint8Array }
  | { t: 'done'; buf: ArrayBuffer; bytes: number; packets: number }
  | { t: 'stats'; delta: StatsDelta; exporters: ExporterStats[] }
  | { t: 'templates'; state: TemplateState }
  | { t: 'flushed' };
