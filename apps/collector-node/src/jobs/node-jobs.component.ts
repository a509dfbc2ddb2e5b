import Redis from 'ioredis';
import { DelayedError, Job, UnrecoverableError, Worker } from 'bullmq';
import { Component, Health, Logger } from '@flowmesh/common';
import {
  ConfigSyncConnection, nodeJobProblems, NodeJobType, nodeQueueName, ReloadJobPayload, RunReportPartJobPayload, UpgradeJobPayload,
} from '@flowmesh/config-sync';
import type { ConfigAgentMetrics } from '../config-agent/config-agent.metrics';
import { UpgradeRefusedError, UpgradeService } from '../upgrade/upgrade.service';

/** What the job handlers act on (the lifecycle provides it). */
export interface NodeJobTargets {
  /** Re-read desired config now. */
  reload(force: boolean): Promise<{ appliedRevision: number; appliedHash: string }>;
  /** Write buffered batches to the store now; resolves with what is still pending. */
  flush(): Promise<{ pendingEntries: number; spoolEmpty?: boolean }>;
  /** Runs a read-only SELECT on the local store. */
  select(sql: string): Promise<{ rows: string[][] }>;
  storeDatabase: string;
}

export interface NodeJobsOptions {
  nodeId: string;
  connection: ConfigSyncConnection;
  maxReportRows: number;
  /** Lock of an active job; a job of a process that died is retried after about this long. */
  lockDurationMs?: number;
}

/** The report-part query this node understands: totals (and optionally top groups) over [from, to). */
const REPORT_DIMENSIONS = new Set([
  'src_addr', 'dst_addr', 'src_port', 'dst_port', 'protocol', 'exporter_addr', 'next_hop', 'in_if', 'out_if', 'src_as', 'dst_as', 'tos', 'ip_version', 'flow_type',
]);

export function reportPartSql(p: RunReportPartJobPayload, database: string, maxRows: number): string {
  const by = p.query?.by;
  if (by !== undefined && by !== null && (typeof by !== 'string' || !REPORT_DIMENSIONS.has(by))) {
    throw new UnrecoverableError(`payload.query.by: must be one of ${[...REPORT_DIMENSIONS].join(', ')} (got ${JSON.stringify(by)})`);
  }
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(database)) throw new UnrecoverableError('store database is not an identifier');
  const where = `time_received >= toDateTime64(${Math.trunc(p.from)} / 1000, 3) AND time_received < toDateTime64(${Math.trunc(p.to)} / 1000, 3)`;
  const sums = 'sum(bytes), sum(packets), count()';
  const key = by === 'src_addr' || by === 'dst_addr' || by === 'exporter_addr' || by === 'next_hop' ? `toString(${by})` : by ? `toString(${by})` : "''";
  return by
    ? `SELECT ${key} AS k, ${sums} FROM ${database}.flows WHERE ${where} GROUP BY k ORDER BY sum(bytes) DESC, k LIMIT ${maxRows}`
    : `SELECT '' AS k, ${sums} FROM ${database}.flows WHERE ${where} LIMIT ${maxRows}`;
}

/**
 * A BullMQ Worker on this node's queue (`flowmesh-node-<id>`). Handlers are idempotent: reload and flush are
 * naturally; run-report-part is a read; upgrade keeps its progress in `${installRoot}/upgrade-state.json` keyed by
 * job id. Invalid payloads and refused upgrades fail at once (UnrecoverableError); other errors are retried with
 * the backoff the master set on the job (nodeJobOptions).
 */
export class NodeJobsComponent implements Component {
  readonly name = 'jobs';
  private worker?: Worker;
  private conn?: Redis;
  private lastError: string | null = null;
  readonly handled: Partial<Record<NodeJobType, number>> = {};

  constructor(
    private readonly o: NodeJobsOptions,
    private readonly targets: NodeJobTargets,
    private readonly upgrades: UpgradeService | null,
    private readonly metrics: ConfigAgentMetrics,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    const c = this.o.connection;
    this.conn = new Redis(c.redisUrl, {
      maxRetriesPerRequest: null,
      lazyConnect: false,
      retryStrategy: (n) => Math.min(100 * n, 1000),
      ...(c.username !== undefined ? { username: c.username } : {}),
      ...(c.password !== undefined ? { password: c.password } : {}),
      ...(c.tls !== undefined ? { tls: c.tls } : {}),
      ...c.redis,
    });
    this.conn.on('error', (e: Error) => (this.lastError = e.message));
    this.worker = new Worker(nodeQueueName(this.o.nodeId), (job, token) => this.process(job, token), {
      connection: this.conn,
      concurrency: 1,
      lockDuration: this.o.lockDurationMs ?? 15_000,
      autorun: true,
    });
    this.worker.on('error', (e: Error) => (this.lastError = e.message));
    this.worker.on('failed', (job, e) => this.logger.warn('job failed', { id: job?.id, name: job?.name, error: e.message, attempt: job?.attemptsMade }));
  }

  /** Lets an active job finish (bounded); with Redis away it does not wait for it. */
  async stop(graceMs = 5000): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    if (w) {
      const force = this.conn?.status !== 'ready';
      let timer: NodeJS.Timeout | undefined;
      const closed = await Promise.race([
        w.close(force).then(() => true, () => true),
        new Promise<boolean>((r) => (timer = setTimeout(() => r(false), Math.min(graceMs, 5000)))),
      ]);
      clearTimeout(timer);
      if (!closed) void w.close(true).catch(() => undefined);
    }
    this.conn?.disconnect();
  }

  /** Jobs wait in Redis while it is away (the registry component reports that); never degrades readiness. */
  health(): Health {
    const detail = {
      status: 'ok' as const,
      queue: nodeQueueName(this.o.nodeId),
      connected: this.conn?.status === 'ready',
      ...(this.conn?.status !== 'ready' && this.lastError ? { lastError: this.lastError.slice(0, 120) } : {}),
      handled: this.handled,
    };
    return detail;
  }

  private async process(job: Job, token?: string): Promise<unknown> {
    const type = job.name as NodeJobType;
    const problems = nodeJobProblems(type, job.data);
    if (problems.length) {
      this.metrics.jobs.inc({ name: String(job.name).slice(0, 32), outcome: 'invalid' });
      throw new UnrecoverableError(`invalid job: ${problems.join('; ')}`);
    }
    try {
      const out = await this.handle(type, job, token);
      this.handled[type] = (this.handled[type] ?? 0) + 1;
      this.metrics.jobs.inc({ name: type, outcome: 'ok' });
      return out;
    } catch (e) {
      if (e instanceof DelayedError) throw e;
      this.metrics.jobs.inc({ name: type, outcome: 'failed' });
      if (e instanceof UpgradeRefusedError) throw new UnrecoverableError(e.message);
      throw e;
    }
  }

  private async handle(type: NodeJobType, job: Job, token?: string): Promise<unknown> {
    switch (type) {
      case 'reload':
        return this.targets.reload((job.data as ReloadJobPayload).force === true);
      case 'flush':
        return this.targets.flush();
      case 'run-report-part': {
        const p = job.data as RunReportPartJobPayload;
        const sql = reportPartSql(p, this.targets.storeDatabase, this.o.maxReportRows);
        const r = await this.targets.select(sql);
        const groups = r.rows.map(([key, bytes, packets, flows]) => ({ key, bytes: Number(bytes), packets: Number(packets), flows: Number(flows) }));
        return { node: this.o.nodeId, report: p.report, runId: p.runId, from: p.from, to: p.to, groups };
      }
      case 'upgrade': {
        if (!this.upgrades) throw new UnrecoverableError('install: upgrades are not enabled on this node');
        const step = await this.upgrades.run(String(job.id), job.data as UpgradeJobPayload);
        if ('done' in step) return step.done;
        // Put the job back for the process that comes up after the restart (same job id: it resumes).
        await job.moveToDelayed(Date.now() + 1000, token);
        if (!this.upgrades.restartRequested) setTimeout(() => this.upgrades?.restart(), 20).unref();
        throw new DelayedError();
      }
    }
  }
}
