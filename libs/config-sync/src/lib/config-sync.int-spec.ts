import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { ConfigError } from '@flowmesh/common';
import { freePort, startProcess, startRedis, Started, stopProcess, waitUntil } from '@flowmesh/testing';
import { ApplyMeta, APPLIED_CONFIG_FILE, ConfigAck, ConfigAgent, ConfigAgentOptions } from './config-agent';
import { CONFIG_KEYS } from './config-keys';
import { ConfigConflictError, ConfigNotFoundError, ConfigStore } from './config-store';
import { ConfigStatusReader, NodeConfigStatus } from './config-status';
import { ConfigVersion, signVersion } from './config-version';
import { EffectiveConfig } from './desired-state/desired-state.dto';
import { generateSigningKeyPair, loadOrCreateSigningKeyPair, publicKeyPem } from './signing';
import { TemplateShare } from './template-share';

const keys = generateSigningKeyPair();
const author = 'test';
const tmpRoot = mkdtempSync(join(tmpdir(), 'cfgsync-'));
after(() => rmSync(tmpRoot, { recursive: true, force: true }));
let dirCount = 0;
const newDir = (): string => join(tmpRoot, `d${++dirCount}`);

function profile(name: string, filter = 'port 80') {
  return { name, channels: [{ name: 'c', filter }] };
}

/** An in-process agent that records what it applied. */
function agent(redisUrl: string, nodeId: string, extra: Partial<ConfigAgentOptions> = {}) {
  const applied: { config: EffectiveConfig; meta: ApplyMeta }[] = [];
  const a = new ConfigAgent({
    connection: { redisUrl },
    nodeId,
    stateDir: newDir(),
    masterPublicKey: keys.publicKey,
    pollMs: 500,
    apply: async (config, meta) => {
      applied.push({ config, meta });
    },
    ...extra,
  });
  return { a, applied };
}

function childAgent(redisUrl: string, nodeId: string, stateDir: string, env: Record<string, string> = {}): Started {
  return startProcess(process.execPath, [join(__dirname, 'config-agent.int-fixture.js')], {
    REDIS_URL: redisUrl, NODE_ID: nodeId, STATE_DIR: stateDir, PUBKEY: publicKeyPem(keys.publicKey), POLL_MS: '500', FLOWMESH_LOG_LEVEL: 'warn', ...env,
  });
}

async function converged(reader: ConfigStatusReader, ids: string[], revision: number, timeoutMs = 15_000): Promise<NodeConfigStatus[]> {
  return waitUntil(`${ids.join(',')} at revision ${revision}`, async () => {
    const all = await reader.list();
    const mine = ids.map((id) => all.find((s) => s.node === id));
    return mine.every((s) => s && !s.drift && s.appliedRevision === revision && s.status === 'applied') ? (mine as NodeConfigStatus[]) : false;
  }, timeoutMs, 50);
}

describe('ConfigStore over a real Redis', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let store: ConfigStore;
  before(async () => {
    redis = await startRedis();
    store = new ConfigStore({ redisUrl: redis.url }, keys);
    await store.start();
  });
  after(async () => {
    await store.stop();
    await stopProcess(redis.proc.child);
  });

  test('put appends signed versions; history, get, diff, rollback, scopes, desiredFor', async () => {
    const r1 = await store.put('global', { storage: { engine: 'chdb', database: 'flows' }, profiles: [profile('DMZ')] }, { author, comment: 'first' });
    assert.equal(r1.version, 1);
    assert.equal(r1.revision, 1);
    const r2 = await store.put('global', { storage: { engine: 'chdb', database: 'flows2' }, profiles: [profile('DMZ')] }, { author: 'bob' });
    assert.deepEqual([r2.version, r2.revision], [2, 2]);
    assert.deepEqual(r2.diff.changed, [{ path: 'storage.database', from: 'flows', to: 'flows2' }]);
    await store.put('group:dc1', { listeners: { netflow: { port: 9995 } } }, { author });
    await store.put('node:n1', { profiles: [{ name: 'DMZ', deleted: true }] }, { author });

    const hist = await store.history('global');
    assert.deepEqual(hist.map((h) => [h.version, h.revision, h.author, h.comment]), [[1, 1, 'test', 'first'], [2, 2, 'bob', '']]);
    assert.equal((await store.get('global', 1))?.spec.storage?.database, 'flows');
    assert.equal((await store.get('global'))?.version, 2);
    assert.equal(await store.get('global', 9), null);
    assert.deepEqual(await store.diff('global', 1, 2), { added: [], removed: [], changed: [{ path: 'storage.database', from: 'flows', to: 'flows2' }] });
    await assert.rejects(store.diff('global', 1, 7), ConfigNotFoundError);

    const rb = await store.rollback('global', 1, { author: 'carol' });
    assert.deepEqual([rb.version, rb.revision], [3, 5]);
    const v3 = (await store.get('global')) as ConfigVersion;
    assert.equal(v3.spec.storage?.database, 'flows');
    assert.equal(v3.comment, 'rollback to version 1');
    assert.equal(v3.hash, (await store.get('global', 1))?.hash);
    assert.equal((await store.get('global', 2))?.spec.storage?.database, 'flows2', 'old versions are never rewritten');

    assert.deepEqual(await store.scopes(), ['global', 'group:dc1', 'node:n1']);
    const d = await store.desiredFor('n1', 'dc1');
    assert.equal(d.revision, 5);
    assert.deepEqual(d.config, { storage: { engine: 'chdb', database: 'flows' }, profiles: [], listeners: { netflow: { port: 9995 } } });
    assert.deepEqual(d.sources.map((s) => [s.scope, s.version]), [['global', 3], ['group:dc1', 1], ['node:n1', 1]]);
    assert.match(d.hash, /^[0-9a-f]{64}$/);
    const other = await store.desiredFor('n2');
    assert.deepEqual(other.config.profiles, [profile('DMZ')]);
    assert.notEqual(other.hash, d.hash);
    assert.equal(await store.revision(), 5);
  });

  test('invalid and dry-run puts store nothing; the error names the path', async () => {
    const before = await store.revision();
    await assert.rejects(store.put('global', { exporters: [{ address: '10.0.0.1' }, { address: 'x' }] }, { author }), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.deepEqual(e.problems, ['exporters[1].address: must be an IP address or CIDR (got "x")']);
      return true;
    });
    await assert.rejects(store.put('site:x', {}, { author }), ConfigError);
    await assert.rejects(store.put('global', {}, { author: '' }), ConfigError);
    const dry = await store.put('node:n9', { exporters: [{ address: '10.0.0.1' }] }, { author, dryRun: true });
    assert.deepEqual([dry.dryRun, dry.version, dry.revision], [true, 1, before + 1]);
    assert.deepEqual(dry.diff.added, [{ path: 'exporters', to: [{ address: '10.0.0.1' }] }]);
    assert.equal(await store.revision(), before);
    assert.equal(await store.get('node:n9'), null);
    await assert.rejects(store.put('global', {}, { author, expectedVersion: 1 }), ConfigConflictError);
  });

  test('patchSection upserts and deletes one item by key', async () => {
    await store.patchSection('group:p', 'exporters', 'upsert', { address: '10.0.0.1', name: 'a' }, { author });
    await store.patchSection('group:p', 'exporters', 'upsert', { address: '10.0.0.2', name: 'b' }, { author });
    await store.patchSection('group:p', 'exporters', 'upsert', { address: '10.0.0.1', name: 'a2' }, { author });
    assert.deepEqual((await store.get('group:p'))?.spec.exporters, [{ address: '10.0.0.1', name: 'a2' }, { address: '10.0.0.2', name: 'b' }]);
    const r = await store.patchSection('group:p', 'exporters', 'delete', '10.0.0.1', { author });
    assert.equal(r.version, 4);
    assert.deepEqual((await store.get('group:p'))?.spec.exporters, [{ address: '10.0.0.2', name: 'b' }]);
    await assert.rejects(store.patchSection('group:p', 'exporters', 'delete', '10.0.0.1', { author }), ConfigNotFoundError);
    await assert.rejects(store.patchSection('group:p', 'exporters', 'upsert', { address: 'nope' }, { author }), /exporters\[1\]\.address: must be an IP/);
  });

  test('concurrent puts from two masters get distinct consecutive versions and revisions', async () => {
    const store2 = new ConfigStore({ redisUrl: redis.url }, keys);
    await store2.start();
    try {
      const rev0 = await store.revision();
      const results = await Promise.all(
        Array.from({ length: 30 }, (_, i) => (i % 2 ? store : store2).put(i % 3 ? 'node:race' : 'group:race', { storage: { batchRows: i + 1 } }, { author: `w${i}` })),
      );
      const nodeVersions = results.filter((r) => r.scope === 'node:race').map((r) => r.version).sort((a, b) => a - b);
      const groupVersions = results.filter((r) => r.scope === 'group:race').map((r) => r.version).sort((a, b) => a - b);
      assert.deepEqual(nodeVersions, Array.from({ length: 20 }, (_, i) => i + 1));
      assert.deepEqual(groupVersions, Array.from({ length: 10 }, (_, i) => i + 1));
      assert.deepEqual(results.map((r) => r.revision).sort((a, b) => a - b), Array.from({ length: 30 }, (_, i) => rev0 + i + 1));
      const hist = await store.history('node:race');
      assert.equal(hist.length, 20);
      const batchRows = new Set(await Promise.all(hist.map(async (h) => (await store.get('node:race', h.version))?.spec.storage?.batchRows)));
      assert.equal(batchRows.size, 20, 'no write was lost');
    } finally {
      await store2.stop();
    }
  });
});

describe('ConfigAgent: nodes converge, refuse, and survive outages', () => {
  let redisPort: number;
  let redisUrl: string;
  let redisProc: Started | undefined;
  const redisDir = newDir();
  let store: ConfigStore;
  let reader: ConfigStatusReader;
  const children: Started[] = [];

  async function startOwnRedis(): Promise<void> {
    // Persistent (AOF, fsync always) so that a restart keeps the desired state, as in production.
    redisProc = startProcess('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', redisDir]);
    await waitUntil('redis-server', async () => redisProc?.output().includes('Ready to accept connections'), 10_000, 25);
  }

  before(async () => {
    redisPort = await freePort();
    redisUrl = `redis://127.0.0.1:${redisPort}`;
    mkdirSync(redisDir, { recursive: true });
    await startOwnRedis();
    store = new ConfigStore({ redisUrl }, keys);
    reader = new ConfigStatusReader({ redisUrl });
    await store.start();
    await reader.start();
  });
  after(async () => {
    for (const c of children) await stopProcess(c.child);
    await store.stop();
    await reader.stop();
    await stopProcess(redisProc?.child);
  });

  test('a change reaches three agent processes and is acked; one down during a change converges on return; redis restarted mid-change', async () => {
    const dirs = [newDir(), newDir(), newDir()];
    const ids = ['p1', 'p2', 'p3'];
    ids.forEach((id, i) => children.push(childAgent(redisUrl, id, dirs[i], { GROUP: 'edge' })));
    const r1 = await store.put('global', { profiles: [profile('DMZ')], storage: { database: 'flows' } }, { author });
    const st = await converged(reader, ids, r1.revision);
    assert.equal(new Set(st.map((s) => s.appliedHash)).size, 1);
    assert.equal(st[0].appliedHash, (await store.desiredFor('p1', 'edge')).hash);
    for (const c of children) await waitUntil('applied line', async () => c.output().includes(`"revision":${r1.revision}`), 5000, 25);

    // p3 goes down; two changes happen; it comes back and converges.
    await stopProcess(children[2].child);
    const r2 = await store.put('group:edge', { listeners: { netflow: { port: 9995 } } }, { author });
    await converged(reader, ['p1', 'p2'], r2.revision);
    const r3 = await store.put('node:p3', { storage: { database: 'p3only' } }, { author });
    let all = await reader.list();
    assert.equal(all.find((s) => s.node === 'p3')?.drift, true);
    assert.equal(all.find((s) => s.node === 'p3')?.appliedRevision, r1.revision);
    assert.equal(all.find((s) => s.node === 'p1')?.drift, false, 'a node scope change does not concern p1');
    children[2] = childAgent(redisUrl, 'p3', dirs[2], { GROUP: 'edge' });
    children.push(children[2]);
    await converged(reader, ['p3'], r3.revision);
    assert.match(children[2].output(), /"origin":"local"/);
    const persisted = JSON.parse(readFileSync(join(dirs[2], APPLIED_CONFIG_FILE), 'utf8')) as { revision: number; config: EffectiveConfig };
    assert.equal(persisted.revision, r3.revision);
    assert.deepEqual(persisted.config.storage, { database: 'p3only' });
    assert.deepEqual(persisted.config.listeners, { netflow: { port: 9995 } });

    // Redis is killed right after a change is stored, then restarted on the same port: everyone converges.
    const r4 = await store.put('global', { profiles: [profile('DMZ'), profile('VoIP', 'port 5060')], storage: { database: 'flows' } }, { author });
    await stopProcess(redisProc?.child, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 300));
    await startOwnRedis();
    await converged(reader, ids, r4.revision);
    const r5 = await store.put('global', { profiles: [profile('VoIP', 'port 5060')], storage: { database: 'flows' } }, { author });
    all = await converged(reader, ids, r5.revision);
    assert.equal(all.length, 3);
  });

  test('a node whose apply throws reports the reason and keeps its old config', async () => {
    const dir = newDir();
    const child = childAgent(redisUrl, 'picky', dir, { FAIL_ON: 'FORBIDDEN' });
    children.push(child);
    const r0 = await store.revision();
    await converged(reader, ['picky'], r0);
    const good = await reader.get('picky');
    const bad = await store.put('node:picky', { profiles: [profile('FORBIDDEN')] }, { author });
    const st = await waitUntil('picky failed', async () => {
      const s = await reader.get('picky');
      return s?.status === 'failed' ? s : false;
    }, 10_000, 50);
    assert.equal(st.reason, 'apply');
    assert.equal(st.detail, 'refusing anything with FORBIDDEN');
    assert.equal(st.drift, true);
    assert.equal(st.desiredRevision, bad.revision);
    assert.equal(st.appliedRevision, r0);
    assert.equal(st.appliedHash, good?.appliedHash);
    assert.equal((JSON.parse(readFileSync(join(dir, APPLIED_CONFIG_FILE), 'utf8')) as { revision: number }).revision, r0);
    // An empty node document brings back the old effective config: acked at the new revision.
    const ok = await store.put('node:picky', {}, { author });
    const healed = await converged(reader, ['picky'], ok.revision);
    assert.equal(healed[0].appliedHash, good?.appliedHash);
  });

  test('a tampered or foreign-signed version is refused with reason signature', async () => {
    const { a, applied } = agent(redisUrl, 'victim');
    await a.start();
    try {
      const r = await store.put('node:victim', { storage: { database: 'honest' } }, { author });
      await converged(reader, ['victim'], r.revision);
      const cmd = new Redis(redisUrl);
      try {
        // Tamper: change the stored document, keep the signature.
        const head = JSON.parse((await cmd.hget(CONFIG_KEYS.heads, 'node:victim')) as string) as ConfigVersion;
        const tampered = { ...head, spec: { storage: { database: 'evil' } } };
        await cmd.hset(CONFIG_KEYS.heads, 'node:victim', JSON.stringify(tampered));
        await cmd.hset(CONFIG_KEYS.headRevisions, 'node:victim', `${head.version}:${head.revision + 1000}`);
        const failed = await waitUntil('signature refusal', async () => {
          const s = await reader.get('victim');
          return s?.status === 'failed' ? s : false;
        }, 10_000, 50);
        assert.equal(failed.reason, 'signature');
        assert.match(failed.detail ?? '', /node:victim version/);
        assert.equal(a.appliedRevision, r.revision);
        assert.equal(a.applied?.config.storage?.database, 'honest');
        assert.equal(a.health().status, 'warning');
        assert.equal(a.lastError?.reason, 'signature');

        // A well-formed version signed by another key is refused too.
        const mallory = generateSigningKeyPair();
        const { signature: _s, ...unsigned } = { ...head, version: head.version + 1, revision: head.revision + 2000, spec: { storage: { database: 'mallory' } } };
        const { hashJson } = await import('./desired-state/canonical-json');
        const forged = signVersion({ ...unsigned, hash: hashJson({ storage: { database: 'mallory' } }) }, mallory.privateKey);
        await cmd.hset(CONFIG_KEYS.heads, 'node:victim', JSON.stringify(forged));
        await cmd.hset(CONFIG_KEYS.headRevisions, 'node:victim', 'forged');
        await waitUntil('second refusal', async () => a.stats.failures.signature >= 2, 10_000, 50);
        assert.match(a.lastError?.detail ?? '', /bad signature/);
        assert.equal(applied.filter((x) => x.config.storage?.database !== 'honest').length, 0);
      } finally {
        cmd.disconnect();
      }
      const healed = await store.put('node:victim', { storage: { database: 'honest2' } }, { author });
      await converged(reader, ['victim'], healed.revision);
      assert.equal(a.lastError, null);
      assert.equal(a.health().status, 'ok');
    } finally {
      await a.stop();
    }
  });

  test('an agent restarted while Redis is down runs on its persisted config', async () => {
    const dir = newDir();
    const first = agent(redisUrl, 'offline', { stateDir: dir });
    await first.a.start();
    const r = await store.put('node:offline', { exporters: [{ address: '192.0.2.1', name: 'r1' }] }, { author });
    await converged(reader, ['offline'], r.revision);
    await first.a.stop();

    const deadPort = await freePort();
    const acks: ConfigAck[] = [];
    const second = agent(`redis://127.0.0.1:${deadPort}`, 'offline', { stateDir: dir });
    second.a.on('ack', (x: ConfigAck) => acks.push(x));
    await second.a.start();
    assert.equal(second.applied.length, 1);
    assert.equal(second.applied[0].meta.origin, 'local');
    assert.equal(second.applied[0].meta.revision, r.revision);
    assert.deepEqual(second.applied[0].config.exporters, [{ address: '192.0.2.1', name: 'r1' }]);
    assert.equal(second.a.appliedRevision, r.revision);
    assert.equal(second.a.connected, false);
    assert.deepEqual(second.a.health(), { status: 'warning', reason: `redis unreachable; running on applied revision ${r.revision}` });
    await new Promise((res) => setTimeout(res, 300));
    assert.equal(acks.length, 0);
    await second.a.stop();
  });

  test('trust on first use pins the key published by the master', async () => {
    const dir = newDir();
    const { a } = agent(redisUrl, 'tofu', { stateDir: dir, masterPublicKey: undefined });
    await a.start();
    try {
      const r = await store.put('node:tofu', { storage: { database: 'pinned' } }, { author });
      await converged(reader, ['tofu'], r.revision);
      assert.equal(readFileSync(join(dir, 'master.pub'), 'utf8'), publicKeyPem(keys.publicKey));
      // A different master (key) takes over Redis: the pinned node refuses its versions.
      const other = loadOrCreateSigningKeyPair(newDir());
      const rogue = new ConfigStore({ redisUrl }, other);
      await rogue.start();
      try {
        await rogue.put('node:tofu', { storage: { database: 'rogue' } }, { author });
        await waitUntil('refusal', async () => a.lastError?.reason === 'signature', 10_000, 50);
        assert.equal(a.applied?.config.storage?.database, 'pinned');
      } finally {
        await rogue.stop();
      }
    } finally {
      await a.stop();
    }
  });
});

describe('Redis with a password and an ACL user', () => {
  let proc: Started;
  let port: number;
  before(async () => {
    port = await freePort();
    proc = startProcess('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--requirepass', 's3cret']);
    await waitUntil('redis-server', async () => proc.output().includes('Ready to accept connections'), 10_000, 25);
  });
  after(async () => stopProcess(proc.child));

  test('password in the URL, password option and ACL user work; no password fails visibly', async () => {
    const store = new ConfigStore({ redisUrl: `redis://:s3cret@127.0.0.1:${port}` }, keys);
    await store.start();
    const admin = new Redis(`redis://default:s3cret@127.0.0.1:${port}`);
    await admin.call('ACL', 'SETUSER', 'flownode', 'on', '>n0de', '~flowmesh:*', '&flowmesh:*', '+@all');
    admin.disconnect();
    const r = await store.put('global', { storage: { database: 'secured' } }, { author });
    const withOption = agent(`redis://127.0.0.1:${port}`, 'pw1', { connection: { redisUrl: `redis://127.0.0.1:${port}`, password: 's3cret' } });
    const viaAcl = agent(`redis://flownode:n0de@127.0.0.1:${port}`, 'pw2');
    const noPassword = agent(`redis://127.0.0.1:${port}`, 'pw3');
    for (const x of [withOption, viaAcl, noPassword]) await x.a.start();
    try {
      await waitUntil('acl agents applied', async () => withOption.a.appliedRevision === r.revision && viaAcl.a.appliedRevision === r.revision, 10_000, 50);
      await new Promise((res) => setTimeout(res, 300));
      assert.equal(noPassword.a.connected, false);
      assert.equal(noPassword.applied.length, 0);
      assert.match(noPassword.a.lastError?.detail ?? '', /NOAUTH|auth/i);
    } finally {
      for (const x of [withOption, viaAcl, noPassword]) await x.a.stop();
      await store.stop();
    }
  });
});

describe('TemplateShare', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  before(async () => (redis = await startRedis()));
  after(async () => stopProcess(redis.proc.child));

  test('a template learnt on one node is fetched by another; wake-ups; bounds', async () => {
    const a = new TemplateShare({ connection: { redisUrl: redis.url }, nodeId: 'a', maxEntryBytes: 2000, maxDomainsPerExporter: 2, maxExporters: 3 });
    const b = new TemplateShare({ connection: { redisUrl: redis.url }, nodeId: 'b' });
    await a.start();
    await b.start();
    try {
      await waitUntil('connected', async () => a.connected && b.connected, 5000, 20);
      await new Promise((r) => setTimeout(r, 100));
      const updates: unknown[] = [];
      const own: unknown[] = [];
      b.on('update', (u) => updates.push(u));
      a.on('update', (u) => own.push(u));
      const snapshot = {
        version: 1,
        domains: [
          { exporter: '10.0.0.1', protocol: 'ipfix', observation_domain: 0, templates: [{ id: 256, raw: '0100000400080004' }] },
          { exporter: '10.0.0.1', protocol: 'netflow_v9', observation_domain: 7, templates: [] },
        ],
      };
      assert.deepEqual(await a.publishSnapshot(snapshot), { stored: 2 });
      assert.deepEqual(await a.publishSnapshot(snapshot), { unchanged: 2 });
      await waitUntil('wake-ups', async () => updates.length === 2, 5000, 20);
      assert.deepEqual(updates[0], { exporter: '10.0.0.1', domain: 'ipfix:0', node: 'a' });
      assert.equal(own.length, 0, 'a node is not woken by its own publishes');
      const got = await b.getSnapshot('10.0.0.1');
      assert.deepEqual(got, { version: 1, domains: [snapshot.domains[0], snapshot.domains[1]] });
      const entries = await b.get('10.0.0.1');
      assert.deepEqual(entries.map((e) => [e.domain, e.node]), [['ipfix:0', 'a'], ['netflow_v9:7', 'a']]);
      assert.deepEqual(await b.get('10.9.9.9'), []);

      assert.equal(await a.publish('10.0.0.1', 'ipfix:9', {}), 'too_many_domains');
      assert.equal(await a.publish('10.0.0.1', 'ipfix:0', { big: 'x'.repeat(3000) }), 'too_large');
      assert.equal(await a.publish('10.0.0.2', 'ipfix:0', { n: 2 }), 'stored');
      assert.equal(await a.publish('10.0.0.3', 'ipfix:0', { n: 3 }), 'stored');
      assert.equal(await a.publish('10.0.0.4', 'ipfix:0', { n: 4 }), 'too_many_exporters');
      assert.equal(await a.publish('', 'x', {}), 'bad_key');
      assert.deepEqual(a.stats.refused, { too_many_domains: 1, too_large: 1, too_many_exporters: 1, bad_key: 1 });
      assert.deepEqual((await b.exporters()).sort(), ['10.0.0.1', '10.0.0.2', '10.0.0.3']);
      const plain = new Redis(redis.url);
      assert.ok((await plain.ttl('flowmesh:tpl:exp:10.0.0.1')) > 86400, 'entries expire');
      plain.disconnect();
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});
