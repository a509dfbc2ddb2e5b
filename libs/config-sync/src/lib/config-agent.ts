import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { join } from 'node:path';
import Redis from 'ioredis';
import type { Component, Health } from '@flowmesh/common';
import { writeFileAtomic } from './atomic-file';
import { CONFIG_KEYS } from './config-keys';
import { ConfigSource, ConfigVersion, parseVersion, resolveDesired, versionSignatureProblem } from './config-version';
import { hashJson } from './desired-state/canonical-json';
import { EffectiveConfig } from './desired-state/desired-state.dto';
import { parseScope, scopeOf, specProblems } from './desired-state/validate-spec';
import { ConfigSyncConnection, createRedis } from './redis-connection';
import { toPublicKey } from './signing';

/** Why a desired state was not applied. */
export type ConfigFailureReason = 'signature' | 'invalid' | 'apply' | 'stale' | 'no-key';

/** A node's answer, stored in Redis (hash CONFIG_KEYS.acks, field = node id) and published on CONFIG_KEYS.ackEvents. */
export interface ConfigAck {
  node: string;
  group?: string;
  appliedRevision: number;
  appliedHash: string;
  desiredRevision: number;
  desiredHash: string;
  status: 'applied' | 'failed';
  reason?: ConfigFailureReason;
  /** Human-readable detail of the failure. */
  detail?: string;
  /** Epoch ms. */
  at: number;
}

export interface ApplyMeta {
  revision: number;
  hash: string;
  sources: ConfigSource[];
  /** What ran before this (null on the first apply). */
  previous: { revision: number; hash: string } | null;
  /** 'local': the persisted config re-applied at start; 'master': a new desired state. */
  origin: 'local' | 'master';
}

export interface AppliedConfig {
  revision: number;
  hash: string;
  config: EffectiveConfig;
  sources: ConfigSource[];
  /** Epoch ms when applied (by this process or, for a loaded file, originally). */
  at: number;
}

export interface ConfigAgentOptions {
  connection: ConfigSyncConnection;
  nodeId: string;
  group?: string;
  /** Where the applied config (applied-config.json) and a pinned master key (master.pub) are kept. */
  stateDir: string;
  /**
   * The master's Ed25519 public key (KeyObject or SPKI PEM). When absent the agent uses trust-on-first-use:
   * a key pinned earlier in `<stateDir>/master.pub`, else the key the master published in Redis, which is then pinned.
   */
  masterPublicKey?: KeyObject | string;
  /** Makes the node run `config`. Throw to refuse it: the node keeps its previous config and reports the reason. */
  apply: (config: EffectiveConfig, meta: ApplyMeta) => Promise<void>;
  /** Revision poll interval, the safety net for lost wake-ups (default 2000 ms). */
  pollMs?: number;
  /** A desired state that failed is tried again after this long, or on reconnect (default 30 000 ms). */
  retryFailedMs?: number;
  /** Accept a desired revision lower than the applied one (after Redis lost its data). Default false: 'stale'. */
  allowRevisionDecrease?: boolean;
}

export interface ConfigAgentStats {
  applies: number;
  acks: number;
  syncs: number;
  failures: Record<ConfigFailureReason, number>;
}

export const APPLIED_CONFIG_FILE = 'applied-config.json';
export const PINNED_KEY_FILE = 'master.pub';

/**
 * The node's side of the desired-state transport. Keeps the node on its last applied config (persisted locally)
 * while Redis or the master is away; re-reads desired state on every (re)connect, on every wake-up and on a poll;
 * verifies, validates, applies (all or nothing) and acks.
 *
 * Events: 'applied' (AppliedConfig, ApplyMeta), 'failed' ({reason, detail, revision}), 'ack' (ConfigAck),
 * 'connected', 'disconnected', 'error' is never emitted (errors are in `lastError`).
 */
export class ConfigAgent extends EventEmitter implements Component {
  readonly name = 'config-agent';
  private readonly cmd: Redis;
  private readonly sub: Redis;
  private readonly scopes: string[];
  private readonly pollMs: number;
  private readonly retryFailedMs: number;
  private timer?: NodeJS.Timeout;
  private key?: KeyObject;
  private current: AppliedConfig | null = null;
  private desired: { revision: number; hash: string } = { revision: 0, hash: '' };
  private error: { reason: ConfigFailureReason | 'local-state' | 'persist' | 'redis'; detail: string; at: number } | null = null;
  private failed: { hash: string; fingerprint: string; at: number } | null = null;
  private fingerprint = '';
  private ackAt: number | null = null;
  private syncing?: Promise<void>;
  private again = false;
  private forceNext = false;
  private stopped = false;
  readonly stats: ConfigAgentStats = { applies: 0, acks: 0, syncs: 0, failures: { signature: 0, invalid: 0, apply: 0, stale: 0, 'no-key': 0 } };

  constructor(private readonly options: ConfigAgentOptions) {
    super();
    parseScope(scopeOf.node(options.nodeId));
    if (options.group !== undefined) parseScope(scopeOf.group(options.group));
    this.scopes = [scopeOf.global, ...(options.group !== undefined ? [scopeOf.group(options.group)] : []), scopeOf.node(options.nodeId)];
    this.pollMs = options.pollMs ?? 2000;
    this.retryFailedMs = options.retryFailedMs ?? 30_000;
    if (options.masterPublicKey !== undefined) this.key = toPublicKey(options.masterPublicKey);
    this.cmd = createRedis(options.connection, `flowmesh-node-config-${options.nodeId}`);
    this.sub = createRedis(options.connection, `flowmesh-node-config-sub-${options.nodeId}`, { enableOfflineQueue: true, maxRetriesPerRequest: null });
    this.cmd.on('ready', () => {
      this.emit('connected');
      void this.requestSync(true);
    });
    this.cmd.on('close', () => this.emit('disconnected'));
    this.cmd.on('error', (e: Error) => this.noteRedisError(e));
    this.sub.on('error', (e: Error) => this.noteRedisError(e));
    this.sub.on('ready', () => void this.requestSync(true));
    this.sub.on('message', (_channel: string, message: string) => {
      try {
        const scope = (JSON.parse(message) as { scope?: string }).scope;
        if (typeof scope === 'string' && !this.scopes.includes(scope)) return;
      } catch {
        /* a malformed wake-up still wakes us */
      }
      void this.requestSync(false);
    });
  }

  /** Loads and re-applies the persisted config, then connects (never waits for Redis). */
  async start(): Promise<void> {
    this.stopped = false;
    mkdirSync(this.options.stateDir, { recursive: true });
    await this.applyPersisted();
    this.cmd.connect().catch((e: Error) => this.noteRedisError(e));
    this.sub.connect().catch((e: Error) => this.noteRedisError(e));
    this.sub.subscribe(CONFIG_KEYS.wake).catch((e: Error) => this.noteRedisError(e));
    this.timer = setInterval(() => void this.requestSync(false), this.pollMs);
    this.timer.unref();
  }

  async stop(graceMs = 5000): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.syncing) await Promise.race([this.syncing, new Promise((r) => setTimeout(r, graceMs).unref())]);
    this.cmd.disconnect();
    this.sub.disconnect();
  }

  get connected(): boolean {
    return this.cmd.status === 'ready';
  }
  get applied(): AppliedConfig | null {
    return this.current;
  }
  get appliedRevision(): number {
    return this.current?.revision ?? 0;
  }
  get appliedHash(): string {
    return this.current?.hash ?? '';
  }
  get desiredRevision(): number {
    return this.desired.revision;
  }
  /** The last failure (cleared by the next successful apply/ack), e.g. {reason: 'signature', detail: '...'}. */
  get lastError(): { reason: string; detail: string; at: number } | null {
    return this.error;
  }
  /** Epoch ms of the last ack written to Redis. */
  get lastAckAt(): number | null {
    return this.ackAt;
  }

  health(): Health {
    if (this.failed && this.error) return { status: 'warning', reason: `config revision ${this.desired.revision} refused (${this.error.reason}): ${this.error.detail}` };
    if (!this.connected) {
      return {
        status: 'warning',
        reason: this.current ? `redis unreachable; running on applied revision ${this.current.revision}` : 'redis unreachable; no configuration from the master yet',
      };
    }
    return { status: 'ok' };
  }

  /** Re-reads desired state now (also done on reconnect, wake-up and poll). Resolves when that sync is done. */
  async syncNow(): Promise<void> {
    return this.requestSync(true);
  }

  private noteRedisError(e: Error): void {
    if (!this.error || this.error.reason === 'redis') this.error = { reason: 'redis', detail: e.message, at: Date.now() };
  }

  private requestSync(force: boolean): Promise<void> {
    this.forceNext ||= force;
    if (this.syncing) {
      this.again = true;
      return this.syncing;
    }
    this.syncing = (async () => {
      do {
        this.again = false;
        const f = this.forceNext;
        this.forceNext = false;
        try {
          await this.syncOnce(f);
        } catch (e) {
          this.noteRedisError(e as Error);
        }
      } while (this.again && !this.stopped);
    })().finally(() => (this.syncing = undefined));
    return this.syncing;
  }

  private async applyPersisted(): Promise<void> {
    const file = join(this.options.stateDir, APPLIED_CONFIG_FILE);
    if (!existsSync(file)) return;
    let saved: AppliedConfig;
    try {
      saved = JSON.parse(readFileSync(file, 'utf8')) as AppliedConfig;
      const problems = specProblems(saved.config);
      if (problems.length) throw new Error(problems.join('; '));
      if (hashJson(saved.config) !== saved.hash) throw new Error('hash does not match the config');
    } catch (e) {
      this.error = { reason: 'local-state', detail: `${file}: ${(e as Error).message}`, at: Date.now() };
      return;
    }
    try {
      await this.options.apply(saved.config, { revision: saved.revision, hash: saved.hash, sources: saved.sources, previous: null, origin: 'local' });
      this.current = saved;
      this.emit('applied', saved, { origin: 'local' });
    } catch (e) {
      this.error = { reason: 'apply', detail: `persisted revision ${saved.revision}: ${(e as Error).message}`, at: Date.now() };
    }
  }

  private async trustedKey(): Promise<KeyObject | null> {
    if (this.key) return this.key;
    const file = join(this.options.stateDir, PINNED_KEY_FILE);
    if (existsSync(file)) {
      this.key = toPublicKey(readFileSync(file, 'utf8'));
      return this.key;
    }
    const pem = await this.cmd.get(CONFIG_KEYS.publicKey);
    if (!pem) return null;
    const key = toPublicKey(pem);
    writeFileAtomic(file, pem);
    this.key = key;
    return key;
  }

  private async syncOnce(force: boolean): Promise<void> {
    if (this.stopped || this.cmd.status !== 'ready') return;
    this.stats.syncs++;
    const fingerprint = (await this.cmd.hmget(CONFIG_KEYS.headRevisions, ...this.scopes)).join('|');
    const retryDue = this.failed !== null && Date.now() - this.failed.at >= this.retryFailedMs;
    if (!force && !retryDue && fingerprint === this.fingerprint) return;
    const raw = await this.cmd.hmget(CONFIG_KEYS.heads, ...this.scopes);
    const records = raw.map(parseVersion);
    const [global, group, node] =
      this.scopes.length === 3 ? records : [records[0], null, records[1]];
    const present = records.filter((r): r is ConfigVersion => r !== null);
    const desiredRevision = present.length ? Math.max(...present.map((r) => (Number.isInteger(r.revision) ? r.revision : 0))) : 0;

    if (present.length === 0) {
      this.desired = { revision: 0, hash: '' };
      this.fingerprint = fingerprint;
      this.failed = null;
      await this.ack('applied');
      return;
    }
    const key = await this.trustedKey();
    if (!key) return this.fail(fingerprint, desiredRevision, '', 'no-key', 'the master public key is neither configured, pinned, nor in Redis');
    for (let i = 0; i < this.scopes.length; i++) {
      const r = records[i];
      if (raw[i] && !r) return this.fail(fingerprint, desiredRevision, '', 'invalid', `${this.scopes[i]}: unreadable version record`);
      if (!r) continue;
      if (r.scope !== this.scopes[i]) return this.fail(fingerprint, desiredRevision, '', 'signature', `${this.scopes[i]}: holds a version signed for ${r.scope}`);
      const problem = versionSignatureProblem(r, key);
      if (problem) return this.fail(fingerprint, desiredRevision, '', 'signature', problem);
    }
    // Each value of the merge comes verbatim from a signed source, so validating the merge checks every value that
    // takes effect (validating each source too would double the CPU for nothing but tombstones).
    for (const r of present) {
      if (typeof r.spec !== 'object' || r.spec === null || Array.isArray(r.spec)) {
        return this.fail(fingerprint, desiredRevision, '', 'invalid', `${r.scope} version ${r.version}: spec is not an object`);
      }
    }
    const desired = resolveDesired(global, group, node);
    const problems = specProblems(desired.config);
    if (problems.length) return this.fail(fingerprint, desired.revision, desired.hash, 'invalid', `effective config: ${problems.join('; ')}`);
    this.desired = { revision: desired.revision, hash: desired.hash };

    if (this.current && desired.revision < this.current.revision && !this.options.allowRevisionDecrease) {
      return this.fail(fingerprint, desired.revision, desired.hash, 'stale', `desired revision ${desired.revision} is older than applied revision ${this.current.revision}`);
    }
    if (this.current && this.current.hash === desired.hash) {
      if (this.current.revision !== desired.revision) {
        this.current = { ...this.current, revision: desired.revision, sources: desired.sources };
        this.persist();
      }
    } else {
      if (!force && this.failed && this.failed.hash === desired.hash && !retryDue) {
        this.fingerprint = fingerprint;
        return;
      }
      const previous = this.current ? { revision: this.current.revision, hash: this.current.hash } : null;
      const meta: ApplyMeta = { revision: desired.revision, hash: desired.hash, sources: desired.sources, previous, origin: 'master' };
      try {
        await this.options.apply(desired.config, meta);
      } catch (e) {
        return this.fail(fingerprint, desired.revision, desired.hash, 'apply', (e as Error)?.message ?? String(e));
      }
      this.stats.applies++;
      this.current = { revision: desired.revision, hash: desired.hash, config: desired.config, sources: desired.sources, at: Date.now() };
      this.persist();
      this.emit('applied', this.current, meta);
    }
    this.fingerprint = fingerprint;
    this.failed = null;
    if (this.error && this.error.reason !== 'persist') this.error = null;
    await this.ack('applied');
  }

  private persist(): void {
    try {
      writeFileAtomic(join(this.options.stateDir, APPLIED_CONFIG_FILE), JSON.stringify(this.current));
    } catch (e) {
      this.error = { reason: 'persist', detail: (e as Error).message, at: Date.now() };
    }
  }

  private async fail(fingerprint: string, revision: number, hash: string, reason: ConfigFailureReason, detail: string): Promise<void> {
    this.stats.failures[reason]++;
    this.desired = { revision, hash };
    this.fingerprint = fingerprint;
    this.failed = { hash, fingerprint, at: Date.now() };
    this.error = { reason, detail, at: Date.now() };
    this.emit('failed', { reason, detail, revision });
    await this.ack('failed', reason, detail);
  }

  private async ack(status: 'applied' | 'failed', reason?: ConfigFailureReason, detail?: string): Promise<void> {
    const ack: ConfigAck = {
      node: this.options.nodeId,
      ...(this.options.group !== undefined ? { group: this.options.group } : {}),
      appliedRevision: this.current?.revision ?? 0,
      appliedHash: this.current?.hash ?? '',
      desiredRevision: this.desired.revision,
      desiredHash: this.desired.hash,
      status,
      ...(reason ? { reason, detail } : {}),
      at: Date.now(),
    };
    const text = JSON.stringify(ack);
    await this.cmd.multi().hset(CONFIG_KEYS.acks, this.options.nodeId, text).publish(CONFIG_KEYS.ackEvents, text).exec();
    this.stats.acks++;
    this.ackAt = ack.at;
    this.emit('ack', ack);
  }
}
