import { BadRequestException, ConflictException, Injectable, NotFoundException, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { Logger } from '@flowmesh/common';
import { NodeView, packageDownloadPath, upgradeDecision, UpgradeJobPayload } from '@flowmesh/config-sync';
import { MasterConfig } from '../config/master.config';
import { JobsService } from '../jobs/jobs.service';
import { RegistryService } from '../registry/registry.service';
import { PackageStore } from './package-store.service';
import { CreateRolloutRequestDto, Rollout, RolloutNode } from './rollout.dto';

export const ROLLOUTS_KEY = 'flowmesh:upgrades:rollouts';

/**
 * Rolling upgrades, one node at a time: add an `upgrade` job to the node's queue, then wait until the job has
 * completed AND the registry shows the node up, ready and on the new version AND its /readyz answers 200 — all
 * within the per-node deadline — before the next node. Anything else (job failed, e.g. the node rolled itself
 * back; deadline passed) stops the rollout. State is kept in Redis (`flowmesh:upgrades:rollouts`).
 */
@Injectable()
export class RolloutService implements OnModuleInit, OnApplicationShutdown {
  private readonly redis: Redis;
  private readonly log = new Logger('master.rollouts');
  private readonly running = new Map<string, { rollout: Rollout; cancel: boolean; done: Promise<void> }>();
  private stopping = false;

  constructor(
    private readonly config: MasterConfig,
    private readonly packages: PackageStore,
    private readonly jobs: JobsService,
    private readonly registry: RegistryService,
  ) {
    this.redis = new Redis(config.redis.url, { maxRetriesPerRequest: 1, retryStrategy: (n) => Math.min(100 * n, 1000), connectionName: 'flowmesh-master-rollouts' });
    this.redis.on('error', () => undefined);
  }

  /** A rollout left `running` by a previous master process is `interrupted` (its node may still finish its job). */
  async onModuleInit(): Promise<void> {
    try {
      for (const r of await this.all()) {
        if (r.state === 'running') await this.save({ ...r, state: 'interrupted', reason: 'the master stopped during the rollout', finishedAt: new Date().toISOString() });
      }
    } catch (e) {
      this.log.warn('cannot check old rollouts', { error: (e as Error).message });
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    for (const r of this.running.values()) r.cancel = true;
    await Promise.all([...this.running.values()].map((r) => r.done.catch(() => undefined)));
    this.redis.disconnect();
  }

  async start(req: CreateRolloutRequestDto, author: string): Promise<Rollout> {
    if (this.running.size) throw new ConflictException(`rollout ${[...this.running.keys()][0]} is still running`);
    const manifest = this.packages.get(req.version);
    if (!manifest) throw new BadRequestException([`version: no package ${req.version} (upload it first)`]);
    if (req.nodes && req.group) throw new BadRequestException(['nodes: give nodes or group, not both']);
    const views = await this.registry.list();
    let order: string[];
    if (req.nodes) {
      const unknown = req.nodes.filter((id) => !views.some((v) => v.id === id));
      if (unknown.length) throw new BadRequestException([`nodes: not registered: ${unknown.join(', ')}`]);
      if (new Set(req.nodes).size !== req.nodes.length) throw new BadRequestException(['nodes: listed twice']);
      order = req.nodes;
    } else {
      order = views.filter((v) => req.group === undefined || v.group === req.group).map((v) => v.id).sort();
      if (!order.length) throw new BadRequestException([req.group !== undefined ? `group: no registered node in group ${req.group}` : 'nodes: no registered node']);
    }
    const rollout: Rollout = {
      id: `r-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`,
      version: req.version,
      force: req.force === true,
      nodeTimeoutMs: req.nodeTimeoutMs ?? this.config.upgrades.nodeTimeoutMs,
      state: 'running',
      reason: null,
      author,
      createdAt: new Date().toISOString(),
      finishedAt: null,
      nodes: order.map((node) => ({ node, state: 'pending', fromVersion: null, jobId: null, startedAt: null, finishedAt: null, reason: null })),
    };
    await this.save(rollout);
    const entry = { rollout, cancel: false, done: Promise.resolve() };
    this.running.set(rollout.id, entry);
    entry.done = this.run(entry).finally(() => this.running.delete(rollout.id));
    this.log.info('rollout started', { id: rollout.id, version: rollout.version, nodes: order });
    return rollout;
  }

  async cancel(id: string): Promise<Rollout> {
    const entry = this.running.get(id);
    if (!entry) {
      const r = await this.get(id);
      if (!r) throw new NotFoundException(`no rollout ${JSON.stringify(id)}`);
      throw new ConflictException(`rollout ${id} is not running (${r.state})`);
    }
    entry.cancel = true;
    return entry.rollout;
  }

  async get(id: string): Promise<Rollout | null> {
    const live = this.running.get(id);
    if (live) return live.rollout;
    const text = await this.redis.hget(ROLLOUTS_KEY, id);
    return text ? (JSON.parse(text) as Rollout) : null;
  }

  /** Newest first. */
  async all(): Promise<Rollout[]> {
    const rows = Object.values(await this.redis.hgetall(ROLLOUTS_KEY)).map((t) => JSON.parse(t) as Rollout);
    for (const r of rows) {
      const live = this.running.get(r.id);
      if (live) Object.assign(r, live.rollout);
    }
    return rows.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
  }

  private async save(r: Rollout): Promise<void> {
    await this.redis.hset(ROLLOUTS_KEY, r.id, JSON.stringify(r)).catch((e: Error) => this.log.warn('cannot save rollout', { id: r.id, error: e.message }));
  }

  private async run(entry: { rollout: Rollout; cancel: boolean }): Promise<void> {
    const r = entry.rollout;
    const finish = async (state: Rollout['state'], reason: string | null) => {
      r.state = state;
      r.reason = reason;
      r.finishedAt = new Date().toISOString();
      await this.save(r);
      this.log[state === 'succeeded' ? 'info' : 'warn']('rollout finished', { id: r.id, state, reason });
    };
    for (const step of r.nodes) {
      if (entry.cancel) return finish(this.stopping ? 'interrupted' : 'cancelled', this.stopping ? 'the master stopped during the rollout' : 'cancelled');
      step.state = 'running';
      step.startedAt = new Date().toISOString();
      await this.save(r);
      try {
        await this.upgradeNode(r, step, entry);
      } catch (e) {
        step.state = 'failed';
        step.reason = (e as Error).message;
      }
      step.finishedAt = new Date().toISOString();
      await this.save(r);
      if (step.state === 'failed') return finish('failed', `${step.node}: ${step.reason}`);
    }
    return finish('succeeded', null);
  }

  private async upgradeNode(r: Rollout, step: RolloutNode, entry: { cancel: boolean }): Promise<void> {
    const view = await this.view(step.node);
    if (!view) throw new Error('not registered any more');
    step.fromVersion = view.version;
    const decision = upgradeDecision(view.version, r.version, r.force);
    if (decision.kind === 'same' && !r.force) {
      step.state = 'skipped';
      step.reason = decision.reason;
      return;
    }
    if (!decision.allowed) throw new Error(decision.reason);
    const { manifest } = this.packages.open(r.version);
    const payload: UpgradeJobPayload = { version: r.version, manifest, downloadPath: packageDownloadPath(r.version), force: r.force, rolloutId: r.id };
    const { job } = await this.jobs.enqueue(step.node, 'upgrade', payload, r.id);
    step.jobId = job.id;
    await this.save(r);
    const deadline = Date.now() + r.nodeTimeoutMs;
    let last = `job ${job.id} not done`;
    let jobDone = false;
    while (Date.now() < deadline) {
      if (entry.cancel && !jobDone) {
        await this.removeIfNotStarted(step.node, job.id);
        throw new Error('rollout stopped before the node finished');
      }
      if (!jobDone) {
        const j = await this.jobs.get(job.id);
        if (!j) throw new Error(`upgrade job ${job.id} disappeared`);
        if (j.state === 'failed') throw new Error(`upgrade job failed: ${j.failedReason ?? 'no reason given'}`);
        jobDone = j.state === 'completed';
        last = `upgrade job ${j.state}`;
      }
      if (jobDone) {
        const v = await this.view(step.node);
        if (!v) last = 'node not registered';
        else if (v.version !== r.version) last = `node reports version ${v.version}`;
        else if (v.status !== 'up') last = 'node heartbeat is stale';
        else if (!v.heartbeat?.ready) last = 'node heartbeat says not ready';
        else {
          const ready = await this.readyz(v.apiUrl);
          if (ready === null) {
            step.state = 'succeeded';
            step.reason = null;
            return;
          }
          last = ready;
        }
      }
      await new Promise((res) => setTimeout(res, this.config.upgrades.pollMs));
    }
    if (!jobDone) await this.removeIfNotStarted(step.node, job.id);
    throw new Error(`not upgraded and healthy within ${r.nodeTimeoutMs} ms (${last})`);
  }

  /** A job nobody picked up is removed, so a node that comes back later does not upgrade outside the rollout. */
  private async removeIfNotStarted(node: string, jobId: string): Promise<void> {
    try {
      const job = await this.jobs.queue(node).getJob(jobId);
      const state = job ? await job.getState() : 'unknown';
      if (job && (state === 'waiting' || state === 'delayed' || state === 'prioritized')) await job.remove();
    } catch {
      /* best effort */
    }
  }

  private async view(node: string): Promise<NodeView | undefined> {
    return (await this.registry.list()).find((v) => v.id === node);
  }

  /** null when GET <apiUrl>/readyz answers 200 within 2 s; otherwise why not. */
  private async readyz(apiUrl: string): Promise<string | null> {
    try {
      const res = await fetch(new URL('/readyz', apiUrl), { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer().catch(() => undefined);
      return res.status === 200 ? null : `node /readyz answered ${res.status}`;
    } catch (e) {
      return `node /readyz: ${(e as Error).message}`;
    }
  }
}
