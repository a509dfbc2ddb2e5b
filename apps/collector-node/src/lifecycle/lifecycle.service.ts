import { hostname, networkInterfaces } from 'node:os';
import { isIPv6 } from 'node:net';
import { join, resolve } from 'node:path';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { combineHealth, Component, Health, Logger, softwareVersion, startAll, stopAll } from '@flowmesh/common';
import { NodeHeartbeat, NodeInfo } from '@flowmesh/config-sync';
import { allowsUnknownExporters, CollectorConfig } from '../config/collector.config';
import { ControlPlane, createControlPlane } from '../config-agent/control-plane';
import { IncarnationSource } from '../decode-pipeline/batch-ids';
import { DecodePipeline } from '../decode-pipeline/decode-pipeline.component';
import { DecodePipelineMetrics } from '../decode-pipeline/decode-pipeline.metrics';
import { ExporterMetrics } from '../exporters/exporters.metrics';
import { HttpComponent } from '../http/http.component';
import { IngestDropMetrics } from '../observability/ingest-drops.metrics';
import { RegistryComponent } from '../registry/registry.component';
import { Spool } from '../spool/spool.component';
import { SpoolMetrics } from '../spool/spool.metrics';
import { FlowStore } from '../storage/storage';
import { StorageMetrics } from '../storage/storage.metrics';
import { createFlowStore } from '../storage/store-factory';
import { UdpInput } from '../udp-input/udp-input.component';
import { UdpInputMetrics } from '../udp-input/udp-input.metrics';
import { NodeRuntime } from './node-runtime';

/**
 * Builds the node's components from the validated config, starts them in one written-out order and
 * stops them in reverse. A component that dies after start (e.g. a socket error) ends the process.
 */
export class LifecycleService implements NodeRuntime {
  readonly metricsRegistry = new Registry();
  readonly store: FlowStore;
  readonly spool: Spool;
  readonly drops: IngestDropMetrics;
  readonly pipeline: DecodePipeline;
  readonly udp: UdpInput;
  readonly http: HttpComponent;
  readonly registry: RegistryComponent;
  readonly controlPlane: ControlPlane;
  private readonly order: Component[];
  private readonly startedAt = new Date().toISOString();
  private stopping?: Promise<void>;
  private lastBeat = { at: Date.now(), packets: 0, flows: 0 };

  constructor(
    private readonly config: CollectorConfig,
    private readonly logger: Logger = new Logger('collector-node'),
  ) {
    collectDefaultMetrics({ register: this.metricsRegistry });
    const nodeDir = join(resolve(config.dataDir), config.id);
    const storageMetrics = new StorageMetrics(this.metricsRegistry);
    this.drops = new IngestDropMetrics(this.metricsRegistry);

    this.store = createFlowStore(config.storage, { dataDir: config.dataDir, nodeId: config.id, logger: logger.child('storage'), metrics: storageMetrics });
    const spoolDir = join(nodeDir, 'spool');
    this.spool = new Spool({ ...config.spool, dir: spoolDir }, this.store, new SpoolMetrics(this.metricsRegistry), this.drops, logger.child('spool'), storageMetrics);
    const incarnations = new IncarnationSource(spoolDir);
    this.pipeline = new DecodePipeline(
      {
        decode: config.decode,
        clock: config.clock,
        batchRows: config.storage.batchRows,
        batchMs: config.storage.batchMs,
        format: config.storage.insertFormat,
        exporters: config.exporters.map((e) => ({ ...e })),
        allowUnknownExporters: allowsUnknownExporters(config),
        nextIncarnation: () => incarnations.next(),
      },
      this.spool,
      new DecodePipelineMetrics(this.metricsRegistry, DecodePipeline.errorReasons()),
      new ExporterMetrics(this.metricsRegistry, config.decode.maxExporterSeries),
      this.drops,
      logger.child('decode'),
    );
    this.udp = new UdpInput(config.listeners, this.pipeline, new UdpInputMetrics(this.metricsRegistry), logger.child('udp'), (e) => this.fail('udp', e));
    this.http = new HttpComponent(config.http.host, config.http.port, { nodeId: config.id, runtime: this, store: this.store }, logger.child('http'));
    this.registry = new RegistryComponent(config.redis.url, config.heartbeatMs, () => this.info(), () => this.heartbeat(), logger.child('registry'));

    // The start order. Storage first, then the spool (which replays what an earlier run left), then the
    // decode workers, then the sockets; HTTP once there is something to serve; the registry last, so
    // what it advertises (bound ports, API URL) is real. stop() runs it backwards: deregister, stop
    // serving, stop receiving, drain the workers, append and deliver the spool, close the store.
    // Config agent, shared templates, jobs/upgrades (config-agent/control-plane.ts): after the sockets they may re-bind.
    this.controlPlane = createControlPlane({
      config, allowUnknownExporters: allowsUnknownExporters(config), metricsRegistry: this.metricsRegistry, logger, udp: this.udp, pipeline: this.pipeline,
      store: this.store, spool: this.spool, readiness: () => this.readiness(), exit: (code) => void this.stop().finally(() => process.exit(code)),
    });
    this.order = [this.store, this.spool, this.pipeline, this.udp, ...this.controlPlane.components, this.http, this.registry];
  }

  async start(): Promise<void> {
    await startAll(this.order);
    this.logger.info('node started', { id: this.config.id, version: softwareVersion(), apiUrl: this.apiUrl(), listeners: this.udp.listeners() });
  }

  stop(graceMs = 10_000): Promise<void> {
    this.stopping ??= stopAll(this.order, graceMs).then(() =>
      this.logger.info('node stopped', { id: this.config.id, storedRows: this.spool.totals.deliveredRows, spooledBatches: this.spool.pendingEntries }),
    );
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
      ready: combineHealth([this.store, this.spool, this.pipeline, this.udp, this.http]).status !== 'error',
      packets: t.packets,
      flows: t.flows,
      storedRows: this.spool.totals.deliveredRows,
      decodeErrors: t.decodeErrors,
      packetsPerSecond: Math.round((t.packets - this.lastBeat.packets) / dt),
      flowsPerSecond: Math.round((t.flows - this.lastBeat.flows) / dt),
      droppedPackets: this.drops.total('packets'),
      droppedFlows: this.drops.total('flows'),
      kernelDrops: Object.values(this.udp.kernelDrops()).reduce((a, b) => a + b, 0),
      spoolBytes: this.spool.bytes,
      spoolAgeSeconds: this.spool.oldestAgeSeconds(),
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
