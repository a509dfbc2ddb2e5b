import { hostname } from 'node:os';
import { Transform, Type } from 'class-transformer';
import { IsArray, IsBoolean, IsInt, IsIP, IsOptional, IsString, Matches, Max, Min, MinLength, ValidateNested } from 'class-validator';
import { NODE_ID_PATTERN } from '@flowmesh/config-sync';
import { ControlPlaneConfig } from '../config-agent/control-plane.config';
import { ClockConfig, DecodeConfig } from '../decode-pipeline/decode-pipeline.config';
import { ExporterConfig } from '../exporters/exporters.config';
import { SpoolConfig } from '../spool/spool.config';
import { ListenersConfig, parseBoolean } from '../udp-input/udp-input.config';
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
  /** Exporters allowed to send (address or CIDR; the first match wins) and their settings. */
  @IsArray() @ValidateNested({ each: true }) @Type(() => ExporterConfig)
  exporters: ExporterConfig[] = [];
  /** Accept exporters matching no entry of `exporters`; default: true when the list is empty, else false. */
  @IsOptional()
  @Transform(({ obj, key }) => parseBoolean((obj as Record<string, unknown>)[key]))
  @IsBoolean()
  allowUnknownExporters?: boolean;
  @ValidateNested() @Type(() => ClockConfig)
  clock: ClockConfig = new ClockConfig();
  @ValidateNested() @Type(() => DecodeConfig)
  decode: DecodeConfig = new DecodeConfig();
  @ValidateNested() @Type(() => SpoolConfig)
  spool: SpoolConfig = new SpoolConfig();
  /** Desired-state config from the master, shared templates, jobs and upgrades (config-agent/control-plane.config.ts). */
  @ValidateNested() @Type(() => ControlPlaneConfig)
  controlPlane: ControlPlaneConfig = new ControlPlaneConfig();
}

/** Whether senders not in `exporters` are accepted (the default depends on the list being empty). */
export function allowsUnknownExporters(c: Pick<CollectorConfig, 'exporters' | 'allowUnknownExporters'>): boolean {
  return c.allowUnknownExporters ?? c.exporters.length === 0;
}

/**
 * REDIS_URL is the conventional variable; it applies only when FLOWMESH_NODE_REDIS__URL is unset.
 * Runs before the config is loaded (see main.ts).
 */
export function applyRedisUrlFallback(env: Record<string, string | undefined>): void {
  if (env.REDIS_URL && !env[`${ENV_PREFIX}REDIS__URL`]) env[`${ENV_PREFIX}REDIS__URL`] = env.REDIS_URL;
}
