import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsInt, IsNotEmpty, IsString, Matches, Max, Min, ValidateNested } from 'class-validator';

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

/**
 * A ClickHouse server cluster to answer federated queries from (nodes with storage.engine=clickhouse,
 * one shard each; deploy/clickhouse/cluster.sql creates the Distributed tables). Off while url is empty:
 * the master then federates over the collector nodes' own stores.
 */
export class ClusterQueryConfig {
  /** http(s)://host:port of any server of the cluster (the one holding the Distributed tables); '' = off. */
  @IsString() @Matches(/^(https?:\/\/[^\s/?#]+(\/[^\s?#]*)?)?$/, { message: 'url must be empty or http://host:port or https://host:port' })
  url: string = '';
  /** The cluster's name in the servers' remote_servers (named by the Distributed tables). */
  @Matches(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, { message: 'name must be an identifier' })
  name: string = 'flowmesh_cluster';
  @Matches(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, { message: 'database must be an identifier' })
  database: string = 'flowmesh';
  /** Distributed table = local table name + this ('flows_all', 'flows_1m_all', …). */
  @Matches(/^[A-Za-z0-9_]{1,32}$/, { message: 'tableSuffix must be 1-32 letters, digits or _' })
  tableSuffix: string = '_all';
  /** A read-only user (profile readonly=2: no writes or DDL, per-query limits allowed). */
  @IsString()
  username: string = 'default';
  @IsString()
  password: string = '';
  @IsInt() @Min(1000) @Max(600_000)
  requestTimeoutMs: number = 60_000;
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
  /** Most rows one node's (or the cluster's) partial answer may hold; beyond it the query fails with a clear error. */
  @IsInt() @Min(1000) @Max(100_000_000)
  maxRows: number = 1_000_000;
  /** max_memory_usage of every query a node (or the cluster) runs for the master. */
  @IsInt() @Min(64 * 1024 ** 2)
  maxMemoryBytes: number = 2 * 1024 ** 3;
  /** Most rows one CSV/NDJSON export streams. */
  @IsInt() @Min(1) @Max(1_000_000_000)
  maxExportRows: number = 10_000_000;
  @ValidateNested() @Type(() => ClusterQueryConfig)
  cluster: ClusterQueryConfig = new ClusterQueryConfig();
}

/** An API bearer token: only its SHA-256 is configured (`printf %s "$TOKEN" | sha256sum`). */
export class ApiTokenConfig {
  @IsString() @Matches(/^[A-Za-z0-9_.@-]{1,64}$/, { message: 'name must be 1-64 chars of letters, digits, _ . @ -' })
  name: string = '';
  /** admin: everything; viewer: every GET plus POST on the query API (/api/vN/query). */
  @IsIn(['admin', 'viewer'])
  role: 'admin' | 'viewer' = 'viewer';
  @IsString() @Matches(/^[0-9a-f]{64}$/, { message: 'sha256 must be 64 lower-case hex chars (the SHA-256 of the token)' })
  sha256: string = '';
}

/** A collector node's token (package downloads, public key): only its SHA-256 is configured. */
export class NodeTokenConfig {
  @IsString() @Matches(/^[a-z0-9][a-z0-9_.-]{0,62}$/, { message: 'node must be a node id' })
  node: string = '';
  @IsString() @Matches(/^[0-9a-f]{64}$/, { message: 'sha256 must be 64 lower-case hex chars (the SHA-256 of the token)' })
  sha256: string = '';
}

export class AuthConfig {
  /**
   * false (default, for `npm start` on a laptop): the API is open and a warning is logged at start.
   * true: every route but /healthz, /readyz, /metrics and /api/docs needs `Authorization: Bearer <token>`.
   */
  @IsBoolean()
  enabled: boolean = false;
  @IsArray() @ArrayMaxSize(1000) @ValidateNested({ each: true }) @Type(() => ApiTokenConfig)
  tokens: ApiTokenConfig[] = [];
  @IsArray() @ArrayMaxSize(100_000) @ValidateNested({ each: true }) @Type(() => NodeTokenConfig)
  nodeTokens: NodeTokenConfig[] = [];
}

export class JobsConfig {
  /** Attempts per node job (upgrades: 1, the rollout decides). */
  @IsInt() @Min(1) @Max(100)
  attempts: number = 5;
  /** First retry delay; doubles on every further attempt. */
  @IsInt() @Min(10) @Max(3_600_000)
  backoffMs: number = 1000;
  /** Finished jobs are kept this long (a repeated request with the same id returns the kept job). */
  @IsInt() @Min(1) @Max(30 * 86400)
  keepSeconds: number = 86400;
}

export class UpgradesConfig {
  @IsInt() @Min(1024) @Max(8 * 1024 ** 3)
  maxPackageBytes: number = 1024 ** 3;
  /** Per node: the upgrade job must succeed and the node report the new version and be ready within this. */
  @IsInt() @Min(1000) @Max(3_600_000)
  nodeTimeoutMs: number = 300_000;
  /** How often a rollout looks at the job, the registry and the node's /readyz. */
  @IsInt() @Min(50) @Max(60_000)
  pollMs: number = 500;
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
  @ValidateNested() @Type(() => AuthConfig)
  auth: AuthConfig = new AuthConfig();
  @ValidateNested() @Type(() => JobsConfig)
  jobs: JobsConfig = new JobsConfig();
  @ValidateNested() @Type(() => UpgradesConfig)
  upgrades: UpgradesConfig = new UpgradesConfig();
}

export const MASTER_ENV_PREFIX = 'FLOWMESH_MASTER_';
