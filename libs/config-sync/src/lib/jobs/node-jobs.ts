import 'reflect-metadata';
import { createHash } from 'node:crypto';
import { plainToInstance, Type } from 'class-transformer';
import { IsIn, IsInt, IsObject, IsOptional, IsString, Matches, Max, MaxLength, Min, ValidateNested, validateSync } from 'class-validator';
import { canonicalJson } from '../desired-state/canonical-json';
import { flattenSpecErrors } from '../desired-state/validate-spec';
import { NODE_ID_PATTERN } from '../node-registry.dto';
import { SignedPackageManifest } from '../upgrades/package-manifest';

/**
 * Imperative work for one node travels on its own BullMQ queue `flowmesh-node-<id>` (BullMQ forbids ':' in
 * names). The master adds jobs, the node runs a Worker on its queue. Delivery is at least once: handlers must
 * be idempotent (same job id = same work; a retried job may find its work already done).
 */
export const NODE_QUEUE_PREFIX = 'flowmesh-node-';

export function nodeQueueName(nodeId: string): string {
  if (!NODE_ID_PATTERN.test(nodeId)) throw new Error(`node id must be 1-63 chars of a-z, 0-9, _ . - (got ${JSON.stringify(nodeId)})`);
  return `${NODE_QUEUE_PREFIX}${nodeId}`;
}

export const NODE_JOB_TYPES = ['reload', 'flush', 'run-report-part', 'upgrade'] as const;
export type NodeJobType = (typeof NODE_JOB_TYPES)[number];

/** Re-read desired config now (ConfigAgent.syncNow()) and re-apply even if the hash is unchanged when `force`. */
export class ReloadJobPayload {
  @IsOptional() @IsString() @MaxLength(256)
  reason?: string;
  @IsOptional() @IsIn([true, false])
  force?: boolean;
}

/** Write every buffered batch to storage now (spool and storage writer). */
export class FlushJobPayload {
  @IsOptional() @IsString() @MaxLength(256)
  reason?: string;
}

/** Run one node's share of a report over [from, to) (epoch ms); the result is the job's return value. */
export class RunReportPartJobPayload {
  @IsString() @MaxLength(64)
  report: string;
  /** Identifies the report run all parts belong to (idempotency: same runId + node = same part). */
  @IsString() @Matches(/^[A-Za-z0-9_.-]{1,128}$/, { message: 'must be 1-128 chars of letters, digits, _ . -' })
  runId: string;
  @IsInt() @Min(0)
  from: number;
  @IsInt() @Min(0)
  to: number;
  /** The report's query (its shape belongs to the query API). */
  @IsObject()
  query: Record<string, unknown>;
}

/**
 * Install `version` of the node package. The node downloads `downloadPath` from the master (relative to the
 * master's base URL, with its node token as `Authorization: Bearer`), checks `sha256`/`size` and the manifest's
 * Ed25519 signature with the master's key, refuses a downgrade unless `force`, installs side by side, restarts,
 * checks its own health within `healthDeadlineMs` and rolls itself back when unhealthy.
 */
export class UpgradeJobPayload {
  @IsString() @MaxLength(64)
  version: string;
  @IsObject() @ValidateNested() @Type(() => SignedPackageManifest)
  manifest: SignedPackageManifest;
  /** e.g. `/api/v1/upgrades/packages/1.2.3/download` */
  @IsString() @Matches(/^\/api\/v1\/upgrades\/packages\/[^/]+\/download$/, { message: 'must be /api/v1/upgrades/packages/<version>/download' })
  downloadPath: string;
  @IsOptional() @IsIn([true, false])
  force?: boolean;
  @IsOptional() @IsInt() @Min(1000) @Max(3_600_000)
  healthDeadlineMs?: number;
  /** The rollout this job belongs to (informational). */
  @IsOptional() @IsString() @MaxLength(128)
  rolloutId?: string;
}

export type NodeJobPayload = ReloadJobPayload | FlushJobPayload | RunReportPartJobPayload | UpgradeJobPayload;

export const NODE_JOB_PAYLOADS: Record<NodeJobType, new () => object> = {
  reload: ReloadJobPayload,
  flush: FlushJobPayload,
  'run-report-part': RunReportPartJobPayload,
  upgrade: UpgradeJobPayload,
};

/** What an upgrade job returns (the job fails, with the reason, when the node could not end up healthy on `version`). */
export interface UpgradeJobResult {
  /** 'upgraded': now running `version`; 'unchanged': was already running it (idempotent retry). */
  status: 'upgraded' | 'unchanged';
  version: string;
  previousVersion: string;
}

/**
 * Reasons an upgrade job fails with (the job's failedReason starts with `<reason>: `). 'rolled-back': installed
 * and restarted but unhealthy, the previous version is running again.
 */
export const UPGRADE_FAILURE_REASONS = ['signature', 'checksum', 'downgrade', 'download', 'install', 'rolled-back'] as const;
export type UpgradeFailureReason = (typeof UPGRADE_FAILURE_REASONS)[number];

/** Every problem with a job's type and payload, each naming its path (`payload.version: ...`); [] when valid. */
export function nodeJobProblems(type: unknown, payload: unknown): string[] {
  if (typeof type !== 'string' || !(NODE_JOB_TYPES as readonly string[]).includes(type)) {
    return [`type: must be one of ${NODE_JOB_TYPES.join(', ')} (got ${JSON.stringify(type)})`];
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return [`payload: must be an object (got ${JSON.stringify(payload)})`];
  const instance = plainToInstance(NODE_JOB_PAYLOADS[type as NodeJobType], payload);
  const errors = validateSync(instance, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true });
  const problems = flattenSpecErrors(errors, 'payload');
  if (!problems.length && type === 'run-report-part') {
    const p = payload as RunReportPartJobPayload;
    if (p.from >= p.to) problems.push(`payload.from: must be before to (got ${p.from} >= ${p.to})`);
  }
  return problems;
}

/**
 * The BullMQ job id: the same (node, type, payload, idempotency key) always gives the same id, so adding it twice
 * runs it once (BullMQ ignores an add whose id exists). Format `<type>.<32 hex>` (no ':', never an integer).
 */
export function nodeJobId(nodeId: string, type: NodeJobType, payload: unknown, idempotencyKey?: string): string {
  const digest = createHash('sha256').update(canonicalJson({ node: nodeId, type, payload, key: idempotencyKey ?? null })).digest('hex');
  return `${type}.${digest.slice(0, 32)}`;
}

/** Retries with exponential backoff (delay, 2×delay, 4×delay...). An upgrade is not retried by BullMQ: the rollout decides. */
export function nodeJobOptions(type: NodeJobType, attempts = 5, backoffMs = 1000): { attempts: number; backoff: { type: 'exponential'; delay: number } } {
  return { attempts: type === 'upgrade' ? 1 : attempts, backoff: { type: 'exponential', delay: backoffMs } };
}
