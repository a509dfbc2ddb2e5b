import { IsIn, IsInt, Max, Min } from 'class-validator';

export class StorageConfig {
  @IsIn(['chdb'])
  engine = 'chdb' as const;
  /** A batch is written when it holds this many rows... */
  @IsInt() @Min(1) @Max(1_000_000)
  batchRows: number = 50_000;
  /** ...or when its oldest row is this old. */
  @IsInt() @Min(10) @Max(60_000)
  batchMs: number = 1000;
  /** chDB engine memory cap (max_server_memory_usage); without it chDB assumes most of the machine. */
  @IsInt() @Min(64 * 1024 * 1024)
  memoryLimitBytes: number = 2 * 1024 ** 3;
  /**
   * Encoded rows held in memory while the store refuses writes; beyond it the oldest batches are dropped
   * and counted (reason store_backlog). A durable on-disk spool is a later issue.
   */
  @IsInt() @Min(1)
  maxPendingRows: number = 500_000;
}
