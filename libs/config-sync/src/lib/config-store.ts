import Redis from 'ioredis';
import { ConfigError } from '@flowmesh/common';
import { CONFIG_KEYS } from './config-keys';
import {
  ConfigVersion, ConfigVersionSummary, DesiredState, parseVersion, resolveDesired, signVersion, summarize,
} from './config-version';
import { ConfigDiff, diffJson, hashJson } from './desired-state/canonical-json';
import { ConfigSpec, KEYED_SECTIONS, KeyedSection } from './desired-state/desired-state.dto';
import { parseScope, scopeOf, validateSpec } from './desired-state/validate-spec';
import { ConfigSyncConnection, createRedis } from './redis-connection';
import { publicKeyPem, SigningKeyPair } from './signing';

export class ConfigNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigNotFoundError';
  }
}

/** `expectedVersion` did not match the scope's latest version (someone else changed it first). */
export class ConfigConflictError extends Error {
  constructor(
    readonly scope: string,
    readonly expectedVersion: number,
    readonly actualVersion: number,
  ) {
    super(`${scope} is at version ${actualVersion}, not ${expectedVersion}`);
    this.name = 'ConfigConflictError';
  }
}

export interface PutOptions {
  author: string;
  comment?: string;
  /** Validate and report what would be stored, without storing or publishing anything. */
  dryRun?: boolean;
  /** Optimistic locking: refuse with ConfigConflictError unless the scope is at this version (0 = does not exist). */
  expectedVersion?: number;
}

export interface PutResult {
  scope: string;
  /** The new version (for a dry run: the version it would get if stored now). */
  version: number;
  revision: number;
  hash: string;
  dryRun: boolean;
  /** From the previous latest version (or from an empty document) to this one. */
  diff: ConfigDiff;
}

export interface ConfigStoreOptions {
  /** Attempts when concurrent writers race for the same version/revision (default 100). */
  maxAttempts?: number;
}

// Stores version n+1 only if the scope still has n versions and the cluster still at revision r: two writers can never
// both become n+1; the loser re-reads and retries. The record is signed before it gets here.
const PUT_SCRIPT = `
local cur = redis.call('HLEN', KEYS[3])
local rev = tonumber(redis.call('GET', KEYS[4]) or '0')
if cur ~= tonumber(ARGV[2]) or rev ~= tonumber(ARGV[3]) then return {0, cur, rev} end
redis.call('HSET', KEYS[3], ARGV[5], ARGV[4])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[4])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[5] .. ':' .. ARGV[6])
redis.call('SET', KEYS[4], ARGV[6])
redis.call('PUBLISH', ARGV[7], ARGV[8])
return {1, cur, rev}
`;

const SCOPE_ORDER = { global: 0, group: 1, node: 2 } as const;

/**
 * The master's versioned desired-state store in Redis. Every put validates the document, signs it with the
 * master's Ed25519 key and appends it as the scope's next version (old versions are never changed), bumps the
 * cluster-wide revision and publishes a wake-up for the nodes.
 */
export class ConfigStore {
  private readonly redis: Redis;
  private readonly maxAttempts: number;
  lastError?: string;

  constructor(
    conn: ConfigSyncConnection,
    private readonly keys: SigningKeyPair,
    options: ConfigStoreOptions = {},
  ) {
    this.redis = createRedis(conn, 'flowmesh-master-config');
    this.redis.on('error', (e: Error) => (this.lastError = e.message));
    this.redis.on('ready', () => void this.publishKey());
    this.maxAttempts = options.maxAttempts ?? 100;
  }

  get connected(): boolean {
    return this.redis.status === 'ready';
  }

  /** Connects (does not fail when Redis is down: operations then reject until it is back). */
  async start(): Promise<void> {
    await this.redis.connect().catch((e: Error) => (this.lastError = e.message));
  }

  async stop(): Promise<void> {
    this.redis.disconnect();
  }

  /** The cluster-wide revision (0 before the first put). */
  async revision(): Promise<number> {
    return Number((await this.redis.get(CONFIG_KEYS.revision)) ?? 0);
  }

  /** Validates and stores `spec` as the scope's next version. Throws ConfigError (every problem named by path). */
  async put(scope: string, spec: unknown, options: PutOptions): Promise<PutResult> {
    return this.write(scope, () => spec, options);
  }

  /**
   * Read-modify-write of a scope's latest document: `change` gets the current spec ({} if none) and returns the
   * next; retried with the fresh document when another writer got there first.
   */
  async update(scope: string, change: (current: ConfigSpec, head: ConfigVersion | null) => unknown, options: PutOptions): Promise<PutResult> {
    return this.write(scope, change, options);
  }

  /**
   * Adds/replaces (`upsert`, matched by the section's key) or removes (`delete`) one item of a keyed section in this
   * scope's document. `delete` takes the key (or an item carrying it) and removes the item from THIS scope only;
   * to hide an item inherited from a wider scope, upsert `{<key>, deleted: true}` instead.
   */
  async patchSection(scope: string, section: KeyedSection, op: 'upsert' | 'delete', item: unknown, options: PutOptions): Promise<PutResult> {
    const keyField = KEYED_SECTIONS[section];
    if (!keyField) throw new ConfigError([`section: must be one of ${Object.keys(KEYED_SECTIONS).join(', ')} (got ${JSON.stringify(section)})`]);
    const key = typeof item === 'string' ? item : typeof item === 'object' && item !== null ? (item as Record<string, unknown>)[keyField] : undefined;
    if (typeof key !== 'string') throw new ConfigError([`${section}.${keyField}: required to identify the item (got ${JSON.stringify(key)})`]);
    if (op !== 'upsert' && op !== 'delete') throw new ConfigError([`op: must be upsert or delete (got ${JSON.stringify(op)})`]);
    return this.write(
      scope,
      (current) => {
        const list = ((current[section] as unknown[] | undefined) ?? []).slice() as Record<string, unknown>[];
        const i = list.findIndex((x) => x[keyField] === key);
        if (op === 'delete') {
          if (i < 0) throw new ConfigNotFoundError(`${scope}: ${section} has no item with ${keyField} ${JSON.stringify(key)}`);
          list.splice(i, 1);
        } else if (typeof item !== 'object' || item === null) {
          throw new ConfigError([`${section}: upsert needs the whole item (got ${JSON.stringify(item)})`]);
        } else if (i >= 0) list[i] = item as Record<string, unknown>;
        else list.push(item as Record<string, unknown>);
        const next: Record<string, unknown> = { ...current, [section]: list };
        if (!list.length) delete next[section];
        return next;
      },
      options,
    );
  }

  /** Stores an old version's document again, as a new version. */
  async rollback(scope: string, version: number, options: Omit<PutOptions, 'dryRun'> & { dryRun?: boolean }): Promise<PutResult> {
    const old = await this.get(scope, version);
    if (!old) throw new ConfigNotFoundError(`${scope} has no version ${version}`);
    return this.put(scope, old.spec, { ...options, comment: options.comment ?? `rollback to version ${version}` });
  }

  /** The latest version, or the given one; null if it does not exist. */
  async get(scope: string, version?: number): Promise<ConfigVersion | null> {
    parseScope(scope);
    if (version === undefined) return parseVersion(await this.redis.hget(CONFIG_KEYS.heads, scope));
    return parseVersion(await this.redis.hget(CONFIG_KEYS.versions(scope), String(version)));
  }

  /** Every version of a scope, oldest first, without the documents. */
  async history(scope: string): Promise<ConfigVersionSummary[]> {
    parseScope(scope);
    const all = await this.redis.hvals(CONFIG_KEYS.versions(scope));
    return all
      .map(parseVersion)
      .filter((v): v is ConfigVersion => v !== null)
      .sort((a, b) => a.version - b.version)
      .map(summarize);
  }

  /** Structured difference between two versions of a scope (version 0 = the empty document). */
  async diff(scope: string, a: number, b: number): Promise<ConfigDiff> {
    const load = async (v: number): Promise<ConfigSpec> => {
      if (v === 0) return {};
      const found = await this.get(scope, v);
      if (!found) throw new ConfigNotFoundError(`${scope} has no version ${v}`);
      return found.spec;
    };
    return diffJson(await load(a), await load(b));
  }

  /** Scopes that have at least one version: global, then groups, then nodes. */
  async scopes(): Promise<string[]> {
    const names = await this.redis.hkeys(CONFIG_KEYS.heads);
    const rank = (s: string): number => SCOPE_ORDER[parseScope(s).kind];
    return names.sort((x, y) => rank(x) - rank(y) || (x < y ? -1 : x > y ? 1 : 0));
  }

  /** What a node in `group` should run now (the same computation the node's agent makes). */
  async desiredFor(nodeId: string, group?: string): Promise<DesiredState> {
    parseScope(scopeOf.node(nodeId));
    if (group !== undefined) parseScope(scopeOf.group(group));
    const [g, n, gr] = await this.redis.hmget(CONFIG_KEYS.heads, scopeOf.global, scopeOf.node(nodeId), ...(group !== undefined ? [scopeOf.group(group)] : []));
    return resolveDesired(parseVersion(g), parseVersion(gr), parseVersion(n));
  }

  private async publishKey(): Promise<void> {
    try {
      await this.redis.set(CONFIG_KEYS.publicKey, publicKeyPem(this.keys.publicKey));
    } catch (e) {
      this.lastError = (e as Error).message;
    }
  }

  private async write(scope: string, change: (current: ConfigSpec, head: ConfigVersion | null) => unknown, options: PutOptions): Promise<PutResult> {
    parseScope(scope);
    if (typeof options?.author !== 'string' || !options.author.trim() || options.author.length > 128) {
      throw new ConfigError([`author: must be a non-empty string of at most 128 chars (got ${JSON.stringify(options?.author)})`]);
    }
    const comment = options.comment ?? '';
    if (typeof comment !== 'string' || comment.length > 1024) throw new ConfigError([`comment: must be a string of at most 1024 chars`]);
    for (let attempt = 1; ; attempt++) {
      // The number of stored versions is the scope's version (versions are only ever added).
      const [[, count], [, revText]] = (await this.redis.multi().hlen(CONFIG_KEYS.versions(scope)).get(CONFIG_KEYS.revision).exec()) as [
        [Error | null, number],
        [Error | null, string | null],
      ];
      const current = Number(count);
      const head = current ? parseVersion(await this.redis.hget(CONFIG_KEYS.versions(scope), String(current))) : null;
      const revision = Number(revText ?? 0);
      if (options.expectedVersion !== undefined && options.expectedVersion !== current) {
        throw new ConfigConflictError(scope, options.expectedVersion, current);
      }
      const spec = validateSpec(change(head ? (JSON.parse(JSON.stringify(head.spec)) as ConfigSpec) : {}, head));
      const hash = hashJson(spec);
      const result: PutResult = { scope, version: current + 1, revision: revision + 1, hash, dryRun: !!options.dryRun, diff: diffJson(head?.spec ?? {}, spec) };
      if (options.dryRun) return result;
      const record = signVersion(
        {
          scope, version: current + 1, revision: revision + 1, hash, spec: JSON.parse(JSON.stringify(spec)) as ConfigSpec,
          author: options.author, comment, at: new Date().toISOString(), keyId: this.keys.keyId,
        },
        this.keys.privateKey,
      );
      const wake = JSON.stringify({ scope, version: record.version, revision: record.revision });
      const res = (await this.redis.eval(
        PUT_SCRIPT, 4,
        CONFIG_KEYS.headRevisions, CONFIG_KEYS.heads, CONFIG_KEYS.versions(scope), CONFIG_KEYS.revision,
        scope, String(current), String(revision), JSON.stringify(record), String(record.version), String(record.revision),
        CONFIG_KEYS.wake, wake,
      )) as [number, number, number];
      if (res[0] === 1) return result;
      if (attempt >= this.maxAttempts) throw new Error(`${scope}: gave up after ${attempt} attempts (concurrent writers)`);
      await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 * attempt)));
    }
  }
}
