// Issue 5: the rolling upgrade end to end with REAL pieces only — a redis-server, the real master process (auth on,
// admin token and node token configured by sha256) and a real collector node supervised by `flowmesh up` from an
// install of version A. Packages A, B (1.1.0) and a broken B' (1.2.0, node main exits at once) are uploaded to the
// master, which signs them; rollouts are started through the master's API and the node downloads from the master
// with its node token, verifying the manifest against the master's public key (GET /api/v1/config/public-key).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, Started, startProcess, startRedis, stopProcess, waitUntil } from '@flowmesh/testing';
import { freeUdpPort } from './control-plane.int-fixture';
import { installFirst, stage, tarGz } from './rollout-fixtures';

const A = '1.0.0';
const B = '1.1.0';
const BROKEN = '1.2.0';
const NODE = 'node-1';
const TOKENS = { admin: 'rollout-admin-secret', node: 'rollout-node-secret' };
const sha = (t: string) => createHash('sha256').update(t).digest('hex');

interface NodeRow {
  id: string;
  version: string;
  status: 'up' | 'down';
  ready: boolean;
  pid: number;
}
interface RolloutRow {
  id: string;
  state: string;
  reason: string | null;
  nodes: { node: string; state: string; reason: string | null }[];
}

describe('rolling upgrade end to end: real master + real supervised node', { timeout: 170_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'cp-rollout-e2e-'));
  const install = join(dir, 'install');
  const tarballs = new Map<string, string>();
  let redis: { url: string; proc: Started } | undefined;
  let master: Started | undefined;
  let up: Started | undefined;
  let base = '';
  let nodeHttp = 0;

  async function call<T>(method: string, path: string, body?: unknown, token = TOKENS.admin): Promise<{ status: number; body: T }> {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    let payload: RequestInit['body'];
    if (Buffer.isBuffer(body)) {
      payload = new Uint8Array(body);
      headers['content-type'] = 'application/gzip';
    } else if (body !== undefined) {
      payload = JSON.stringify(body);
      headers['content-type'] = 'application/json';
    }
    const res = await fetch(base + path, { method, headers, body: payload, signal: AbortSignal.timeout(20_000) });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    return { status: res.status, body: parsed as T };
  }

  async function node(): Promise<NodeRow | undefined> {
    const res = await call<{ nodes: NodeRow[] }>('GET', '/api/v1/nodes');
    return res.body.nodes?.find((n) => n.id === NODE);
  }

  function alive(): void {
    if (master && master.child.exitCode !== null) throw new Error(`master exited: ${master.output().slice(-3000)}`);
    if (up && up.child.exitCode !== null) throw new Error(`flowmesh up exited: ${up.output().slice(-3000)}`);
  }

  async function nodeUpOn(version: string): Promise<void> {
    await waitUntil(`${NODE} up and ready on ${version}`, async () => {
      alive();
      const n = await node();
      return n?.status === 'up' && n.ready && n.version === version;
    }, 60_000, 250);
  }

  /** Starts a rollout through the master's API and waits until it is no longer running. */
  async function rollout(version: string): Promise<RolloutRow> {
    const res = await call<RolloutRow>('POST', '/api/v1/upgrades/rollouts', { version, nodeTimeoutMs: 90_000 });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    let last: RolloutRow = res.body;
    await waitUntil(`rollout to ${version} finished`, async () => {
      alive();
      last = (await call<RolloutRow>('GET', `/api/v1/upgrades/rollouts/${res.body.id}`)).body;
      return last.state !== 'running';
    }, 120_000, 250);
    return last;
  }

  before(async () => {
    for (const [v, broken] of [[A, false], [B, false], [BROKEN, true]] as const) {
      stage(join(dir, 'stage', v), v, broken);
      const out = join(dir, `flowmesh-${v}.tar.gz`);
      tarGz(join(dir, 'stage', v), out);
      tarballs.set(v, out);
    }
    installFirst(install, A, tarballs.get(A)!);
    redis = await startRedis();

    // The real master, from install A's entry point (bin/flowmesh.js master …).
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const configFile = join(dir, 'master.json');
    writeFileSync(configFile, JSON.stringify({
      auth: {
        enabled: true,
        tokens: [{ name: 'admin', role: 'admin', sha256: sha(TOKENS.admin) }],
        nodeTokens: [{ node: NODE, sha256: sha(TOKENS.node) }],
      },
      upgrades: { pollMs: 200 },
    }));
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FLOWMESH_') && k !== 'REDIS_URL'));
    master = startProcess(process.execPath, [
      join(install, 'versions', A, 'bin', 'flowmesh.js'), 'master', '--config', configFile,
      '--set', 'http.host=127.0.0.1', '--set', `http.port=${port}`, '--set', `dataDir=${join(dir, 'master-data')}`, '--set', `redis.url=${redis.url}`,
    ], { ...env, FLOWMESH_LOG_LEVEL: 'warn' });
    await waitUntil('master /readyz', async () => {
      alive();
      return (await fetch(base + '/readyz').catch(() => null))?.status === 200;
    }, 30_000, 100);

    // The node trusts the master's key as served to nodes.
    const key = await call<{ publicKey: string }>('GET', '/api/v1/config/public-key', undefined, TOKENS.node);
    assert.equal(key.status, 200, JSON.stringify(key.body));
    const pub = join(dir, 'master.pub');
    writeFileSync(pub, key.body.publicKey);

    nodeHttp = await freePort();
    const [netflow, ipfix, sflow] = [await freeUdpPort(), await freeUdpPort(), await freeUdpPort()];
    up = startProcess(process.execPath, [
      join(install, 'current', 'bin', 'flowmesh.js'), 'up',
      '--set', 'nodes=1', '--set', 'master=false', '--set', `installRoot=${install}`,
      '--set', `redisUrl=${redis.url}`, '--set', 'redisMode=external', '--set', `dataDir=${join(dir, 'up')}`,
      '--set', `node.httpBase=${nodeHttp}`, '--set', `node.netflowBase=${netflow}`, '--set', `node.ipfixBase=${ipfix}`, '--set', `node.sflowBase=${sflow}`,
      '--set', 'node.listenAddress=127.0.0.1',
    ], {
      ...env,
      FLOWMESH_NODE_CONTROL_PLANE__MASTER_PUBLIC_KEY: pub,
      FLOWMESH_NODE_CONTROL_PLANE__MASTER_URL: base,
      FLOWMESH_NODE_CONTROL_PLANE__NODE_TOKEN: TOKENS.node,
      FLOWMESH_NODE_DECODE__WORKERS: '1',
      FLOWMESH_NODE_STORAGE__MEMORY_LIMIT_BYTES: '268435456',
      FLOWMESH_NODE_HEARTBEAT_MS: '500',
      FLOWMESH_LOG_LEVEL: 'warn',
    });
    await nodeUpOn(A);

    for (const v of [A, B, BROKEN]) {
      const res = await call<{ version: string; sha256: string }>('POST', `/api/v1/upgrades/packages?version=${v}`, readFileSync(tarballs.get(v)!));
      assert.equal(res.status, 201, `upload ${v}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.version, v);
    }
  });

  after(async () => {
    await stopProcess(up?.child, 'SIGTERM', 30_000);
    await stopProcess(master?.child, 'SIGTERM', 15_000);
    await stopProcess(redis?.proc.child, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  test('rollout to 1.1.0 succeeds: the node downloads from the master, restarts into B, heartbeats B, /readyz 200', async () => {
    const pidBefore = (await node())!.pid;
    const r = await rollout(B);
    assert.equal(r.state, 'succeeded', `rollout: ${JSON.stringify(r)}`);
    assert.deepEqual(r.nodes.map((n) => [n.node, n.state]), [[NODE, 'succeeded']]);
    const n = (await node())!;
    assert.equal(n.status, 'up');
    assert.equal(n.version, B);
    assert.notEqual(n.pid, pidBefore, 'a new node process');
    assert.equal(readlinkSync(join(install, 'current')), join('versions', B));
    assert.equal((await fetch(`http://127.0.0.1:${nodeHttp}/readyz`)).status, 200);
  });

  test("rollout to 1.2.0 (exits at once) fails: the node rolls back to 1.1.0 and the rollout names it", async (t) => {
    const r = await rollout(BROKEN);
    t.diagnostic(`rollout reason: ${r.reason}`);
    assert.equal(r.state, 'failed', `rollout: ${JSON.stringify(r)}`);
    assert.match(r.reason ?? '', /^node-1: .*rolled-back: version 1\.2\.0 exited \(code 3/);
    assert.equal(readlinkSync(join(install, 'current')), join('versions', B));
    await nodeUpOn(B);
    assert.equal((await fetch(`http://127.0.0.1:${nodeHttp}/readyz`)).status, 200);
  });

  test('rollout to 1.0.0 without force is refused as a downgrade; the node stays on 1.1.0', async (t) => {
    const r = await rollout(A);
    t.diagnostic(`rollout reason: ${r.reason}`);
    assert.equal(r.state, 'failed', `rollout: ${JSON.stringify(r)}`);
    assert.match(r.reason ?? '', /^node-1: .*1\.0\.0 is older than 1\.1\.0/);
    const n = (await node())!;
    assert.equal(n.version, B);
    assert.equal(n.status, 'up');
    assert.equal(readlinkSync(join(install, 'current')), join('versions', B));
  });
});
