// Issue 5 upgrade proofs with two real builds: install dirs made from this build's compiled output (version A),
// the same code with package.json version bumped (B), and a broken B' whose node main exits at once. Packages are
// tar.gz files with manifests signed by a test master key, served by a small HTTP server standing in for the
// master's download endpoint (node token checked). The node runs under `flowmesh up`'s Supervisor (run from A's
// install, nodes only) which restarts it from <installRoot>/current. Jobs go through the node's BullMQ queue.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Job, Queue } from 'bullmq';
import Redis from 'ioredis';
import {
  generateSigningKeyPair, nodeJobId, nodeJobOptions, NodeRegistryReader, nodeQueueName, packageDownloadPath, publicKeyPem, sha256Hex, SignedPackageManifest,
  signPackageManifest, UpgradeJobPayload,
} from '@flowmesh/config-sync';
import { freePort, Started, startProcess, startRedis, stopProcess, waitUntil } from '@flowmesh/testing';
import { freeUdpPort } from './control-plane.int-fixture';
import { installFirst, stage, tarGz } from './rollout-fixtures';

const A = '1.0.0';
const B = '1.1.0';
const BROKEN = '1.2.0';
const TOKEN = 'node-token-for-tests';

describe('control plane: side-by-side upgrades under the supervisor', { timeout: 170_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'cp-upgrade-'));
  const install = join(dir, 'install');
  const keys = generateSigningKeyPair();
  const packages = new Map<string, Buffer>();
  const manifests = new Map<string, SignedPackageManifest>();
  const served = new Map<string, Buffer>();
  let downloads = 0;
  let server: Server;
  let masterUrl = '';
  let redis: { url: string; proc: Started };
  let up: Started | undefined;
  let queue: Queue;
  let qconn: Redis;
  let reader: NodeRegistryReader;
  let httpPort = 0;
  let seq = 0;

  async function nodeVersion(): Promise<string | undefined> {
    const n = (await reader.list()).find((v) => v.id === 'node-1');
    return n && n.status === 'up' ? n.version : undefined;
  }

  async function runUpgrade(version: string, manifest: SignedPackageManifest, force = false): Promise<Job> {
    const payload: UpgradeJobPayload = { version, manifest, downloadPath: packageDownloadPath(version), healthDeadlineMs: 45_000, ...(force ? { force } : {}) };
    const job = await queue.add('upgrade', payload, { jobId: nodeJobId('node-1', 'upgrade', payload, String(++seq)), ...nodeJobOptions('upgrade') });
    await waitUntil(`upgrade job to ${version} finished`, async () => {
      const s = await queue.getJobState(job.id!);
      return s === 'completed' || s === 'failed';
    }, 120_000, 250);
    return (await Job.fromId(queue, job.id!))!;
  }

  before(async () => {
    // Packages A, B, B' from this build.
    for (const [v, broken] of [[A, false], [B, false], [BROKEN, true]] as const) {
      const d = join(dir, 'stage', v);
      stage(d, v, broken);
      const data = tarGz(d, join(dir, `flowmesh-${v}.tar.gz`));
      packages.set(v, data);
      served.set(v, data);
      manifests.set(v, signPackageManifest({ version: v, sha256: sha256Hex(data), size: data.length }, keys));
    }
    // A is installed by hand (what an installer does), `current` -> versions/1.0.0.
    installFirst(install, A, join(dir, `flowmesh-${A}.tar.gz`));
    const pub = join(dir, 'master.pub');
    writeFileSync(pub, publicKeyPem(keys.publicKey));

    server = createServer((req, res) => {
      const m = /^\/api\/v1\/upgrades\/packages\/([^/]+)\/download$/.exec(req.url ?? '');
      if (req.headers.authorization !== `Bearer ${TOKEN}`) return void res.writeHead(401).end();
      const body = m ? served.get(decodeURIComponent(m[1])) : undefined;
      if (!body) return void res.writeHead(404).end();
      downloads++;
      res.writeHead(200, { 'content-type': 'application/gzip', 'content-length': body.length }).end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    masterUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    redis = await startRedis();
    httpPort = await freePort();
    const [netflow, ipfix, sflow] = [await freeUdpPort(), await freeUdpPort(), await freeUdpPort()];
    up = startProcess(process.execPath, [
      join(install, 'current', 'bin', 'flowmesh.js'), 'up',
      '--set', 'nodes=1', '--set', 'master=false', '--set', `installRoot=${install}`,
      '--set', `redisUrl=${redis.url}`, '--set', 'redisMode=external', '--set', `dataDir=${join(dir, 'up')}`,
      '--set', `node.httpBase=${httpPort}`, '--set', `node.netflowBase=${netflow}`, '--set', `node.ipfixBase=${ipfix}`, '--set', `node.sflowBase=${sflow}`,
      '--set', 'node.listenAddress=127.0.0.1',
    ], {
      FLOWMESH_NODE_CONTROL_PLANE__MASTER_PUBLIC_KEY: pub,
      FLOWMESH_NODE_CONTROL_PLANE__MASTER_URL: masterUrl,
      FLOWMESH_NODE_CONTROL_PLANE__NODE_TOKEN: TOKEN,
      FLOWMESH_NODE_DECODE__WORKERS: '1',
      FLOWMESH_NODE_STORAGE__MEMORY_LIMIT_BYTES: '268435456',
      FLOWMESH_NODE_HEARTBEAT_MS: '500',
      FLOWMESH_LOG_LEVEL: 'warn',
    });
    reader = new NodeRegistryReader({ redisUrl: redis.url }, 2000);
    await reader.start();
    const upProc = up;
    await waitUntil('node-1 up on version A', async () => {
      if (upProc.child.exitCode !== null) throw new Error(`flowmesh up exited: ${upProc.output().slice(-2000)}`);
      return (await nodeVersion()) === A;
    }, 90_000);
    qconn = new Redis(redis.url, { maxRetriesPerRequest: null });
    queue = new Queue(nodeQueueName('node-1'), { connection: qconn });
  });

  after(async () => {
    await queue?.close();
    qconn?.disconnect();
    await reader?.stop();
    await stopProcess(up?.child, 'SIGTERM', 30_000);
    await stopProcess(redis?.proc.child);
    server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a tampered package (bytes or manifest) is refused and the node stays on A', async () => {
    served.set(B, Buffer.concat([packages.get(B)!.subarray(0, -1), Buffer.from([packages.get(B)!.at(-1)! ^ 1])]));
    const bytes = await runUpgrade(B, manifests.get(B)!);
    assert.match(bytes.failedReason ?? '', /^checksum: package: sha256 [0-9a-f]{64} differs from the manifest's/);
    served.set(B, packages.get(B)!);
    const forged = { ...manifests.get(B)!, sha256: sha256Hex(Buffer.from('evil')) };
    const d0 = downloads;
    const sig = await runUpgrade(B, forged);
    assert.match(sig.failedReason ?? '', /^signature: manifest: bad signature on version 1\.1\.0/);
    assert.equal(downloads, d0, 'nothing downloaded for a manifest with a bad signature');
    const foreign = signPackageManifest({ version: B, sha256: manifests.get(B)!.sha256, size: manifests.get(B)!.size }, generateSigningKeyPair());
    assert.match((await runUpgrade(B, foreign)).failedReason ?? '', /^signature: /);
    assert.equal(await nodeVersion(), A);
    assert.equal(readlinkSync(join(install, 'current')), join('versions', A));
  });

  test("A -> B' (exits at once) is rolled back to A and the job reports why", async () => {
    const job = await runUpgrade(BROKEN, manifests.get(BROKEN)!);
    assert.match(job.failedReason ?? '', /^rolled-back: version 1\.2\.0 exited \(code 3/);
    assert.equal(readlinkSync(join(install, 'current')), join('versions', A));
    await waitUntil('node-1 back on A', async () => (await nodeVersion()) === A, 30_000);
  });

  test('A -> B succeeds: the node restarts into B, passes health, heartbeats B', async () => {
    const before = (await reader.list()).find((v) => v.id === 'node-1')!.pid;
    const job = await runUpgrade(B, manifests.get(B)!);
    assert.equal(job.failedReason, undefined);
    assert.deepEqual(job.returnvalue, { status: 'upgraded', version: B, previousVersion: A });
    assert.equal(readlinkSync(join(install, 'current')), join('versions', B));
    await waitUntil('node-1 heartbeats B', async () => (await nodeVersion()) === B, 30_000);
    assert.notEqual((await reader.list()).find((v) => v.id === 'node-1')!.pid, before, 'a new process');
    const ready = await fetch(`http://127.0.0.1:${httpPort}/readyz`);
    assert.equal(ready.status, 200);
  });

  test('B -> A is refused as a downgrade (without force)', async () => {
    const job = await runUpgrade(A, manifests.get(A)!);
    assert.match(job.failedReason ?? '', /^downgrade: 1\.0\.0 is older than 1\.1\.0: downgrade refused without force/);
    assert.equal(await nodeVersion(), B);
  });
});
