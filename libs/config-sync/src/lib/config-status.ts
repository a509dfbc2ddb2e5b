import Redis from 'ioredis';
import { CONFIG_KEYS } from './config-keys';
import type { ConfigAck, ConfigFailureReason } from './config-agent';
import { parseVersion, resolveDesired } from './config-version';
import { REDIS_KEYS } from './redis-keys';
import type { NodeInfo } from './node-registry.dto';
import { scopeOf } from './desired-state/validate-spec';
import { ConfigSyncConnection, createRedis } from './redis-connection';

/** One node's desired vs applied configuration, as the master shows it. */
export interface NodeConfigStatus {
  node: string;
  group: string | null;
  desiredRevision: number;
  desiredHash: string;
  appliedRevision: number;
  appliedHash: string;
  /** True when the applied revision or hash differs from the desired one (or the node never acked). */
  drift: boolean;
  /** 'unknown': the node is registered but never acked. */
  status: 'applied' | 'failed' | 'unknown';
  reason: ConfigFailureReason | null;
  detail: string | null;
  /** ISO 8601 time of the last ack, null if none. */
  lastAck: string | null;
}

/**
 * The master's view of config convergence: for every node that acked or registered, the desired state computed
 * from the current scope documents (same merge as the node) against what the node last acked.
 */
export class ConfigStatusReader {
  private readonly redis: Redis;

  constructor(conn: ConfigSyncConnection) {
    this.redis = createRedis(conn, 'flowmesh-master-config-status');
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

  async list(): Promise<NodeConfigStatus[]> {
    const [[, acksRaw], [, headsRaw], [, registered]] = (await this.redis
      .multi()
      .hgetall(CONFIG_KEYS.acks)
      .hgetall(CONFIG_KEYS.heads)
      .smembers(REDIS_KEYS.nodes)
      .exec()) as [[Error | null, Record<string, string>], [Error | null, Record<string, string>], [Error | null, string[]]];
    const acks = new Map<string, ConfigAck>();
    for (const [id, text] of Object.entries(acksRaw ?? {})) {
      try {
        acks.set(id, JSON.parse(text) as ConfigAck);
      } catch {
        /* unreadable ack: shown as never acked */
      }
    }
    const ids = [...new Set([...acks.keys(), ...(registered ?? [])])].sort();
    const groups = new Map<string, string | null>();
    const needInfo = ids.filter((id) => !acks.has(id));
    if (needInfo.length) {
      const p = this.redis.pipeline();
      for (const id of needInfo) p.hget(REDIS_KEYS.node(id), 'info');
      const rows = (await p.exec()) ?? [];
      needInfo.forEach((id, i) => {
        try {
          groups.set(id, (JSON.parse(rows[i]?.[1] as string) as NodeInfo).group ?? null);
        } catch {
          groups.set(id, null);
        }
      });
    }
    const heads = headsRaw ?? {};
    return ids.map((id) => {
      const ack = acks.get(id);
      const group = ack ? (ack.group ?? null) : (groups.get(id) ?? null);
      const desired = resolveDesired(
        parseVersion(heads[scopeOf.global]),
        group !== null ? parseVersion(heads[scopeOf.group(group)]) : null,
        parseVersion(heads[scopeOf.node(id)]),
      );
      const appliedRevision = ack?.appliedRevision ?? 0;
      const appliedHash = ack?.appliedHash ?? '';
      return {
        node: id,
        group,
        desiredRevision: desired.revision,
        desiredHash: desired.hash,
        appliedRevision,
        appliedHash,
        drift: !ack || appliedRevision !== desired.revision || appliedHash !== desired.hash,
        status: ack ? ack.status : 'unknown',
        reason: ack?.reason ?? null,
        detail: ack?.detail ?? null,
        lastAck: ack ? new Date(ack.at).toISOString() : null,
      };
    });
  }

  async get(nodeId: string): Promise<NodeConfigStatus | null> {
    return (await this.list()).find((s) => s.node === nodeId) ?? null;
  }

  /** Forgets a node's ack (e.g. after the node was removed from the registry). */
  async forget(nodeId: string): Promise<void> {
    await this.redis.hdel(CONFIG_KEYS.acks, nodeId);
  }
}
