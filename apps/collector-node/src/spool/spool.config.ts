import { Transform } from 'class-transformer';
import { IsBoolean, IsInt, Max, Min } from 'class-validator';
import { parseBoolean } from '../udp-input/udp-input.config';

/** The durable write-ahead spool between the decode workers and the store (`${dataDir}/${id}/spool/`). */
export class SpoolConfig {
  /** Unacknowledged bytes on disk at most; beyond it new batches are dropped (reason spool_full). */
  @IsInt() @Min(64 * 1024)
  maxBytes: number = 1024 ** 3;
  /** A segment file is closed and a new one started past this size; fully acknowledged segments are deleted. */
  @IsInt() @Min(4096) @Max(2 ** 31 - 1)
  segmentBytes: number = 64 * 1024 ** 2;
  /** fdatasync after each append (a group of batches written together shares one). Off: a power cut may lose the last appends. */
  @Transform(({ obj, key }) => parseBoolean((obj as Record<string, unknown>)[key]))
  @IsBoolean()
  fsync: boolean = true;
  /** Encoded bytes waiting in memory to be appended; beyond it batches are dropped (reason backpressure). */
  @IsInt() @Min(64 * 1024)
  maxQueueBytes: number = 128 * 1024 ** 2;
  /** Unacknowledged batches kept in memory as well as on disk (to send without re-reading); the rest is read back. */
  @IsInt() @Min(0)
  maxMemoryBytes: number = 128 * 1024 ** 2;
  /** First retry delay after the store refused a batch; doubles up to maxRetryMs. */
  @IsInt() @Min(1) @Max(60_000)
  retryMs: number = 200;
  @IsInt() @Min(1) @Max(600_000)
  maxRetryMs: number = 10_000;
}
