import { Component, Health, Logger } from '@flowmesh/common';
import { ConfigSyncConnection, TemplateShare } from '@flowmesh/config-sync';
import type { TemplateState } from '@flowmesh/flow-decoder';
import { ConfigAgentMetrics } from './config-agent.metrics';

/**
 * What template sharing needs from the decode pipeline (which owns the decoders, possibly in worker threads).
 * The pipeline implements it; until it does, sharing is off and health() says why.
 */
export interface PipelineTemplateHooks {
  /** Every template the decoders hold (all workers merged). */
  exportTemplates(): TemplateState;
  /** Loads a snapshot (from exportTemplates() of any node) into the decoder(s) its exporters are pinned to. */
  importTemplates(state: TemplateState): void | Promise<void>;
  /** Calls `fn` when a decoder learnt or changed templates (after the worker reported them). */
  onTemplatesChanged(fn: () => void): void;
  /** Calls `fn(address)` on the first datagram from an exporter this process has not seen yet. */
  onNewExporter(fn: (exporter: string) => void): void;
}

export function hasTemplateHooks(p: unknown): p is PipelineTemplateHooks {
  const x = p as Partial<PipelineTemplateHooks> | null;
  return !!x && typeof x.exportTemplates === 'function' && typeof x.importTemplates === 'function' && typeof x.onTemplatesChanged === 'function' && typeof x.onNewExporter === 'function';
}

export interface TemplateSyncOptions {
  nodeId: string;
  connection: ConfigSyncConnection;
  publishDebounceMs: number;
  /** Exporters whose shared templates are imported at start (most recently updated first). */
  importAtStart?: number;
}

/**
 * Shares this node's decoder templates through Redis and imports other nodes': published (debounced) when a
 * decoder learnt templates — only for exporters this node receives itself; imported at start, on another node's
 * publish for an exporter this node does not receive (so it is ready before a failover), and on the first
 * datagram of an exporter (wake-ups are lossy). An exporter that moves to this node therefore decodes at once.
 */
export class TemplateSyncComponent implements Component {
  readonly name = 'templates';
  readonly share: TemplateShare;
  private readonly local = new Set<string>();
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private publishing?: Promise<void>;
  private imports = 0;

  constructor(
    private readonly o: TemplateSyncOptions,
    private readonly pipeline: PipelineTemplateHooks | null,
    private readonly metrics: ConfigAgentMetrics,
    private readonly logger: Logger,
  ) {
    this.share = new TemplateShare({ connection: o.connection, nodeId: o.nodeId });
  }

  async start(): Promise<void> {
    this.stopped = false;
    const p = this.pipeline;
    if (!p) {
      this.logger.warn('template sharing off: the decode pipeline exposes no template hooks');
      return;
    }
    p.onTemplatesChanged(() => this.schedulePublish());
    p.onNewExporter((exporter) => {
      if (this.local.size < 100_000) this.local.add(exporter);
      // An exporter whose templates the decoders already hold (e.g. after an exporter-rule change) needs none.
      if (!p.exportTemplates().domains.some((d) => d.exporter === exporter)) void this.importFor(exporter, 'first_sight');
    });
    this.share.on('update', ({ exporter }: { exporter: string }) => {
      if (!this.local.has(exporter)) void this.importFor(exporter, 'update');
    });
    await this.share.start();
    void this.importAll();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.publishing?.catch(() => undefined);
    await this.share.stop();
  }

  /** Never degrades readiness: sharing is an optimisation (Redis being away is reported by the registry). */
  health(): Health {
    const detail = {
      status: 'ok' as const,
      sharing: this.pipeline ? (this.share.connected ? 'on' : 'redis unreachable') : 'off: the decode pipeline has no template hooks',
      published: this.share.stats.published,
      imports: this.imports,
    };
    return detail;
  }

  /** Publishes now (tests, flush job). */
  async publishNow(): Promise<void> {
    if (!this.pipeline) return;
    const all = this.pipeline.exportTemplates();
    const mine = { ...all, domains: all.domains.filter((d) => this.local.has(d.exporter)) };
    const counts = await this.share.publishSnapshot(mine);
    if (counts.stored) this.metrics.templatesPublished.inc(counts.stored);
  }

  private schedulePublish(): void {
    if (this.timer || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.publishing = this.publishNow().catch((e: Error) => this.logger.warn('template publish failed', { error: e.message }));
    }, this.o.publishDebounceMs);
    this.timer.unref();
  }

  private async importFor(exporter: string, trigger: 'first_sight' | 'update' | 'start'): Promise<void> {
    if (!this.pipeline || this.stopped) return;
    try {
      const entries = (await this.share.get(exporter)).filter((e) => e.node !== this.o.nodeId);
      if (!entries.length) return;
      await this.pipeline.importTemplates({ version: 1, domains: entries.map((e) => e.state) as TemplateState['domains'] });
      this.imports++;
      this.metrics.templatesImported.inc({ trigger });
    } catch (e) {
      this.logger.warn('template import failed', { exporter, error: (e as Error).message });
    }
  }

  private async importAll(): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!this.share.connected && !this.stopped && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const list = (await this.share.exporters()).slice(0, this.o.importAtStart ?? 1000);
    for (const exporter of list) if (!this.local.has(exporter)) await this.importFor(exporter, 'start');
  }
}
