import { EventEmitter } from 'node:events';
import Redis from 'ioredis';
import type { Component, Health } from '@flowmesh/common';
import { TEMPLATE_KEYS } from './config-keys';
import { hashJson } from './desired-state/canonical-json';
import { ConfigSyncConnection, createRedis } from './redis-connection';

/** One exporter's template state for one domain, as stored in Redis. */
export interface TemplateEntry {
  exporter: string;
  /** Free text chosen by the publisher, e.g. 'ipfix:0' (protocol:observation domain). */
  domain: string;
  /** Node that published it. */
  node: string;
  /** Epoch ms of the publish. */
  at: number;
  /** Opaque JSON (e.g. one element of the decoder's exportTemplates().domains). */
  state: unknown;
}

export type TemplatePublishOutcome = 'stored' | 'unchanged' | 'too_large' | 'too_many_domains' | 'too_many_exporters' | 'bad_key' | 'unavailable';

/** Structural shape of the decoder's TemplateState (kept structural: this lib does not import the decoder). */
export interface TemplateSnapshotLike {
  domains: { exporter: string; protocol: string; observation_domain: number }[];
}

export interface TemplateShareOptions {
  connection: ConfigSyncConnection;
  nodeId: string;
  /** Largest JSON of one entry's state (default 256 KiB); larger ones are refused ('too_large'). */
  maxEntryBytes?: number;
  /** Most domains kept per exporter (default 64); a new domain beyond it is refused. */
  maxDomainsPerExporter?: number;
  /** Most exporters kept (default 10 000); a new exporter beyond it is refused. */
  maxExporters?: number;
  /** An exporter's entries expire this long after its last publish (default 7 days). */
  ttlSeconds?: number;
}

// Bounds are enforced in Redis, atomically, so concurrent publishers cannot overshoot them.
const PUBLISH_SCRIPT = `
local now = tonumber(ARGV[5])
local ttl = tonumber(ARGV[6])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - ttl * 1000)
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then
  if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then return 'too_many_domains' end
  if not redis.call('ZSCORE', KEYS[2], ARGV[9]) and redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[4]) then return 'too_many_exporters' end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], ttl)
redis.call('ZADD', KEYS[2], now, ARGV[9])
redis.call('PUBLISH', ARGV[7], ARGV[8])
return 'stored'
`;

/**
 * Template state learnt by any node, shared through Redis so that a node receiving an exporter for the first
 * time (failover, anycast) can decode its data at once. Stored as one hash per exporter (field = domain), bounded
 * in entry size, domains per exporter and exporters, expiring when no longer refreshed.
 *
 * Events: 'update' ({exporter, domain, node}) when ANOTHER node published (pub/sub: lossy, so also call get()
 * for an exporter you have no templates for).
 */
export class TemplateShare extends EventEmitter implements Component {
  readonly name = 'template-share';
  private readonly cmd: Redis;
  private readonly sub: Redis;
  private readonly maxEntryBytes: number;
  private readonly maxDomains: number;
  private readonly maxExporters: number;
  private readonly ttlSeconds: number;
  private readonly lastPublished = new Map<string, { hash: string; at: number }>();
  readonly stats: { published: number; fetched: number; updates: number; refused: Partial<Record<TemplatePublishOutcome, number>> } = {
    published: 0, fetched: 0, updates: 0, refused: {},
  };

  constructor(private readonly options: TemplateShareOptions) {
    super();
    this.maxEntryBytes = options.maxEntryBytes ?? 256 * 1024;
    this.maxDomains = options.maxDomainsPerExporter ?? 64;
    this.maxExporters = options.maxExporters ?? 10_000;
    this.ttlSeconds = options.ttlSeconds ?? 7 * 86400;
    this.cmd = createRedis(options.connection, `flowmesh-templates-${options.nodeId}`);
    this.sub = createRedis(options.connection, `flowmesh-templates-sub-${options.nodeId}`, { enableOfflineQueue: true, maxRetriesPerRequest: null });
    this.cmd.on('error', () => undefined);
    this.sub.on('error', () => undefined);
    this.sub.on('message', (_c: string, message: string) => {
      try {
        const m = JSON.parse(message) as { exporter: string; domain: string; node: string };
        if (m.node === this.options.nodeId || typeof m.exporter !== 'string') return;
        this.stats.updates++;
        this.emit('update', m);
      } catch {
        /* ignore malformed */
      }
    });
  }

  get connected(): boolean {
    return this.cmd.status === 'ready';
  }

  async start(): Promise<void> {
    this.cmd.connect().catch(() => undefined);
    this.sub.connect().catch(() => undefined);
    this.sub.subscribe(TEMPLATE_KEYS.wake).catch(() => undefined);
  }

  async stop(): Promise<void> {
    this.cmd.disconnect();
    this.sub.disconnect();
  }

  health(): Health {
    return this.connected ? { status: 'ok' } : { status: 'warning', reason: 'redis unreachable; templates are not shared' };
  }

  /** Stores one (exporter, domain) state unless it equals what this node published last (within half the TTL). Never throws. */
  async publish(exporter: string, domain: string, state: unknown): Promise<TemplatePublishOutcome> {
    const outcome = await this.publishOne(exporter, domain, state);
    if (outcome === 'stored') this.stats.published++;
    else if (outcome !== 'unchanged') this.stats.refused[outcome] = (this.stats.refused[outcome] ?? 0) + 1;
    return outcome;
  }

  /** Publishes every domain of a decoder snapshot (exportTemplates()) under domain '<protocol>:<observation_domain>'. */
  async publishSnapshot(snapshot: TemplateSnapshotLike): Promise<Partial<Record<TemplatePublishOutcome, number>>> {
    const counts: Partial<Record<TemplatePublishOutcome, number>> = {};
    const domains = Array.isArray(snapshot?.domains) ? snapshot.domains : [];
    for (const d of domains) {
      const o = await this.publish(String(d?.exporter), `${d?.protocol}:${d?.observation_domain}`, d);
      counts[o] = (counts[o] ?? 0) + 1;
    }
    return counts;
  }

  /** Every domain stored for an exporter ([] if none or Redis is unreachable). */
  async get(exporter: string): Promise<TemplateEntry[]> {
    if (!this.validKey(exporter) || !this.connected) return [];
    try {
      const all = await this.cmd.hgetall(TEMPLATE_KEYS.exporter(exporter));
      this.stats.fetched++;
      const out: TemplateEntry[] = [];
      for (const text of Object.values(all)) {
        try {
          out.push(JSON.parse(text) as TemplateEntry);
        } catch {
          /* skip unreadable entry */
        }
      }
      return out.sort((a, b) => (a.domain < b.domain ? -1 : a.domain > b.domain ? 1 : 0));
    } catch {
      return [];
    }
  }

  /** The exporter's entries reassembled as a decoder snapshot: {version: 1, domains: [state...]}. */
  async getSnapshot(exporter: string): Promise<{ version: 1; domains: unknown[] }> {
    return { version: 1, domains: (await this.get(exporter)).map((e) => e.state) };
  }

  /** Exporters with shared state, most recently updated first. */
  async exporters(): Promise<string[]> {
    if (!this.connected) return [];
    return (await this.cmd.zrevrange(TEMPLATE_KEYS.exporters, 0, -1)).filter(Boolean);
  }

  private validKey(s: unknown): s is string {
    return typeof s === 'string' && s.length > 0 && s.length <= 128;
  }

  private async publishOne(exporter: string, domain: string, state: unknown): Promise<TemplatePublishOutcome> {
    if (!this.validKey(exporter) || !this.validKey(domain)) return 'bad_key';
    let stateText: string;
    try {
      stateText = JSON.stringify(state);
    } catch {
      return 'too_large';
    }
    if (stateText === undefined) return 'bad_key';
    if (Buffer.byteLength(stateText) > this.maxEntryBytes) return 'too_large';
    const id = `${exporter}\u0000${domain}`;
    const hash = hashJson(state);
    const now = Date.now();
    const last = this.lastPublished.get(id);
    if (last && last.hash === hash && now - last.at < (this.ttlSeconds * 1000) / 2) return 'unchanged';
    if (!this.connected) return 'unavailable';
    const entry: TemplateEntry = { exporter, domain, node: this.options.nodeId, at: now, state };
    try {
      const res = (await this.cmd.eval(
        PUBLISH_SCRIPT, 2, TEMPLATE_KEYS.exporter(exporter), TEMPLATE_KEYS.exporters,
        domain, JSON.stringify(entry), String(this.maxDomains), String(this.maxExporters), String(now), String(this.ttlSeconds),
        TEMPLATE_KEYS.wake, JSON.stringify({ exporter, domain, node: this.options.nodeId }), exporter,
      )) as TemplatePublishOutcome;
      if (res === 'stored') {
        if (this.lastPublished.size >= 100_000) this.lastPublished.clear();
        this.lastPublished.set(id, { hash, at: now });
      }
      return res;
    } catch {
      return 'unavailable';
    }
  }
}
