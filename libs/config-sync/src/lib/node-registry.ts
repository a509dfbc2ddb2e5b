import Redis, { RedisOptions } from 'ioredis';
import { NodeHeartbeat, NodeInfo, NodeView } from './node-registry.dto';
import { REDIS_KEYS, RegistryEvent } from './redis-keys';

export interface RegistryConnectionOptions {
  redisUrl: string;
  /** Extra ioredis options (password/ACL user may also be in the URL). */
  redis?: RedisOptions;
}

function connect(o: RegistryConnectionOptions, name: string): Redis {
  return new Redis(o.redisUrl, {
    connectionName: name,
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    retryStrategy: (times) => Math.min(200 * times, 2000),
    ...o.redis,
  });
}

/**
 * A node's side of the registry: registers on every (re)connect and heartbeats while connected.
 * Redis being away never stops the node: `connected` says so, and it re-registers when Redis returns.
 */
export class NodeRegistryPublisher {
  private readonly redis: Redis;
  private timer?: NodeJS.Timeout;
  private registered = false;
  lastError?: string;

  constructor(
    private readonly conn: RegistryConnectionOptions,
    private readonly info: NodeInfo,
    private readonly heartbeat: () => NodeHeartbeat,
    private readonly intervalMs = 2000,
  ) {
    this.redis = connect(conn, `flowmesh-node-${info.id}`);
    this.redis.on('ready', () => void this.register());
    this.redis.on('error', (e: Error) => (this.lastError = e.message));
    this.redis.on('close', () => (this.registered = false));
  }

  get connected(): boolean {
    return this.redis.status === 'ready' && this.registered;
  }

  async start(): Promise<void> {
    this.redis.connect().catch((e: Error) => (this.lastError = e.message));
    this.timer = setInterval(() => void this.beat(), this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.redis.status === 'ready') {
      await this.beat().catch(() => undefined);
    }
    this.redis.disconnect();
  }

  private async register(): Promise<void> {
    try {
      const event: RegistryEvent = { type: 'node-registered', id: this.info.id, at: Date.now() };
      await this.redis
        .multi()
        .sadd(REDIS_KEYS.nodes, this.info.id)
        .hset(REDIS_KEYS.node(this.info.id), 'info', JSON.stringify(this.info), 'heartbeat', JSON.stringify(this.heartbeat()))
        .publish(REDIS_KEYS.events, JSON.stringify(event))
        .exec();
      this.registered = true;
      this.lastError = undefined;
    } catch (e) {
      this.lastError = (e as Error).message;
    }
  }

  private async beat(): Promise<void> {
    if (this.redis.status !== 'ready') return;
    if (!this.registered) return this.register();
    try {
      await this.redis.hset(REDIS_KEYS.node(this.info.id), 'heartbeat', JSON.stringify(this.heartbeat()));
    } catch (e) {
      this.lastError = (e as Error).message;
    }
  }
}

/** The master's side: reads the registry and judges each node up or down by its heartbeat's age. */
export class NodeRegistryReader {
  private readonly redis: Redis;

  constructor(
    conn: RegistryConnectionOptions,
    private readonly downAfterMs = 6000,
  ) {
    this.redis = connect(conn, 'flowmesh-master-registry');
  }

  get connected(): boolean {
    return this.redis.status === 'ready';
  }

  async start(): Promise<void> {
    await this.redis.connect().catch(() => undefined);
  }

  async stop(): Promise<void> {
    this.redis.disconnect();
  }

  async list(now = Date.now()): Promise<NodeView[]> {
    const ids = (await this.redis.smembers(REDIS_KEYS.nodes)).sort();
    if (!ids.length) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hmget(REDIS_KEYS.node(id), 'info', 'heartbeat');
    const rows = (await pipeline.exec()) ?? [];
    const views: NodeView[] = [];
    for (const [err, value] of rows) {
      if (err || !Array.isArray(value) || !value[0]) continue;
      const info = JSON.parse(value[0] as string) as NodeInfo;
      const hb = value[1] ? (JSON.parse(value[1] as string) as NodeHeartbeat) : null;
      const up = hb !== null && now - hb.at <= this.downAfterMs;
      views.push({ ...info, status: up ? 'up' : 'down', lastHeartbeat: hb ? new Date(hb.at).toISOString() : null, heartbeat: hb });
    }
    return views;
  }

  /** Forgets a node (it registers again on its next reconnect). */
  async remove(id: string): Promise<void> {
    await this.redis.multi().srem(REDIS_KEYS.nodes, id).del(REDIS_KEYS.node(id)).exec();
  }
}
