import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, MinLength, ValidateNested } from 'class-validator';

function bool(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  const t = v.trim().toLowerCase();
  if (t === 'true' || t === '1' || t === 'yes') return true;
  if (t === 'false' || t === '0' || t === 'no') return false;
  return v;
}

/** Shared decoder templates (TemplateShare). */
export class TemplateShareConfig {
  @Transform(({ obj, key }) => bool((obj as Record<string, unknown>)[key])) @IsBoolean()
  enabled: boolean = true;
  /** Template changes are published at most this often (they arrive in bursts when an exporter starts). */
  @IsInt() @Min(50) @Max(60_000)
  publishDebounceMs: number = 1000;
}

/** The node's BullMQ worker on queue `flowmesh-node-<id>`. */
export class NodeJobsConfig {
  @Transform(({ obj, key }) => bool((obj as Record<string, unknown>)[key])) @IsBoolean()
  enabled: boolean = true;
  /** Rows a run-report-part job may return at most (the SELECT gets this LIMIT). */
  @IsInt() @Min(1) @Max(1_000_000)
  maxReportRows: number = 100_000;
}

/** Side-by-side upgrades: `${installRoot}/versions/<version>` and the `current` symlink. */
export class UpgradeConfig {
  /** Install root of this node's software; unset = upgrades are refused (a development checkout). */
  @IsOptional() @IsString() @MinLength(1)
  installRoot?: string;
  /** The new version must report ready within this long after the restart, else it is rolled back. */
  @IsInt() @Min(1000) @Max(600_000)
  healthDeadlineMs: number = 60_000;
  /** Largest package accepted. */
  @IsInt() @Min(1024) @Max(4 * 1024 ** 3)
  maxPackageBytes: number = 1024 ** 3;
}

/**
 * How the node follows the master: desired-state config (ConfigAgent), shared templates, jobs and upgrades.
 * Keys: `controlPlane.*` in the node config, FLOWMESH_NODE_CONTROLPLANE__* in the environment.
 */
export class ControlPlaneConfig {
  @Transform(({ obj, key }) => bool((obj as Record<string, unknown>)[key])) @IsBoolean()
  enabled: boolean = true;
  /**
   * The master's config-signing.pub (SPKI PEM file). Unset: trust on first use (the key the master publishes in
   * Redis is pinned in `${dataDir}/${id}/config/master.pub`). Also verifies upgrade package manifests.
   */
  @IsOptional() @IsString() @MinLength(1)
  masterPublicKey?: string;
  /** The master's base URL (package downloads for upgrades), e.g. http://master:8080. */
  @IsOptional() @IsString() @Matches(/^https?:\/\/\S+$/, { message: 'masterUrl must be an http(s) URL' })
  masterUrl?: string;
  /** File holding this node's token for the master (package downloads); preferred over `nodeToken`. */
  @IsOptional() @IsString() @MinLength(1)
  nodeTokenFile?: string;
  /** This node's token itself (e.g. from FLOWMESH_NODE_CONTROL_PLANE__NODE_TOKEN) when no file is given. */
  @IsOptional() @IsString() @MinLength(1)
  nodeToken?: string;
  @IsInt() @Min(100) @Max(600_000)
  pollMs: number = 2000;
  @IsInt() @Min(1000) @Max(3_600_000)
  retryFailedMs: number = 30_000;
  /** Accept a desired revision lower than the applied one (only after Redis lost its data). */
  @Transform(({ obj, key }) => bool((obj as Record<string, unknown>)[key])) @IsBoolean()
  allowRevisionDecrease: boolean = false;
  /** How a bound listener change is checked/applied: 'rebind' (close and reopen the sockets) or 'refuse'. */
  @IsIn(['rebind', 'refuse'])
  listenerChanges: 'rebind' | 'refuse' = 'rebind';
  @ValidateNested() @Type(() => TemplateShareConfig)
  templates: TemplateShareConfig = new TemplateShareConfig();
  @ValidateNested() @Type(() => NodeJobsConfig)
  jobs: NodeJobsConfig = new NodeJobsConfig();
  @ValidateNested() @Type(() => UpgradeConfig)
  upgrade: UpgradeConfig = new UpgradeConfig();
}
