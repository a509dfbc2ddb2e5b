import 'reflect-metadata';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Job, Worker } from 'bullmq';
import Redis from 'ioredis';
import {
  CONFIG_KEYS, NodeHeartbeat, NodeInfo, nodeQueueName, REDIS_KEYS, SignedPackageManifest, toPublicKey, UpgradeJobPayload, verifyPackage,
} from '@flowmesh/config-sync';
import { freePort, startProcess, startRedis, Started, stopProcess, waitUntil } from '@flowmesh/testing';

/*
 * The real master process with auth enabled, against its own redis-server. Nodes are played by BullMQ workers in
 * this test (they consume the per-node queues exactly as a collector node does) plus registry entries and tiny
 * /readyz servers.
 */

const TOKENS = { admin: 'admin-secret-1', viewer: 'viewer-secret-1', n1: 'node-secret-n1' };
const sha = (t: string) => createHash('sha256').update(t).digest('hex');

interface Res<T = Record<string, unknown>> {
  status: number;
  body: T;
  headers: Headers;
}

describe('master control plane (real process, real Redis, auth on)', () => {
  let work: string;
  let redisInfo: { url: string; proc: Started };
  let master: Started;
  let redis: Redis;
  let base: string;
  const workers: Worker[] = [];
  const connections: Redis[] = [];
  const servers: Server[] = [];
  const versions: Record<string, string> = {};
  const readyUrl: Record<string, string> = {};
  let beat: NodeJS.Timeout | undefined;

  async function call<T = Record<string, unknown>>(method: string, path: string, body?: unknown, token: string | null = TOKENS.admin, headers: Record<string, string> = {}): Promise<Res<T>> {
    const h: Record<string, string> = { ...headers };
    if (token) h.authorization = `Bearer ${token}`;
    let payload: RequestInit['body'];
    if (Buffer.isBuffer(body)) {
      payload = new Uint8Array(body);
      h['content-type'] ??= 'application/gzip';
    } else if (body !== undefined) {
      payload = JSON.stringify(body);
      h['content-type'] = 'application/json';
    }
    const res = await fetch(base + path, { method, headers: h, body: payload, signal: AbortSignal.timeout(15_000) });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    return { status: res.status, body: parsed as T, headers: res.headers };
  }

  async function register(id: string, version: string, group = 'edge'): Promise<void> {
    const srv = createServer((req, res) => void res.writeHead(req.url === '/readyz' ? 200 : 404).end('{}'));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    servers.push(srv);
    readyUrl[id] = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
    versions[id] = version;
    await writeInfo(id, group);
  }

  async function writeInfo(id: string, group = 'edge'): Promise<void> {
    const info: NodeInfo = {
      id, version: versions[id], hostname: `host-${id}`, group, apiUrl: readyUrl[id], addresses: ['127.0.0.1'], listeners: [],
      startedAt: new Date().toISOString(), pid: 1,
    };
    await redis.sadd(REDIS_KEYS.nodes, id);
    await redis.hset(REDIS_KEYS.node(id), 'info', JSON.stringify(info));
  }

  async function heartbeatAll(): Promise<void> {
    const hb: NodeHeartbeat = { at: Date.now(), ready: true, packets: 0, flows: 0, storedRows: 0, decodeErrors: 0, packetsPerSecond: 0, flowsPerSecond: 0 };
    for (const id of Object.keys(versions)) await redis.hset(REDIS_KEYS.node(id), 'heartbeat', JSON.stringify(hb));
  }

  function worker(id: string, handler: (job: Job) => Promise<unknown>): Worker {
    const connection = new Redis(redisInfo.url, { maxRetriesPerRequest: null });
    connection.on('error', () => undefined);
    connections.push(connection);
    const w = new Worker(nodeQueueName(id), handler, { connection, concurrency: 1 });
    w.on('error', () => undefined);
    workers.push(w);
    return w;
  }

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'flowmesh-cp-int-'));
    redisInfo = await startRedis();
    redis = new Redis(redisInfo.url, { maxRetriesPerRequest: 1 });
    redis.on('error', () => undefined);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const configFile = join(work, 'master.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        http: { host: '127.0.0.1', port },
        dataDir: join(work, 'data'),
        redis: { url: redisInfo.url },
        auth: {
          enabled: true,
          tokens: [
            { name: 'alice', role: 'admin', sha256: sha(TOKENS.admin) },
            { name: 'victor', role: 'viewer', sha256: sha(TOKENS.viewer) },
          ],
          nodeTokens: [{ node: 'n1', sha256: sha(TOKENS.n1) }],
        },
        jobs: { attempts: 2, backoffMs: 100 },
        upgrades: { pollMs: 100 },
      }),
    );
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FLOWMESH_MASTER_') && k !== 'REDIS_URL'));
    master = startProcess(process.execPath, [join(__dirname, '..', 'main.js'), 'master', '--config', configFile], env);
    await waitUntil('master /readyz', async () => {
      if (master.child.exitCode !== null) throw new Error(`master exited: ${master.output()}`);
      return (await fetch(base + '/readyz')).status === 200;
    }, 30_000, 100);
    await register('n1', '1.0.0');
    await register('n2', '1.0.0');
    await register('n3', '1.0.0', 'core');
    await heartbeatAll();
    beat = setInterval(() => void heartbeatAll().catch(() => undefined), 500);
  });

  after(async () => {
    if (beat) clearInterval(beat);
    await Promise.all(workers.map((w) => w.close(true).catch(() => undefined)));
    for (const c of connections) c.disconnect();
    for (const s of servers) s.close();
    await stopProcess(master?.child, 'SIGTERM');
    redis?.disconnect();
    await stopProcess(redisInfo?.proc.child, 'SIGKILL');
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('tokens: none → 401, viewer reads but may not write (403), node token only downloads; probes stay open', async () => {
    assert.equal((await call('GET', '/healthz', undefined, null)).status, 200);
    assert.equal((await call('GET', '/metrics', undefined, null)).status, 200);
    const none = await call('GET', '/api/v1/config', undefined, null);
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="flowmesh"');
    assert.equal((await call('GET', '/api/v1/config', undefined, 'wrong-token')).status, 401);
    assert.equal((await call('GET', '/api/v1/config', undefined, TOKENS.viewer)).status, 200);
    assert.equal((await call('GET', '/api/v1/nodes', undefined, TOKENS.viewer)).status, 200);
    const put = await call('PUT', '/api/v1/config/global', { storage: { batchRows: 10 } }, TOKENS.viewer);
    assert.equal(put.status, 403);
    assert.match(String(put.body.message), /viewer may not PUT/);
    assert.equal((await call('POST', '/api/v1/nodes/n1/jobs', { type: 'flush' }, TOKENS.viewer)).status, 403);
    // A viewer may query (the answer itself is the query API's business, but it is not refused by auth).
    assert.notEqual((await call('POST', '/api/v1/query', { nodes: ['nope'] }, TOKENS.viewer)).status, 403);
    assert.equal((await call('GET', '/api/v1/config/global', undefined, TOKENS.n1)).status, 403);
    assert.equal((await call('GET', '/api/v1/config/public-key', undefined, TOKENS.n1)).status, 200);
    assert.equal(await redis.hlen(CONFIG_KEYS.versions('global')), 0, 'nothing stored by refused writes');
  });

  test('config: CRUD, dry run, keyed items, history, diff, rollback, 409 on a stale version', async () => {
    const dry = await call('PUT', '/api/v1/config/global?dryRun=true', { exporters: [{ address: '10.0.0.1', name: 'r1' }] });
    assert.equal(dry.status, 200, JSON.stringify(dry.body));
    assert.equal(dry.body.dryRun, true);
    assert.deepEqual((dry.body.diff as { added: unknown[] }).added, [{ path: 'exporters', to: [{ address: '10.0.0.1', name: 'r1' }] }]);
    assert.equal(await redis.hlen(CONFIG_KEYS.versions('global')), 0, 'a dry run stores nothing');

    const v1 = await call('PUT', '/api/v1/config/global?comment=first', { exporters: [{ address: '10.0.0.1', name: 'r1' }] }, TOKENS.admin, { 'if-match': '"0"' });
    assert.equal(v1.status, 200, JSON.stringify(v1.body));
    assert.equal(v1.body.version, 1);
    assert.equal(v1.headers.get('etag'), '"1"');
    const v2 = await call('PUT', '/api/v1/config/global/exporters/10.0.0.0%2F24', { name: 'block', samplingRate: 100 });
    assert.equal(v2.status, 200, JSON.stringify(v2.body));
    const v3 = await call('PUT', '/api/v1/config/global/storage?expectedVersion=2', { engine: 'chdb', retention: { rawDays: 7 } });
    assert.equal(v3.body.version, 3, JSON.stringify(v3.body));
    const v4 = await call('PUT', '/api/v1/config/global/profiles/DMZ', { channels: [{ name: 'web', filter: 'dst port 443' }] });
    assert.equal(v4.body.version, 4);
    const item = await call('GET', '/api/v1/config/global/exporters/10.0.0.0%2F24');
    assert.deepEqual(item.body.item, { address: '10.0.0.0/24', name: 'block', samplingRate: 100 });
    const del = await call('DELETE', '/api/v1/config/global/exporters/10.0.0.1');
    assert.equal(del.body.version, 5);
    assert.deepEqual((del.body.diff as { removed: Array<{ path: string }> }).removed.map((d) => d.path), ['exporters[address=10.0.0.1]']);
    assert.equal((await call('DELETE', '/api/v1/config/global/exporters/10.9.9.9')).status, 404);

    const doc = await call<{ version: number; author: string; spec: Record<string, unknown>; signature: string }>('GET', '/api/v1/config/global');
    assert.equal(doc.body.version, 5);
    assert.equal(doc.body.author, 'alice');
    assert.deepEqual(Object.keys(doc.body.spec).sort(), ['exporters', 'profiles', 'storage']);
    assert.ok(doc.body.signature.length > 40);

    const stale = await call('PUT', '/api/v1/config/global/storage', { batchRows: 1 }, TOKENS.admin, { 'if-match': '"3"' });
    assert.equal(stale.status, 409);
    assert.equal(stale.body.actualVersion, 5);
    assert.equal((await call('POST', '/api/v1/config/global/rollback', { version: 1, expectedVersion: 2 })).status, 409);

    const history = await call<{ versions: Array<{ version: number; comment: string; author: string }> }>('GET', '/api/v1/config/global/history');
    assert.deepEqual(history.body.versions.map((v) => v.version), [1, 2, 3, 4, 5]);
    assert.equal(history.body.versions[0].comment, 'first');
    const diff = await call<{ added: Array<{ path: string }>; removed: Array<{ path: string }> }>('GET', '/api/v1/config/global/diff?from=1&to=5');
    assert.deepEqual(diff.body.removed.map((d) => d.path), ['exporters[address=10.0.0.1]']);
    assert.deepEqual(diff.body.added.map((d) => d.path).sort(), ['exporters[address=10.0.0.0/24]', 'profiles', 'storage']);

    const rb = await call('POST', '/api/v1/config/global/rollback', { version: 1 });
    assert.equal(rb.status, 200, JSON.stringify(rb.body));
    assert.equal(rb.body.version, 6);
    const now = await call<{ spec: unknown; comment: string }>('GET', '/api/v1/config/global');
    assert.deepEqual(now.body.spec, { exporters: [{ address: '10.0.0.1', name: 'r1' }] });
    assert.equal(now.body.comment, 'rollback to version 1');
    assert.equal((await call<{ version: number }>('GET', '/api/v1/config/global?version=3')).body.version, 3);

    await call('PUT', '/api/v1/config/group:edge/listeners', { netflow: { port: 2056 } });
    const eff = await call<{ group: string; config: Record<string, unknown> }>('GET', '/api/v1/config/effective/n1');
    assert.equal(eff.body.group, 'edge');
    assert.deepEqual(eff.body.config, { exporters: [{ address: '10.0.0.1', name: 'r1' }], listeners: { netflow: { port: 2056 } } });
  });

  test('an invalid change is refused with the path named and never stored', async () => {
    const revision = await redis.get(CONFIG_KEYS.revision);
    const count = await redis.hlen(CONFIG_KEYS.versions('global'));
    const cases: Array<[string, string, unknown, RegExp]> = [
      ['PUT', '/api/v1/config/global', { exporters: [{ address: 'x' }] }, /^exporters\[0\]\.address: must be an IP address or CIDR/],
      ['PUT', '/api/v1/config/global/listeners', { netflow: { prot: 1 } }, /^listeners\.netflow\.prot: unknown key/],
      ['PUT', '/api/v1/config/global/reports/daily', { schedule: '61 * * * *', query: {}, format: 'csv' }, /^reports\[0\]\.schedule: invalid cron/],
      ['PUT', '/api/v1/config/nope', {}, /^scope: must be/],
      ['PUT', '/api/v1/config/global/exporters/10.0.0.9', { address: '10.0.0.8' }, /^exporters\.address: .* differs/],
    ];
    for (const [method, path, body, expected] of cases) {
      const r = await call(method, path, body);
      assert.equal(r.status, 400, `${path} ${JSON.stringify(r.body)}`);
      assert.ok((r.body.message as string[]).some((m) => expected.test(m)), JSON.stringify(r.body.message));
    }
    assert.equal(await redis.get(CONFIG_KEYS.revision), revision);
    assert.equal(await redis.hlen(CONFIG_KEYS.versions('global')), count);
  });

  test('per node config status shows desired vs applied and drift', async () => {
    const desired = (await call<{ revision: number; hash: string }>('GET', '/api/v1/config/effective/n2')).body;
    await redis.hset(
      CONFIG_KEYS.acks,
      'n2',
      JSON.stringify({ node: 'n2', group: 'edge', appliedRevision: desired.revision, appliedHash: desired.hash, desiredRevision: desired.revision, desiredHash: desired.hash, status: 'applied', at: Date.now() }),
    );
    await redis.hset(
      CONFIG_KEYS.acks,
      'n3',
      JSON.stringify({ node: 'n3', group: 'core', appliedRevision: 1, appliedHash: 'abc', desiredRevision: desired.revision, desiredHash: 'x', status: 'failed', reason: 'apply', detail: 'port busy', at: Date.now() }),
    );
    const st = await call<{ nodes: Array<Record<string, unknown>>; drifting: number; failed: number }>('GET', '/api/v1/nodes/config-status', undefined, TOKENS.viewer);
    assert.equal(st.status, 200);
    const by = Object.fromEntries(st.body.nodes.map((n) => [n.node, n]));
    assert.equal(by.n2.drift, false);
    assert.equal(by.n2.appliedRevision, desired.revision);
    assert.equal(by.n3.drift, true);
    assert.equal(by.n3.reason, 'apply');
    assert.equal(by.n3.detail, 'port busy');
    assert.equal(by.n1.status, 'unknown');
    assert.equal(st.body.failed, 1);
  });

  test('jobs: idempotent enqueue, retries with backoff, status, failure reason', async () => {
    const seen: number[] = [];
    worker('w1', async (job) => {
      seen.push(job.attemptsMade);
      if (job.name === 'flush' && job.attemptsMade === 0) throw new Error('spool busy');
      if (job.name === 'reload') throw new Error('apply: cannot bind 2055');
      return { flushedRows: 42 };
    });
    const a = await call<{ created: boolean; job: { id: string } }>('POST', '/api/v1/nodes/w1/jobs', { type: 'flush', payload: { reason: 'eod' }, idempotencyKey: 'k1' });
    assert.equal(a.status, 201, JSON.stringify(a.body));
    const b = await call<{ created: boolean; job: { id: string } }>('POST', '/api/v1/nodes/w1/jobs', { type: 'flush', payload: { reason: 'eod' }, idempotencyKey: 'k1' });
    assert.equal(b.status, 200);
    assert.equal(b.body.created, false);
    assert.equal(b.body.job.id, a.body.job.id);
    const done = await waitUntil('flush job completed', async () => {
      const j = await call<{ state: string; attemptsMade: number; result: unknown }>('GET', `/api/v1/jobs/${a.body.job.id}`, undefined, TOKENS.viewer);
      return j.body.state === 'completed' ? j.body : undefined;
    }, 15_000, 100);
    assert.deepEqual(done.result, { flushedRows: 42 });
    assert.equal(done.attemptsMade, 2, 'one failed attempt, then the success');
    assert.deepEqual(seen, [0, 1]);

    const f = await call<{ job: { id: string } }>('POST', '/api/v1/nodes/w1/jobs', { type: 'reload', payload: {} });
    const failed = await waitUntil('reload job failed', async () => {
      const j = await call<{ state: string; attemptsMade: number; failedReason: string; attempts: number }>('GET', `/api/v1/jobs/${f.body.job.id}`);
      return j.body.state === 'failed' ? j.body : undefined;
    }, 15_000, 100);
    assert.equal(failed.attempts, 2);
    assert.equal(failed.attemptsMade, 2);
    assert.equal(failed.failedReason, 'apply: cannot bind 2055');

    const bad = await call('POST', '/api/v1/nodes/w1/jobs', { type: 'run-report-part', payload: { report: 'daily', runId: 'r1', from: 5, to: 1, query: {} } });
    assert.equal(bad.status, 400);
    assert.match((bad.body.message as string[])[0], /^payload\.from: must be before to/);
    assert.equal((await call('GET', '/api/v1/jobs/flush.0000')).status, 404);
  });

  test('packages: uploaded, signed by the master, verifiable by a node; tampering is detected', async () => {
    for (const v of ['1.0.0', '1.1.0', '1.2.0']) {
      const r = await call('POST', `/api/v1/upgrades/packages?version=${v}`, gzipSync(Buffer.from(`flowmesh node ${v}\n`.repeat(100))));
      assert.equal(r.status, 201, JSON.stringify(r.body));
    }
    assert.equal((await call('POST', '/api/v1/upgrades/packages?version=1.1.0', gzipSync(Buffer.from('other')))).status, 409);
    assert.equal((await call('POST', '/api/v1/upgrades/packages?version=1.3.0', Buffer.from('not gzip'))).status, 400);
    const list = await call<{ packages: SignedPackageManifest[] }>('GET', '/api/v1/upgrades/packages', undefined, TOKENS.viewer);
    assert.deepEqual(list.body.packages.map((p) => p.version), ['1.2.0', '1.1.0', '1.0.0']);

    const key = toPublicKey((await call<{ publicKey: string }>('GET', '/api/v1/config/public-key', undefined, TOKENS.n1)).body.publicKey);
    const manifest = (await call<SignedPackageManifest>('GET', '/api/v1/upgrades/packages/1.1.0', undefined, TOKENS.n1)).body;
    assert.equal((await fetch(`${base}/api/v1/upgrades/packages/1.1.0/download`)).status, 401);
    const dl = await fetch(`${base}/api/v1/upgrades/packages/1.1.0/download`, { headers: { authorization: `Bearer ${TOKENS.n1}` } });
    assert.equal(dl.status, 200);
    assert.equal(dl.headers.get('x-flowmesh-sha256'), manifest.sha256);
    const bytes = Buffer.from(await dl.arrayBuffer());
    assert.equal(verifyPackage(manifest, bytes, key), null);
    const tampered = Buffer.from(bytes);
    tampered[tampered.length - 1] ^= 0xff;
    assert.match(verifyPackage(manifest, tampered, key) ?? '', /sha256/);
    assert.match(verifyPackage({ ...manifest, sha256: createHash('sha256').update(tampered).digest('hex') }, tampered, key) ?? '', /bad signature/);
  });

  test('rollout: node by node in order, each upgraded and healthy before the next; a failing node stops it', async () => {
    const events: string[] = [];
    const key = toPublicKey((await call<{ publicKey: string }>('GET', '/api/v1/config/public-key', undefined, TOKENS.n1)).body.publicKey);
    const fakeNode = (id: string, fail?: string) =>
      worker(id, async (job) => {
        const p = job.data as UpgradeJobPayload;
        events.push(`${id}:start:${p.version}`);
        const dl = await fetch(base + p.downloadPath, { headers: { authorization: `Bearer ${TOKENS.admin}` } });
        const problem = verifyPackage(p.manifest, Buffer.from(await dl.arrayBuffer()), key);
        if (problem) throw new Error(`signature: ${problem}`);
        await new Promise((r) => setTimeout(r, 300));
        if (fail) {
          events.push(`${id}:failed`);
          throw new Error(fail);
        }
        const previousVersion = versions[id];
        versions[id] = p.version;
        await writeInfo(id, id === 'n3' ? 'core' : 'edge');
        events.push(`${id}:done:${p.version}`);
        return { status: 'upgraded', version: p.version, previousVersion };
      });
    fakeNode('n1');
    fakeNode('n2');
    fakeNode('n3', 'rolled-back: /readyz failed after restart, 1.0.0 restored');

    const start = await call<{ id: string; state: string }>('POST', '/api/v1/upgrades/rollouts', { version: '1.1.0', nodes: ['n2', 'n1'], nodeTimeoutMs: 15_000 });
    assert.equal(start.status, 202, JSON.stringify(start.body));
    assert.equal((await call('POST', '/api/v1/upgrades/rollouts', { version: '1.1.0', nodes: ['n3'] })).status, 409, 'one rollout at a time');
    type R = { state: string; reason: string | null; nodes: Array<{ node: string; state: string; fromVersion: string; reason: string | null; jobId: string | null }> };
    const ok = await waitUntil('rollout 1 finished', async () => {
      const r = await call<R>('GET', `/api/v1/upgrades/rollouts/${start.body.id}`, undefined, TOKENS.viewer);
      return r.body.state !== 'running' ? r.body : undefined;
    }, 40_000, 200);
    assert.equal(ok.state, 'succeeded', JSON.stringify(ok));
    assert.deepEqual(ok.nodes.map((n) => [n.node, n.state, n.fromVersion]), [['n2', 'succeeded', '1.0.0'], ['n1', 'succeeded', '1.0.0']]);
    assert.deepEqual(events, ['n2:start:1.1.0', 'n2:done:1.1.0', 'n1:start:1.1.0', 'n1:done:1.1.0']);

    // A downgrade is refused without force (before any job is added).
    const down = await call<{ id: string }>('POST', '/api/v1/upgrades/rollouts', { version: '1.0.0', nodes: ['n1'], nodeTimeoutMs: 5000 });
    const downDone = await waitUntil('downgrade rollout finished', async () => {
      const r = await call<R>('GET', `/api/v1/upgrades/rollouts/${down.body.id}`);
      return r.body.state !== 'running' ? r.body : undefined;
    }, 15_000, 100);
    assert.equal(downDone.state, 'failed');
    assert.match(downDone.reason ?? '', /^n1: 1\.0\.0 is older than 1\.1\.0: downgrade refused without force/);

    events.length = 0;
    const bad = await call<{ id: string }>('POST', '/api/v1/upgrades/rollouts', { version: '1.2.0', nodes: ['n3', 'n1'], nodeTimeoutMs: 15_000 });
    assert.equal(bad.status, 202);
    const failed = await waitUntil('rollout 2 finished', async () => {
      const r = await call<R>('GET', `/api/v1/upgrades/rollouts/${bad.body.id}`);
      return r.body.state !== 'running' ? r.body : undefined;
    }, 40_000, 200);
    assert.equal(failed.state, 'failed');
    assert.match(failed.reason ?? '', /^n3: upgrade job failed: rolled-back: /);
    assert.deepEqual(failed.nodes.map((n) => [n.node, n.state]), [['n3', 'failed'], ['n1', 'pending']]);
    assert.equal(failed.nodes[1].jobId, null);
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(events, ['n3:start:1.2.0', 'n3:failed'], 'n1 never got the 1.2.0 job');
    assert.equal(versions.n1, '1.1.0');

    const all = await call<{ rollouts: Array<{ id: string }> }>('GET', '/api/v1/upgrades/rollouts');
    assert.deepEqual(all.body.rollouts.map((r) => r.id), [bad.body.id, down.body.id, start.body.id]);
  });
});
