import { Type } from 'class-transformer';
import { IsInt, IsNotEmpty, IsString, Matches, Max, Min, ValidateNested } from 'class-validator';

export class HttpConfig {
  @IsString() @IsNotEmpty()
  host: string = '0.0.0.0';
  /** 0 picks a free port (logged at start). */
  @IsInt() @Min(0) @Max(65535)
  port: number = 8080;
}

export class RedisConfig {
  /** REDIS_URL, when set, replaces the built-in default; FLOWMESH_MASTER_REDIS__URL, a file or --set still win. */
  @Matches(/^rediss?:\/\/\S+$/, { message: 'url must be a redis:// or rediss:// URL' })
  url: string = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
}

export class QueryConfig {
  /** Per-node deadline for a federated query's aggregate call. */
  @IsInt() @Min(100) @Max(600_000)
  timeoutMs: number = 10_000;
  @IsInt() @Min(1) @Max(1_000_000)
  maxTopN: number = 1000;
  /** Queries running at once; more are refused with 429. */
  @IsInt() @Min(1) @Max(1024)
  maxConcurrency: number = 8;
}

export class MasterConfig {
  @ValidateNested() @Type(() => HttpConfig)
  http: HttpConfig = new HttpConfig();
  @ValidateNested() @Type(() => RedisConfig)
  redis: RedisConfig = new RedisConfig();
  /** The master's own state lives under `${dataDir}/master`. */
  @IsString() @IsNotEmpty()
  dataDir: string = './data';
  /** A node whose last heartbeat is older than this is down. */
  @IsInt() @Min(500) @Max(3_600_000)
  nodeDownAfterMs: number = 6000;
  @ValidateNested() @Type(() => QueryConfig)
  query: QueryConfig = new QueryConfig();
}

export const MASTER_ENV_PREFIX = 'FLOWMESH_MASTER_';
