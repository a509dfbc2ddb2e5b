import { hostname } from 'node:os';
import { Type } from 'class-transformer';
import { IsInt, IsIP, IsOptional, IsString, Matches, Max, Min, MinLength, ValidateNested } from 'class-validator';
import { NODE_ID_PATTERN } from '@flowmesh/config-sync';
import { ListenersConfig } from '../udp-input/udp-input.config';
import { StorageConfig } from '../storage/storage.config';

export { StorageConfig };

export const ENV_PREFIX = 'FLOWMESH_NODE_';

/** `node-<hostname>` squeezed into NODE_ID_PATTERN (lower case, other characters become '-'). */
export function defaultNodeId(host: string = hostname()): string {
  const cleaned = host
    .toLowerCase()
    .replace(/[^a-z0-9_.-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '');
  return `node-${cleaned || 'unknown'}`.slice(0, 63).replace(/[-_.]+$/, '');
}

export class HttpConfig {
  @IsIP()
  host: string = '127.0.0.1';
  /** 0 binds an ephemeral port (apiUrl then carries the bound one). */
  @IsInt() @Min(0) @Max(65535)
  port: number = 9100;
}

export class RedisConfig {
  /** redis://[user:password@]host:port[/db]; REDIS_URL is used when FLOWMESH_NODE_REDIS__URL is unset. */
  @IsString() @Matches(/^rediss?:\/\/\S+$/, { message: 'url must be redis://host:port or rediss://host:port' })
  url: string = 'redis://127.0.0.1:6379';
}

export class CollectorConfig {
  @Matches(NODE_ID_PATTERN, { message: 'id must be 1-63 chars of a-z, 0-9, _ . - starting with a letter or digit' })
  id: string = defaultNodeId();
  @IsOptional() @IsString() @MinLength(1)
  group?: string;
  /** Node state lives under `${dataDir}/${id}/`. */
  @IsString() @MinLength(1)
  dataDir: string = './data';
  /** Host other nodes and the master use to reach this node's HTTP API. */
  @IsString() @MinLength(1)
  advertiseHost: string = '127.0.0.1';
  @ValidateNested() @Type(() => HttpConfig)
  http: HttpConfig = new HttpConfig();
  @ValidateNested() @Type(() => ListenersConfig)
  listeners: ListenersConfig = new ListenersConfig();
  @ValidateNested() @Type(() => RedisConfig)
  redis: RedisConfig = new RedisConfig();
  @ValidateNested() @Type(() => StorageConfig)
  storage: StorageConfig = new StorageConfig();
  @IsInt() @Min(100) @Max(60_000)
  heartbeatMs: number = 2000;
}

/**
 * REDIS_URL is the conventional variable; it applies only when FLOWMESH_NODE_REDIS__URL is unset.
 * Runs before the config is loaded (see main.ts).
 */
export function applyRedisUrlFallback(env: Record<string, string | undefined>): void {
  if (env.REDIS_URL && !env[`${ENV_PREFIX}REDIS__URL`]) env[`${ENV_PREFIX}REDIS__URL`] = env.REDIS_URL;
}
