import { createHash } from 'node:crypto';
import { hostname, networkInterfaces } from 'node:os';
import { isIPv6 } from 'node:net';
import { join, resolve } from 'node:path';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { combineHealth, Component, Health, Logger, softwareVersion, startAll, stopAll } from '@flowmesh/common';
import { NodeHeartbeat, NodeInfo } from '@flowmesh/config-sync';
import { CollectorConfig } from '../config/collector.config';
import { DecodePipeline } from '../decode-pipeline/decode-pipeline.component';
import { DecodePipelineMetrics } from '../decode-pipeline/decode-pipeline.metrics';
import { HttpComponent } from '../http/http.component';
import { RegistryComponent } from '../registry/registry.component';
import { ChdbStore } from '../storage/chdb.store';
import { StorageMetrics } from '../storage/storage.metrics';
import { UdpInput } from '../udp-input/udp-input.component';
import { UdpInputMetrics } from '../udp-input/udp-input.metrics';
import { NodeRuntime } from './node-runtime';

/**
 * Builds the node's components from the validated config, starts them in one written-out order and
 * stops them in reverse. A component that dies after start (e.g. a socket error) ends the process.
 */
export class LifecycleService implements NodeRuntime {
  readonly metricsRegistry = new Registry();
  readonly store: ChdbStore;
  readonly pipeline: DecodePipeline;
  readonly udp: UdpInput;
  readonly http: HttpComponent;
  readonly registry: RegistryComponent;
  private readonly order: Component[];
  private readonly startedAt = new Date().toISOString();
  private stopping?: Promise<void>;
  private lastBeat = { at: Date.now(), packets: 0, flows: 0 };

  constructor(
    private readonly config: CollectorConfig,
    private readonly logger: Logger = new Logger('collector-node'),
  ) {
    collectDefaultMetrics({ register: this.metricsRegistry });
    const chdbPath = join(resolve(config.dataDir), config.id, 'chdb');
    const pathTag = createHash('sha1').update(chdbPath).digest('hex').slice(0, 8);
    const storageMetrics = new StorageMetrics(this.metricsRegistry);

    this.store = new ChdbStore({
      path: chdbPath,
      memoryLimitBytes: config.storage.memoryLimitBytes,
      filePrefix: `flowmesh-${config.id}-${pathTag}-`,
      logger: logger.child('storage'),
    });
    this.pipeline = new DecodePipeline(
      { batchRows: config.storage.batchRows, batchMs: config.storage.batchMs, maxPendingRows: config.storage.maxPendingRows },
      this.store,
      new DecodePipelineMetrics(this.metricsRegistry, DecodePipeline.errorReasons()),
      storageMetrics,
      logger.child('decode'),
    );
    this.udp = new UdpInput(config.listeners, this.pipeline, new UdpInputMetrics(this.metricsRegistry), logger.child('udp'), (e) => this.fail('udp', e));
    this.http = new HttpComponent(config.http.host, config.http.port, { nodeId: config.id, runtime: this, store: this.store }, logger.child('http'));
    this.registry = new RegistryComponent(config.redis.url, config.heartbeatMs, () => this.info(), () => this.heartbeat(), logger.child('registry'));

    // The start order. Storage first (nothing is received that cannot be kept), then decoding, then the
    // sockets; HTTP once there is something to serve; the registry last, so what it advertises
    // (bound ports, API URL) is real. stop() runs it backwards: deregister, stop serving, stop receiving,
    // flush the last batch, close the store.
    this.order = [this.store, this.pipeline, this.udp, this.http, this.registry];
  }

  async start(): Promise<void> {
    await startAll(this.order);
    this.logger.info('node started', { id: this.config.id, version: softwareVersion(), apiUrl: this.apiUrl(), listeners: this.udp.listeners() });
  }

  stop(graceMs = 10_000): Promise<void> {
    this.stopping ??= stopAll(this.order, graceMs).then(() => this.logger.info('node stopped', { id: this.config.id, storedRows: this.pipeline.totals.storedRows }));
    return this.stopping;
  }

  /** A component died after start: stop the rest and end the process (a supervisor restarts it). */
  fail(component: string, e: Error): void {
    if (this.stopping) return;
    this.logger.error('component failed; stopping the node', { component, error: e.message });
    void this.stop().finally(() => process.exit(1));
  }

  readiness(): Health & { components: Record<string, Health> } {
    return combineHealth(this.order);
  }

  info(): NodeInfo {
    return {
      id: this.config.id,
      version: softwareVersion(),
      hostname: hostname(),
      group: this.config.group,
      apiUrl: this.apiUrl(),
      addresses: this.addresses(),
      listeners: this.udp.listeners().map((l) => ({ protocol: l.name, address: l.address, port: l.port })),
      startedAt: this.startedAt,
      pid: process.pid,
    };
  }

  heartbeat(): NodeHeartbeat {
    const now = Date.now();
    const t = this.pipeline.totals;
    const dt = Math.max(0.001, (now - this.lastBeat.at) / 1000);
    const hb: NodeHeartbeat = {
      at: now,
      ready: combineHealth([this.store, this.pipeline, this.udp, this.http]).status !== 'error',
      packets: t.packets,
      flows: t.flows,
      storedRows: t.storedRows,
      decodeErrors: t.decodeErrors,
      packetsPerSecond: Math.round((t.packets - this.lastBeat.packets) / dt),
      flowsPerSecond: Math.round((t.flows - this.lastBeat.flows) / dt),
    };
    this.lastBeat = { at: now, packets: t.packets, flows: t.flows };
    return hb;
  }

  private apiUrl(): string {
    const h = this.config.advertiseHost;
    return `http://${isIPv6(h) ? `[${h}]` : h}:${this.http.listeningPort || this.config.http.port}`;
  }

  private addresses(): string[] {
    const out = new Set<string>([this.config.advertiseHost]);
    for (const list of Object.values(networkInterfaces())) {
      for (const a of list ?? []) if (!a.internal) out.add(a.address);
    }
    return [...out];
  }
}
