import { IsIn, IsInt, Max, Min } from 'class-validator';

/** Exporter clocks that are off: records too far ahead of, or behind, their receive time. */
export class ClockConfig {
  /** A flow_start/flow_end more than this after its receive time is in the future. */
  @IsInt() @Min(0) @Max(10 * 365 * 86_400)
  maxFutureSec: number = 300;
  /** A flow_start/flow_end more than this before its receive time is too far in the past (default 3 days). */
  @IsInt() @Min(0) @Max(100 * 365 * 86_400)
  maxPastSec: number = 3 * 86_400;
  /** 'clamp': the bad time becomes the receive time (the record is kept); 'drop': the record is dropped. Both are counted. */
  @IsIn(['clamp', 'drop'])
  action: 'clamp' | 'drop' = 'clamp';
}

/** Decode worker threads and how datagrams reach them. */
export class DecodeConfig {
  /** Decode worker threads; 0 = os.availableParallelism() - 1, at least 1. */
  @IsInt() @Min(0) @Max(64)
  workers: number = 0;
  /** Datagrams are handed to a worker packed into one transferable buffer of about this size. */
  @IsInt() @Min(4096) @Max(16 * 1024 ** 2)
  packBytes: number = 256 * 1024;
  /**
   * A pack goes to its worker when full or when its first datagram has waited this long (0: at the end of
   * every event-loop turn). One message per pack, so this sets the messages per second at low rates.
   */
  @IsInt() @Min(0) @Max(1000)
  packDelayMs: number = 5;
  /** Bytes handed to one worker and not yet decoded; beyond it datagrams are dropped (reason backpressure). */
  @IsInt() @Min(64 * 1024)
  maxQueuedBytesPerWorker: number = 32 * 1024 ** 2;
  /**
   * Workers encode batches into shared slabs of this size (a 200k-row Native batch is ~22 MB; a bigger batch
   * gets a slab of its own). A slab is reused once the spool has released every batch in it.
   */
  @IsInt() @Min(64 * 1024) @Max(2 ** 31 - 1)
  batchSlabBytes: number = 64 * 1024 ** 2;
  /** How often workers report counters (per exporter and per node). */
  @IsInt() @Min(50) @Max(60_000)
  statsMs: number = 500;
  /** Exporters with their own metric series; the rest are summed under exporter="other". */
  @IsInt() @Min(1) @Max(100_000)
  maxExporterSeries: number = 500;
}
