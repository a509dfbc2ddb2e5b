import { Type } from 'class-transformer';
import { IsIn, IsInt, IsString, Matches, Max, Min, ValidateNested } from 'class-validator';

/** A ClickHouse server (or one shard of a cluster: its own URL and database) reached over HTTP(S). */
export class ClickHouseConfig {
  /** http(s)://host:port of the server's HTTP interface (8123 by default). */
  @IsString() @Matches(/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/, { message: 'url must be http://host:port or https://host:port' })
  url: string = 'http://127.0.0.1:8123';
  /** Created by the node's migrations when missing. */
  @Matches(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, { message: 'database must be an identifier ([A-Za-z_][A-Za-z0-9_]*)' })
  database: string = 'flowmesh';
  @IsString()
  username: string = 'default';
  @IsString()
  password: string = '';
  /** One HTTP request (an insert or a select) fails after this long; the batch stays in the spool. */
  @IsInt() @Min(100) @Max(600_000)
  requestTimeoutMs: number = 30_000;
}

/** Days each table keeps (TTL on ClickHouse >= 20.x / chDB; partition drops by the store on 18.16). */
export class RetentionConfig {
  @IsInt() @Min(1) @Max(36_500)
  rawDays: number = 30;
  @IsInt() @Min(1) @Max(36_500)
  minuteDays: number = 180;
  @IsInt() @Min(1) @Max(36_500)
  hourDays: number = 730;
}

export class StorageConfig {
  /** 'chdb' embeds ClickHouse in the node (data under dataDir/id/chdb); 'clickhouse' writes to a server. */
  @IsIn(['chdb', 'clickhouse'])
  engine: 'chdb' | 'clickhouse' = 'chdb';
  @ValidateNested() @Type(() => ClickHouseConfig)
  clickhouse: ClickHouseConfig = new ClickHouseConfig();
  @ValidateNested() @Type(() => RetentionConfig)
  retention: RetentionConfig = new RetentionConfig();
  /**
   * A batch is written when it holds this many rows... (at most 1M: one batch must stay one INSERT block,
   * max_insert_block_size = 1048576, for the insert to be atomic)
   */
  @IsInt() @Min(1) @Max(1_000_000)
  batchRows: number = 200_000;
  /** ...or when its oldest row is this old. */
  @IsInt() @Min(10) @Max(60_000)
  batchMs: number = 1000;
  /**
   * How batches are encoded for the spool and the INSERT: 'native' (ClickHouse's columnar block; the
   * default, ~35 % less CPU per row than RowBinary on both engines) or 'rowbinary'. Both are binary;
   * a spool written in either replays whatever this says.
   */
  @IsIn(['native', 'rowbinary'])
  insertFormat: 'native' | 'rowbinary' = 'native';
  /** chDB engine memory cap (max_server_memory_usage); without it chDB assumes most of the machine. */
  @IsInt() @Min(64 * 1024 * 1024)
  memoryLimitBytes: number = 2 * 1024 ** 3;
}
