import { createSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { AlertRuleSpec, ExporterSpec, ListenersSpec, ProfileSpec, ReportSpec, StorageSpec } from '@flowmesh/config-sync';
import type { ExporterRule } from '../exporters/exporter-policy';
import type { StorageConfig } from '../storage/storage.config';
import { LISTENER_NAMES, ListenersConfig } from '../udp-input/udp-input.config';

/**
 * What the running node can be told to change. Every section is given as the master's effective value, or
 * `undefined` when no scope sets it (the node then returns to its local configuration for that section).
 *
 * All or nothing: ConfigAgentComponent first calls `check()` for the whole new config (which must change
 * nothing and return every problem, e.g. a listener port that cannot be bound), and only when it returns no
 * problem calls the `apply*` of each changed section. An `apply*` that throws makes the component re-apply the
 * previous value of the sections already applied, so the node keeps its old configuration.
 */
export interface NodeConfigTarget {
  check(next: TargetSections, changed: ReadonlySet<TargetSection>): Promise<string[]>;
  applyStorage(spec: StorageSpec | undefined): Promise<void>;
  applyExporters(list: ExporterSpec[] | undefined): Promise<void>;
  applyListeners(spec: ListenersSpec | undefined): Promise<void>;
  applyProfiles(list: ProfileSpec[] | undefined): Promise<void>;
  applyAlertRules(list: AlertRuleSpec[] | undefined): Promise<void>;
  applyReports(list: ReportSpec[] | undefined): Promise<void>;
}

export interface TargetSections {
  storage?: StorageSpec;
  exporters?: ExporterSpec[];
  listeners?: ListenersSpec;
  profiles?: ProfileSpec[];
  alertRules?: AlertRuleSpec[];
  reports?: ReportSpec[];
}
export type TargetSection = keyof TargetSections;
/** The order sections are applied in (storage before what feeds it; sockets after the policy they feed). */
export const TARGET_SECTIONS: readonly TargetSection[] = ['storage', 'exporters', 'listeners', 'profiles', 'alertRules', 'reports'];

/** An exporter rule as the pipeline should run it: pipe's ExporterRule plus the master's `allow` (false = drop). */
export type ExporterRuleWithAllow = ExporterRule & { allow?: boolean };

/**
 * The hooks this target needs from the decode pipeline (owned by the pipeline; optional until it has them).
 * A section whose hook is missing is refused with a clear reason instead of being silently ignored.
 */
export interface PipelineConfigHooks {
  /** Replaces the exporter rules (allow-list, names, interfaces, sampling overrides) in the receiver and workers. */
  setExporters?(rules: ExporterRuleWithAllow[], allowUnknown: boolean): void | Promise<void>;
  /** Changes the batch size/age of the decode workers. */
  setBatching?(batchRows: number, batchMs: number): void | Promise<void>;
}

/** Hooks into the store (optional). */
export interface StoreConfigHooks {
  setRetention?(r: { rawDays: number; minuteDays: number; hourDays: number }): Promise<void>;
}

/** Sockets the node listens on. */
export interface ListenerControl {
  /** The listener config running now. */
  current(): ListenersConfig;
  /** Closes the sockets and opens the ones of `next`; on failure reopens the previous ones and throws. */
  rebind(next: ListenersConfig): Promise<void>;
}

export interface DefaultTargetOptions {
  /** The node's own configuration (defaults → file → env), what a section falls back to when no scope sets it. */
  local: { listeners: ListenersConfig; storage: StorageConfig; exporters: ExporterRule[]; allowUnknownExporters: boolean };
  listeners: ListenerControl;
  pipeline: PipelineConfigHooks;
  store: StoreConfigHooks;
  /** 'refuse': listener changes are refused (the node must be restarted with a new file). */
  listenerChanges: 'rebind' | 'refuse';
}

function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

/** The local listeners with the master's values laid over them, key by key. */
export function mergeListeners(local: ListenersConfig, spec: ListenersSpec | undefined): ListenersConfig {
  const out = clone(local);
  if (!spec) return out;
  for (const n of LISTENER_NAMES) {
    const s = spec[n];
    if (!s) continue;
    if (s.enabled !== undefined) out[n].enabled = s.enabled;
    if (s.address !== undefined) out[n].address = s.address;
    if (s.port !== undefined) out[n].port = s.port;
  }
  if (spec.receiveBufferBytes !== undefined) out.receiveBufferBytes = spec.receiveBufferBytes;
  return out;
}

export function exporterRules(list: ExporterSpec[]): ExporterRuleWithAllow[] {
  return list.map((e) => {
    const r: ExporterRuleWithAllow = { address: e.address };
    if (e.name !== undefined) r.name = e.name;
    if (e.interfaces !== undefined) r.interfaces = { ...e.interfaces };
    if (e.samplingRate !== undefined) r.samplingRate = e.samplingRate;
    if (e.defaultSamplingRate !== undefined) r.defaultSamplingRate = e.defaultSamplingRate;
    if (e.allow !== undefined) r.allow = e.allow;
    return r;
  });
}

/** Binds (and closes at once) a UDP socket on address:port; resolves null when it could be bound, else the error. */
export function probeUdpBind(address: string, port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const s = createSocket({ type: isIPv6(address) ? 'udp6' : 'udp4', reuseAddr: false });
    s.once('error', (e: NodeJS.ErrnoException) => {
      try {
        s.close();
      } catch {
        /* already closed */
      }
      resolve(e.code === 'EADDRINUSE' ? 'address already in use' : e.code === 'EACCES' ? 'permission denied' : e.message);
    });
    s.bind(port, address, () => s.close(() => resolve(null)));
  });
}

/** Problems of a listener config on its own: two enabled listeners on one address:port, unbindable new ports. */
export async function listenerProblems(next: ListenersConfig, running: ListenersConfig): Promise<string[]> {
  const problems: string[] = [];
  const seen = new Map<string, string>();
  for (const n of LISTENER_NAMES) {
    const l = next[n];
    if (!l.enabled || l.port === 0) continue;
    const key = `${l.address}|${l.port}`;
    const other = seen.get(key);
    if (other) problems.push(`listeners.${n}: ${l.address}:${l.port} is also used by listener ${other}`);
    seen.set(key, n);
  }
  for (const n of LISTENER_NAMES) {
    const l = next[n];
    if (!l.enabled || l.port === 0) continue;
    // A socket this node holds now is released by the rebind, so it is not probed.
    const held = LISTENER_NAMES.some((m) => running[m].enabled && running[m].port === l.port && running[m].address === l.address);
    if (held) continue;
    const why = await probeUdpBind(l.address, l.port);
    if (why) problems.push(`listeners.${n}: cannot bind udp ${l.address}:${l.port}: ${why}`);
  }
  return problems;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The target for what this node supports today: listeners (sockets re-bound, checked first), exporters and
 * batching through the pipeline's hooks, retention through the store's hook, and profiles / alert rules / reports
 * held for the components that will use them (`profiles`, `alertRules`, `reports`). Changing the storage engine,
 * URL or database of a running node is refused (it needs a restart with a new file).
 */
export class DefaultNodeConfigTarget implements NodeConfigTarget {
  profiles: ProfileSpec[] = [];
  alertRules: AlertRuleSpec[] = [];
  reports: ReportSpec[] = [];
  /** Exporter rules last given to the pipeline (undefined: the local ones). */
  exporters: ExporterRuleWithAllow[] | undefined;
  private storage: StorageSpec | undefined;

  constructor(private readonly o: DefaultTargetOptions) {}

  async check(next: TargetSections, changed: ReadonlySet<TargetSection>): Promise<string[]> {
    const problems: string[] = [];
    if (changed.has('listeners')) {
      const want = mergeListeners(this.o.local.listeners, next.listeners);
      const running = this.o.listeners.current();
      if (!sameJson(want, running)) {
        if (this.o.listenerChanges === 'refuse') problems.push('listeners: this node refuses listener changes at runtime (controlPlane.listenerChanges=refuse)');
        else problems.push(...(await listenerProblems(want, running)));
      }
    }
    if (changed.has('exporters') && !this.o.pipeline.setExporters) {
      problems.push('exporters: this node version cannot change exporter rules at runtime (pipeline has no setExporters)');
    }
    if (changed.has('storage')) problems.push(...this.storageProblems(next.storage));
    return problems;
  }

  private storageProblems(spec: StorageSpec | undefined): string[] {
    const problems: string[] = [];
    const local = this.o.local.storage;
    const s = spec ?? {};
    if (s.engine !== undefined && s.engine !== local.engine) {
      problems.push(`storage.engine: the node runs ${local.engine}; changing the engine needs a restart with a new config file`);
    }
    const engine = s.engine ?? local.engine;
    if (engine === 'clickhouse') {
      if (s.url !== undefined && s.url.replace(/\/+$/, '') !== local.clickhouse.url.replace(/\/+$/, '')) {
        problems.push(`storage.url: the node writes to ${local.clickhouse.url}; changing it needs a restart with a new config file`);
      }
      if (s.database !== undefined && s.database !== local.clickhouse.database) {
        problems.push(`storage.database: the node writes to ${local.clickhouse.database}; changing it needs a restart with a new config file`);
      }
    }
    const want = { rows: s.batchRows ?? local.batchRows, ms: s.batchMs ?? local.batchMs };
    const have = { rows: this.storage?.batchRows ?? local.batchRows, ms: this.storage?.batchMs ?? local.batchMs };
    if ((want.rows !== have.rows || want.ms !== have.ms) && !this.o.pipeline.setBatching) {
      problems.push('storage.batchRows/batchMs: this node version cannot change batching at runtime (pipeline has no setBatching)');
    }
    const retention = s.retention !== undefined || this.storage?.retention !== undefined;
    if (retention && !sameJson(s.retention, this.storage?.retention) && !this.o.store.setRetention) {
      problems.push('storage.retention: this node version cannot change retention at runtime (store has no setRetention)');
    }
    return problems;
  }

  async applyStorage(spec: StorageSpec | undefined): Promise<void> {
    const local = this.o.local.storage;
    const s = spec ?? {};
    if (this.o.pipeline.setBatching) await this.o.pipeline.setBatching(s.batchRows ?? local.batchRows, s.batchMs ?? local.batchMs);
    if (this.o.store.setRetention && !sameJson(s.retention, this.storage?.retention)) {
      await this.o.store.setRetention({ ...local.retention, ...(s.retention ?? {}) });
    }
    this.storage = clone(spec);
  }

  async applyExporters(list: ExporterSpec[] | undefined): Promise<void> {
    const rules = list ? exporterRules(list) : this.o.local.exporters.map((e) => ({ ...e }));
    if (!this.o.pipeline.setExporters) throw new Error('exporters: this node version cannot change exporter rules at runtime');
    await this.o.pipeline.setExporters(rules, this.o.local.allowUnknownExporters);
    this.exporters = list ? rules : undefined;
  }

  async applyListeners(spec: ListenersSpec | undefined): Promise<void> {
    const want = mergeListeners(this.o.local.listeners, spec);
    if (sameJson(want, this.o.listeners.current())) return;
    if (this.o.listenerChanges === 'refuse') throw new Error('listeners: refused by controlPlane.listenerChanges=refuse');
    await this.o.listeners.rebind(want);
  }

  async applyProfiles(list: ProfileSpec[] | undefined): Promise<void> {
    this.profiles = clone(list) ?? [];
  }

  async applyAlertRules(list: AlertRuleSpec[] | undefined): Promise<void> {
    this.alertRules = clone(list) ?? [];
  }

  async applyReports(list: ReportSpec[] | undefined): Promise<void> {
    this.reports = clone(list) ?? [];
  }
}
