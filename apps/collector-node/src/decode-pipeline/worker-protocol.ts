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
  /** Datagrams the worker read from its own sockets (recvmmsg), when it has any. */
  received?: ReceivedDelta;
}

/** What a worker reading its own sockets counted: per listener and per allowed exporter [datagrams, bytes]. */
export interface ReceivedDelta {
  listeners: Record<string, [number, number]>;
  exporters: Record<string, [number, number]>;
  /** Datagrams from senders not on the allow-list, and a few of their addresses (for the log). */
  notAllowed: number;
  notAllowedSample: string[];
}

/**
 * Bulk bytes cross threads in SharedArrayBuffers handed over once (packs: the pipeline's arena per worker,
 * given at spawn; batches: the worker's slabs, announced by 'slab'), so messages carry only offsets. A
 * transferred ArrayBuffer would count as new external memory in the receiving thread each time, and V8
 * starts a full GC per ~64 MiB of it: at 1M flows/s that was several a second on each thread.
 */
export type ToWorker =
  | { t: 'pack'; index: number; used: number; count: number }
  | { t: 'pack-big'; buf: ArrayBuffer; used: number; count: number }
  | { t: 'release'; slab: number }
  | { t: 'flush' }
  | { t: 'crash' }
  | { t: 'exporters'; rules: ExporterRule[]; allowUnknown: boolean }
  /** Read this socket (bound by the main thread, which keeps and closes the fd) on the worker's own loop. */
  | { t: 'listen'; listener: string; fd: number; coalesceMs: number }
  | { t: 'unlisten'; fd: number }
  | { t: 'batching'; batchRows: number; batchMs: number }
  | { t: 'import-templates'; state: TemplateState };

export type FromWorker =
  | { t: 'ready' }
  | { t: 'slab'; slab: number; sab: SharedArrayBuffer }
  /** A batch in slab `slab`: room for its spool entry header (SPOOL_HEADER_BYTES, written by the main thread) at `offset`, then `length` bytes of data. */
  | { t: 'batch'; id: string; rows: number; format: BatchFormat; slab: number; offset: number; length: number; receivedMs: number }
  | { t: 'done'; index: number; bytes: number; packets: number }
  | { t: 'stats'; delta: StatsDelta; exporters: ExporterStats[] }
  | { t: 'templates'; state: TemplateState }
  | { t: 'flushed' }
  | { t: 'unlistened'; fd: number }
  | { t: 'socket-error'; listener: string; error: string };
