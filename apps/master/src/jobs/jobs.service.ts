import { BadRequestException, Injectable } from '@nestjs/common';
import { Job, Queue } from 'bullmq';
import Redis from 'ioredis';
import { Component, Health, Logger } from '@flowmesh/common';
import { NODE_ID_PATTERN, nodeJobId, nodeJobOptions, nodeJobProblems, nodeQueueName, NodeJobType } from '@flowmesh/config-sync';
import { MasterConfig } from '../config/master.config';
import { redactUrl } from '../registry/registry.service';
import { JobView } from './job.dto';

/** job id -> node id, so GET /api/v1/jobs/:id finds the node's queue. */
export const JOB_INDEX_KEY = 'flowmesh:jobs:index';

/**
 * Adds imperative work to the per-node BullMQ queues `flowmesh-node-<id>` and reads it back. The job id is derived
 * from node, type, payload and the client's idempotency key, so a repeated request never adds a second job.
 */
@Injectable()
export class JobsService implements Component {
  readonly name = 'jobs';
  private readonly redis: Redis;
  private readonly queues = new Map<string, Queue>();
  private readonly log = new Logger('master.jobs');
  private readonly redisUrl: string;

  constructor(private readonly config: MasterConfig) {
    this.redis = new Redis(config.redis.url, { maxRetriesPerRequest: 1, retryStrategy: (n) => Math.min(100 * n, 1000), connectionName: 'flowmesh-master-jobs' });
    this.redis.on('error', () => undefined);
    this.redisUrl = redactUrl(config.redis.url);
  }

  async start(): Promise<void> {
    /* connects on construction; nothing to wait for */
  }

  async stop(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close().catch(() => undefined)));
    this.queues.clear();
    this.redis.disconnect();
  }

  health(): Health {
    return this.redis.status === 'ready' ? { status: 'ok' } : { status: 'error', reason: `jobs: redis ${this.redisUrl} is not reachable` };
  }

  queue(nodeId: string): Queue {
    let q = this.queues.get(nodeId);
    if (!q) {
      q = new Queue(nodeQueueName(nodeId), { connection: this.redis });
      q.on('error', (e: Error) => this.log.warn('queue error', { node: nodeId, error: e.message }));
      this.queues.set(nodeId, q);
    }
    return q;
  }

  /** Validates and adds a job (or returns the existing one with the same derived id). 400 names the path of a bad payload. */
  async enqueue(nodeId: string, type: NodeJobType, payload: unknown, idempotencyKey?: string): Promise<{ created: boolean; job: JobView }> {
    if (!NODE_ID_PATTERN.test(nodeId)) throw new BadRequestException([`id: must be a node id (got ${JSON.stringify(nodeId)})`]);
    const problems = nodeJobProblems(type, payload ?? {});
    if (problems.length) throw new BadRequestException(problems);
    const id = nodeJobId(nodeId, type, payload ?? {}, idempotencyKey);
    const q = this.queue(nodeId);
    const existing = await q.getJob(id);
    if (existing) return { created: false, job: await this.view(nodeId, existing) };
    await this.redis.hset(JOB_INDEX_KEY, id, nodeId);
    const keep = { age: this.config.jobs.keepSeconds };
    const job = await q.add(type, payload ?? {}, {
      jobId: id,
      ...nodeJobOptions(type, this.config.jobs.attempts, this.config.jobs.backoffMs),
      removeOnComplete: keep,
      removeOnFail: keep,
    });
    this.log.info('job added', { node: nodeId, type, id });
    return { created: true, job: await this.view(nodeId, job) };
  }

  async get(id: string): Promise<JobView | null> {
    const nodeId = await this.redis.hget(JOB_INDEX_KEY, id);
    if (!nodeId) return null;
    const job = await this.queue(nodeId).getJob(id);
    return job ? this.view(nodeId, job) : null;
  }

  /** The node's most recent jobs in every state, newest first. */
  async list(nodeId: string, limit = 50): Promise<JobView[]> {
    if (!NODE_ID_PATTERN.test(nodeId)) throw new BadRequestException([`id: must be a node id (got ${JSON.stringify(nodeId)})`]);
    const jobs = await this.queue(nodeId).getJobs(['active', 'waiting', 'delayed', 'prioritized', 'completed', 'failed'], 0, limit - 1, false);
    const views = await Promise.all(jobs.filter((j): j is Job => !!j).map((j) => this.view(nodeId, j)));
    return views.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0)).slice(0, limit);
  }

  private async view(nodeId: string, loaded: Job): Promise<JobView> {
    const iso = (t: number | undefined | null) => (t ? new Date(t).toISOString() : null);
    // The state is read after the job's fields were loaded: a job that finished in between would show
    // 'completed' with no result. Re-read the fields after the state, so they are at least as new.
    const state = await loaded.getState();
    const job = state === 'completed' || state === 'failed' ? ((await this.queue(nodeId).getJob(String(loaded.id))) ?? loaded) : loaded;
    return {
      id: String(job.id),
      node: nodeId,
      queue: nodeQueueName(nodeId),
      type: job.name,
      state,
      attemptsMade: job.attemptsMade,
      attempts: job.opts.attempts ?? 1,
      payload: job.data,
      result: job.returnvalue ?? null,
      failedReason: job.failedReason || null,
      createdAt: new Date(job.timestamp).toISOString(),
      processedAt: iso(job.processedOn),
      finishedAt: iso(job.finishedOn),
    };
  }
}
