import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Component, Health, Logger } from '@flowmesh/common';
import { AppliedConfig, ApplyMeta, ConfigAck, ConfigAgent, ConfigSyncConnection, EffectiveConfig, hashJson } from '@flowmesh/config-sync';
import { ConfigAgentMetrics } from './config-agent.metrics';
import { ControlPlaneConfig } from './control-plane.config';
import { NodeConfigTarget, TARGET_SECTIONS, TargetSection, TargetSections } from './node-config-target';

export interface ConfigAgentComponentOptions {
  nodeId: string;
  group?: string;
  dataDir: string;
  connection: ConfigSyncConnection;
  controlPlane: ControlPlaneConfig;
}

/** Thrown by apply when the node refuses a config; the message lists every reason. */
export class ConfigRefusedError extends Error {}

/** Sections of an effective config this node acts on. */
export function targetSections(c: EffectiveConfig): TargetSections {
  return { storage: c.storage, exporters: c.exporters, listeners: c.listeners, profiles: c.profiles, alertRules: c.alertRules, reports: c.reports };
}

/**
 * The node's ConfigAgent (desired state from the master, verified, persisted under `${dataDir}/${id}/config`)
 * turned into changes of the running node through a NodeConfigTarget, all or nothing: the whole config is
 * checked first (e.g. new listener ports bindable); then only the sections that changed are applied; if one of
 * them fails, the sections already applied get their previous value back and the agent reports the failure
 * (the node keeps running its old config). While Redis or the master is down the node runs on the last
 * applied config (re-applied from disk at start).
 */
export class ConfigAgentComponent implements Component {
  readonly name = 'config';
  readonly agent: ConfigAgent;
  /** What the target runs: {} = every section at the node's local configuration. */
  private running: TargetSections = {};
  private lastAck: ConfigAck | null = null;

  constructor(
    private readonly o: ConfigAgentComponentOptions,
    private readonly target: NodeConfigTarget,
    private readonly metrics: ConfigAgentMetrics,
    private readonly logger: Logger,
  ) {
    const cp = o.controlPlane;
    const keyFile = cp.masterPublicKey;
    this.agent = new ConfigAgent({
      connection: o.connection,
      nodeId: o.nodeId,
      group: o.group,
      stateDir: join(resolve(o.dataDir), o.nodeId, 'config'),
      masterPublicKey: keyFile ? readFileSync(keyFile, 'utf8') : undefined,
      apply: (config, meta) => this.applyConfig(config, meta),
      pollMs: cp.pollMs,
      retryFailedMs: cp.retryFailedMs,
      allowRevisionDecrease: cp.allowRevisionDecrease,
    });
    this.agent.on('applied', (a: AppliedConfig, meta: Partial<ApplyMeta>) => {
      this.metrics.applies.inc();
      this.metrics.appliedRevision.set(a.revision);
      this.metrics.appliedInfo.reset();
      this.metrics.appliedInfo.set({ hash: a.hash.slice(0, 16) }, 1);
      this.logger.info('config applied', { revision: a.revision, hash: a.hash.slice(0, 16), origin: meta?.origin });
    });
    this.agent.on('failed', (f: { reason: string; detail: string; revision: number }) => {
      this.metrics.failures.inc({ reason: f.reason });
      this.logger.warn('config refused; keeping the applied one', { revision: f.revision, reason: f.reason, detail: f.detail, applied: this.agent.appliedRevision });
    });
    this.agent.on('ack', (a: ConfigAck) => {
      this.lastAck = a;
      this.metrics.desiredRevision.set(a.desiredRevision);
      this.metrics.appliedRevision.set(a.appliedRevision);
    });
    this.agent.on('connected', () => this.metrics.connected.set(1));
    this.agent.on('disconnected', () => this.metrics.connected.set(0));
  }

  async start(): Promise<void> {
    await this.agent.start();
  }

  async stop(graceMs?: number): Promise<void> {
    await this.agent.stop(graceMs);
  }

  /** Re-reads desired state now (the `reload` job). */
  syncNow(): Promise<void> {
    return this.agent.syncNow();
  }

  get appliedRevision(): number {
    return this.agent.appliedRevision;
  }

  get appliedHash(): string {
    return this.agent.appliedHash;
  }

  /**
   * /readyz detail: applied/desired revision and hash, connection, last ack and error. A refused desired state is a
   * warning; Redis being away is not (the registry component reports it, and the node keeps its applied config).
   */
  health(): Health {
    const refused = this.agent.lastError !== null && ['signature', 'invalid', 'apply', 'stale', 'no-key'].includes(this.agent.lastError.reason);
    const agent = this.agent.health();
    const detail = {
      status: refused && agent.status !== 'ok' ? agent.status : 'ok',
      ...(refused && agent.reason ? { reason: agent.reason } : {}),
      appliedRevision: this.agent.appliedRevision,
      appliedHash: this.agent.appliedHash,
      desiredRevision: this.agent.desiredRevision,
      connected: this.agent.connected,
      lastAckAt: this.agent.lastAckAt,
      lastAckStatus: this.lastAck?.status,
      lastError: this.agent.lastError,
    } as const;
    return detail;
  }

  /** The ConfigAgent's apply callback: check everything, then apply the changed sections; throws to refuse. */
  async applyConfig(config: EffectiveConfig, meta: Pick<ApplyMeta, 'revision'>): Promise<void> {
    const next = targetSections(config);
    const prev = this.running;
    const changed = new Set<TargetSection>(TARGET_SECTIONS.filter((s) => hashJson(prev[s] ?? null) !== hashJson(next[s] ?? null)));
    const problems = await this.target.check(next, changed);
    if (problems.length) throw new ConfigRefusedError(`refused revision ${meta.revision}: ${problems.join('; ')}`);
    const done: TargetSection[] = [];
    try {
      for (const s of TARGET_SECTIONS) {
        if (!changed.has(s)) continue;
        await this.applySection(s, next);
        done.push(s);
      }
    } catch (e) {
      const failed = TARGET_SECTIONS.find((s) => changed.has(s) && !done.includes(s));
      for (const s of done.reverse()) {
        try {
          await this.applySection(s, prev);
        } catch (undoError) {
          this.logger.error('could not restore a config section after a failed apply', { section: s, error: (undoError as Error).message });
        }
      }
      throw new Error(`${failed ?? 'apply'}: ${(e as Error).message}`);
    }
    this.running = next;
  }

  private applySection(s: TargetSection, v: TargetSections): Promise<void> {
    switch (s) {
      case 'storage':
        return this.target.applyStorage(v.storage);
      case 'exporters':
        return this.target.applyExporters(v.exporters);
      case 'listeners':
        return this.target.applyListeners(v.listeners);
      case 'profiles':
        return this.target.applyProfiles(v.profiles);
      case 'alertRules':
        return this.target.applyAlertRules(v.alertRules);
      case 'reports':
        return this.target.applyReports(v.reports);
    }
  }
}
