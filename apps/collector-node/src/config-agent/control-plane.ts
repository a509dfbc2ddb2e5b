import { existsSync, readFileSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { Registry } from 'prom-client';
import { Component, Health, Logger, softwareVersion } from '@flowmesh/common';
import { ConfigSyncConnection, PINNED_KEY_FILE, toPublicKey } from '@flowmesh/config-sync';
import type { ExporterRule } from '../exporters/exporter-policy';
import { NodeJobsComponent } from '../jobs/node-jobs.component';
import type { StorageConfig } from '../storage/storage.config';
import type { FlowStore } from '../storage/storage';
import type { UdpInput } from '../udp-input/udp-input.component';
import type { ListenersConfig } from '../udp-input/udp-input.config';
import { UpgradeService } from '../upgrade/upgrade.service';
import { ConfigAgentComponent } from './config-agent.component';
import { ConfigAgentMetrics } from './config-agent.metrics';
import { ControlPlaneConfig } from './control-plane.config';
import { DefaultNodeConfigTarget, PipelineConfigHooks, StoreConfigHooks } from './node-config-target';
import { hasTemplateHooks, PipelineTemplateHooks, TemplateSyncComponent } from './template-sync.component';
import { UdpListenerControl } from './udp-listener-control';

/** What the control plane needs of the node (LifecycleService passes its own fields). */
export interface ControlPlaneDeps {
  config: {
    id: string;
    group?: string;
    dataDir: string;
    redis: { url: string };
    listeners: ListenersConfig;
    storage: StorageConfig;
    exporters: ExporterRule[];
    controlPlane?: ControlPlaneConfig;
  };
  allowUnknownExporters: boolean;
  metricsRegistry: Registry;
  logger: Logger;
  udp: UdpInput;
  /** The decode pipeline (DecodePipeline): runtime config hooks, template hooks, flush. */
  pipeline: PipelineConfigHooks & Partial<PipelineTemplateHooks> & { flush?(timeoutMs?: number): Promise<void> };
  store: FlowStore & StoreConfigHooks;
  /** The spool: flushNow() for the flush job. */
  spool: { flushNow?(timeoutMs?: number): Promise<boolean>; readonly pendingEntries: number };
  readiness: () => Health;
  /** Stops the node and exits the process with `code`. */
  exit: (code: number) => void;
}

export interface ControlPlane {
  /** Start after the store, pipeline and UDP input; before the registry. */
  components: Component[];
  config?: ConfigAgentComponent;
  templates?: TemplateSyncComponent;
  jobs?: NodeJobsComponent;
  target?: DefaultNodeConfigTarget;
}

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

/** Builds the node's control-plane components (config agent, template sharing, jobs with upgrades). */
export function createControlPlane(d: ControlPlaneDeps): ControlPlane {
  const cp = d.config.controlPlane ?? new ControlPlaneConfig();
  if (!cp.enabled) return { components: [] };
  const connection: ConfigSyncConnection = { redisUrl: d.config.redis.url };
  const metrics = new ConfigAgentMetrics(d.metricsRegistry);
  const logger = d.logger.child('control-plane');

  const p = d.pipeline;
  const pipelineHooks: PipelineConfigHooks = {
    setExporters: p.setExporters ? (rules, allowUnknown) => p.setExporters!(rules, allowUnknown) : undefined,
    setBatching: p.setBatching ? (rows, ms) => p.setBatching!(rows, ms) : undefined,
  };
  const storeHooks: StoreConfigHooks = { setRetention: d.store.setRetention ? (r) => d.store.setRetention!(r) : undefined };
  const target = new DefaultNodeConfigTarget({
    local: { listeners: clone(d.config.listeners), storage: clone(d.config.storage), exporters: clone(d.config.exporters), allowUnknownExporters: d.allowUnknownExporters },
    listeners: new UdpListenerControl(d.udp, d.config.listeners, logger),
    pipeline: pipelineHooks,
    store: storeHooks,
    listenerChanges: cp.listenerChanges,
  });
  const config = new ConfigAgentComponent(
    { nodeId: d.config.id, group: d.config.group, dataDir: d.config.dataDir, connection, controlPlane: cp },
    target,
    metrics,
    logger.child('config'),
  );
  const components: Component[] = [config];
  let templates: TemplateSyncComponent | undefined;
  if (cp.templates.enabled) {
    templates = new TemplateSyncComponent(
      { nodeId: d.config.id, connection, publishDebounceMs: cp.templates.publishDebounceMs },
      hasTemplateHooks(d.pipeline) ? d.pipeline : null,
      metrics,
      logger.child('templates'),
    );
    components.push(templates);
  }
  let jobs: NodeJobsComponent | undefined;
  if (cp.jobs.enabled) {
    const stateDir = join(resolve(d.config.dataDir), d.config.id, 'config');
    const masterKey = (): KeyObject | null => {
      const file = cp.masterPublicKey ?? join(stateDir, PINNED_KEY_FILE);
      return existsSync(file) ? toPublicKey(readFileSync(file, 'utf8')) : null;
    };
    const upgrades = new UpgradeService({
      installRoot: cp.upgrade.installRoot,
      version: softwareVersion(),
      masterKey,
      masterUrl: cp.masterUrl,
      nodeToken: () => (cp.nodeTokenFile ? readFileSync(cp.nodeTokenFile, 'utf8').trim() : cp.nodeToken),
      healthDeadlineMs: cp.upgrade.healthDeadlineMs,
      maxPackageBytes: cp.upgrade.maxPackageBytes,
      readiness: d.readiness,
      requestRestart: d.exit,
      logger: logger.child('upgrade'),
    });
    jobs = new NodeJobsComponent(
      { nodeId: d.config.id, connection, maxReportRows: cp.jobs.maxReportRows },
      {
        reload: async () => {
          await config.syncNow();
          return { appliedRevision: config.appliedRevision, appliedHash: config.appliedHash };
        },
        flush: async () => {
          if (p.flush) await p.flush();
          const empty = d.spool.flushNow ? await d.spool.flushNow() : undefined;
          if (templates) await templates.publishNow();
          return { pendingEntries: d.spool.pendingEntries, ...(empty !== undefined ? { spoolEmpty: empty } : {}) };
        },
        select: (sql) => d.store.select(sql),
        storeDatabase: d.store.database,
      },
      upgrades,
      metrics,
      logger.child('jobs'),
    );
    components.push(jobs);
  }
  return { components, config, templates, jobs, target };
}
