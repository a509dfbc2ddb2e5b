// Issue 5 proofs with real Redis and three real collector-node processes (`flowmesh node`, own data dirs).
// The test writes desired state with ConfigStore (the master's writer) and reads the nodes' acks, /readyz and
// /metrics. Run: node --test tmp/build-<name>/tests/control-plane/config-sync-nodes.int-spec.js
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, Socket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Job, Queue } from 'bullmq';
import Redis from 'ioredis';
import { ConfigError } from '@flowmesh/common';
import { ConfigStore, generateSigningKeyPair, nodeJobId, nodeJobOptions, NodeJobType, nodeQueueName, publicKeyPem, TEMPLATE_KEYS } from '@flowmesh/config-sync';
import { FlowBatch, FlowDecoder, readCaptureUdp } from '@flowmesh/flow-decoder';
import { repoRoot, waitUntil } from '@flowmesh/testing';
import { acks, hasV9Template, metric, NodeProc, nodeSpec, persistentRedis, PersistentRedis, readyz, sendUdp, sendUdpPayload, startNode, stopNode } from './control-plane.int-fixture';

describe('control plane: config reaches three node processes', { timeout: 150_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'cp-nodes-'));
  const keys = generateSigningKeyPair();
  const pubFile = join(dir, 'master.pub');
  writeFileSync(pubFile, publicKeyPem(keys.publicKey));
  let redis: PersistentRedis;
  let store: ConfigStore;
  let r: Redis;
  const nodes: NodeProc[] = [];

  /** Every node in `ids` acked `applied` at exactly the store's desired revision and hash for it. */
  async function converged(ids: string[], timeoutMs = 20_000): Promise<void> {
    await waitUntil(`${ids.join(', ')} applied the desired config`, async () => {
      const a = await acks(r);
      for (const id of ids) {
        const want = await store.desiredFor(id, 'dc1');
        const got = a[id];
        if (!got || got.status !== 'applied' || got.appliedRevision !== want.revision || got.appliedHash !== want.hash) return false;
      }
      return true;
    }, timeoutMs, 100);
  }

  before(async () => {
    writeFileSync(pubFile, publicKeyPem(keys.publicKey));
    redis = await persistentRedis(join(dir, 'redis'));
    store = new ConfigStore({ redisUrl: redis.url }, keys);
    await store.start();
    r = new Redis(redis.url, { maxRetriesPerRequest: 1, retryStrategy: () => 100 });
    r.on('error', () => undefined);
    for (const id of ['n1', 'n2', 'n3']) {
      nodes.push(await nodeSpec(id, join(dir, 'data'), redis.url, ['--set', 'group=dc1', '--set', `controlPlane.masterPublicKey=${pubFile}`]));
    }
    await Promise.all(nodes.map((n) => startNode(n)));
  });

  after(async () => {
    await Promise.all(nodes.map((n) => stopNode(n)));
    r?.disconnect();
    await store?.stop();
    await redis?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  test('a change reaches every node and is acked with revision and hash; /readyz and metrics show it', async () => {
    const put = await store.put('global', { profiles: [{ name: 'dmz', channels: [{ name: 'web', filter: 'port 80' }] }] }, { author: 'test' });
    await converged(['n1', 'n2', 'n3']);
    for (const n of nodes) {
      const h = await readyz(n);
      assert.equal(h.components.config.appliedRevision, put.revision, JSON.stringify(h.components.config));
      assert.equal(h.components.config.appliedHash, (await store.desiredFor(n.id, 'dc1')).hash);
      assert.equal(await metric(n, 'flowmesh_collector_config_applied_revision'), put.revision);
    }
    const grp = await store.put('group:dc1', { alertRules: [{ name: 'big', metric: 'bytes', threshold: 1e9, windowSeconds: 60, severity: 'warning' }] }, { author: 'test' });
    await converged(['n1', 'n2', 'n3']);
    assert.equal((await acks(r)).n2.appliedRevision, grp.revision);
  });

  test('an invalid change is refused by the store with a clear error and never reaches a node', async () => {
    const before = await acks(r);
    const revision = await store.revision();
    await assert.rejects(
      store.put('global', { listeners: { netflow: { prot: 1 } }, exporters: [{ address: 'x' }] }, { author: 'test' }),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.ok(e.problems.includes('listeners.netflow.prot: unknown key'), e.problems.join('\n'));
        assert.ok(e.problems.some((p) => p.startsWith('exporters[0].address: must be an IP address or CIDR')), e.problems.join('\n'));
        return true;
      },
    );
    assert.equal(await store.revision(), revision, 'nothing stored');
    await new Promise((res) => setTimeout(res, 1500)); // three poll rounds
    const now = await acks(r);
    for (const id of ['n1', 'n2', 'n3']) {
      assert.equal(now[id].desiredRevision, before[id].desiredRevision);
      assert.equal(now[id].appliedHash, before[id].appliedHash);
    }
  });

  test('a node down during two changes converges when it returns', async () => {
    const n3 = nodes[2];
    await stopNode(n3);
    await store.put('global', { profiles: [{ name: 'voip', channels: [{ name: 'sip', filter: 'port 5060' }] }] }, { author: 'test' });
    await store.put('node:n3', { reports: [{ name: 'daily', schedule: '@daily', query: { by: 'src_addr' }, format: 'csv' }] }, { author: 'test' });
    await converged(['n1', 'n2']);
    const stale = (await acks(r)).n3;
    assert.ok(stale.appliedRevision < (await store.revision()), 'n3 was down');
    await startNode(n3);
    await converged(['n1', 'n2', 'n3']);
  });

  test('redis-server SIGKILLed right after a change and restarted: every node converges', async () => {
    await store.put('group:dc1', { profiles: [{ name: 'mail', channels: [{ name: 'smtp', filter: 'port 25' }] }] }, { author: 'test' });
    await redis.kill('SIGKILL');
    await new Promise((res) => setTimeout(res, 1000));
    // The nodes keep running on their applied config meanwhile.
    for (const n of nodes) {
      const c = (await readyz(n)).components.config;
      assert.equal(c.connected, false);
      assert.ok((c.appliedRevision as number) > 0, 'still on its applied config');
    }
    await redis.start();
    await converged(['n1', 'n2', 'n3'], 30_000);
    await store.put('global', { profiles: [{ name: 'after', channels: [{ name: 'all', filter: 'any' }] }] }, { author: 'test' });
    await converged(['n1', 'n2', 'n3']);
  });

  test('a node that cannot apply (listener port taken) reports why and keeps its old config, still receiving on the old port', async () => {
    const n2 = nodes[1];
    const taken: Socket = createSocket('udp4');
    await new Promise<void>((res) => taken.bind(0, '127.0.0.1', () => res()));
    const port = taken.address().port;
    try {
      const applied = (await acks(r)).n2;
      const put = await store.put('node:n2', { listeners: { netflow: { port } }, profiles: [{ name: 'only-n2', channels: [{ name: 'x', filter: 'any' }] }] }, { author: 'test' });
      const ack = await waitUntil('n2 failed ack', async () => {
        const a = (await acks(r)).n2;
        return a.status === 'failed' && a.desiredRevision === put.revision ? a : undefined;
      }, 20_000, 100);
      assert.equal(ack.reason, 'apply');
      assert.match(ack.detail ?? '', new RegExp(`listeners.netflow: cannot bind udp 127.0.0.1:${port}: address already in use`));
      assert.equal(ack.appliedRevision, applied.appliedRevision, 'old config kept');
      assert.equal(ack.appliedHash, applied.appliedHash);
      assert.equal((await readyz(n2)).components.config.status, 'warning');
      assert.ok(((await metric(n2, 'flowmesh_collector_config_apply_failures_total', '{reason="apply"}')) ?? 0) >= 1);
      const before = (await metric(n2, 'flowmesh_collector_udp_packets_received_total', '{listener="netflow"}')) ?? 0;
      await sendUdp(n2.netflow, 5);
      await waitUntil('n2 still receives on its old port', async () => ((await metric(n2, 'flowmesh_collector_udp_packets_received_total', '{listener="netflow"}')) ?? 0) >= before + 5, 5000, 100);
      await converged(['n1', 'n3']);
      // Freeing the port and re-saving the change lets n2 apply it: it then receives on the new port.
      await new Promise<void>((res) => taken.close(() => res()));
      await store.put('node:n2', { listeners: { netflow: { port } } }, { author: 'test' });
      await converged(['n1', 'n2', 'n3']);
      const b2 = (await metric(n2, 'flowmesh_collector_udp_packets_received_total', '{listener="netflow"}')) ?? 0;
      await sendUdp(port, 3);
      await waitUntil('n2 receives on the new port', async () => ((await metric(n2, 'flowmesh_collector_udp_packets_received_total', '{listener="netflow"}')) ?? 0) >= b2 + 3, 5000, 100);
    } finally {
      try {
        taken.close();
      } catch {
        /* closed */
      }
    }
  });

  test('jobs on a node queue: reload, flush and run-report-part complete; an invalid payload fails at once without retries', async () => {
    const conn = new Redis(redis.url, { maxRetriesPerRequest: null });
    const queue = new Queue(nodeQueueName('n1'), { connection: conn });
    try {
      const run = async (type: NodeJobType, payload: object): Promise<Job> => {
        const job = await queue.add(type, payload, { jobId: nodeJobId('n1', type, payload, String(Date.now())), ...nodeJobOptions(type, 3, 200) });
        await waitUntil(`${type} job done`, async () => ['completed', 'failed'].includes(await queue.getJobState(job.id!)), 20_000, 100);
        return (await Job.fromId(queue, job.id!))!;
      };
      const reload = await run('reload', { reason: 'test' });
      assert.equal(reload.failedReason, undefined);
      assert.deepEqual(reload.returnvalue, { appliedRevision: (await acks(r)).n1.appliedRevision, appliedHash: (await acks(r)).n1.appliedHash });
      const flush = await run('flush', {});
      assert.equal(flush.failedReason, undefined);
      assert.equal(typeof (flush.returnvalue as { pendingEntries: number }).pendingEntries, 'number');
      const part = await run('run-report-part', { report: 'daily', runId: 'run-1', from: 0, to: Date.now() + 60_000, query: { by: 'protocol' } });
      assert.equal(part.failedReason, undefined, part.failedReason);
      assert.equal((part.returnvalue as { node: string }).node, 'n1');
      assert.ok(Array.isArray((part.returnvalue as { groups: unknown[] }).groups));
      const bad = await run('run-report-part', { report: 'daily', runId: 'run-2', from: 10, to: 5, query: {} });
      assert.equal(bad.failedReason, 'invalid job: payload.from: must be before to (got 10 >= 5)');
      assert.equal(bad.attemptsMade, 1, 'not retried');
    } finally {
      await queue.close();
      conn.disconnect();
    }
  });

  test("an exporter that moves to another node decodes there at once (templates shared through Redis)", async () => {
    const [n1, , n3] = nodes;
    const datagrams = [...readCaptureUdp(readFileSync(join(repoRoot, 'libs', 'flow-decoder', 'testdata', 'softflowd-v9.pcapng')))].map((d) => d.payload);
    const dataOnly = datagrams.filter((p) => !hasV9Template(p));
    assert.ok(dataOnly.length > 0 && dataOnly.length < datagrams.length);
    // What a decoder that has the templates makes of the data-only datagrams.
    const reference = new FlowDecoder();
    let expected = 0;
    for (const p of datagrams) {
      const n = reference.decode(p, '127.0.0.1', Date.now(), new FlowBatch(65536)).records;
      if (!hasV9Template(p)) expected += n;
    }
    assert.ok(expected > 0);
    const v9 = '{protocol="netflow_v9"}';
    const n3Before = (await metric(n3, 'flowmesh_collector_decode_flows_total', v9)) ?? 0;
    for (const p of datagrams) await sendUdpPayload(n1.netflow, p);
    await waitUntil('n1 shared the exporter templates', async () => (await r.hlen(TEMPLATE_KEYS.exporter('127.0.0.1'))) > 0, 15_000, 100);
    await waitUntil('n3 imported them', async () => ((await metric(n3, 'flowmesh_collector_templates_imported_total', '{trigger="update"}')) ?? 0) >= 1, 10_000, 100);
    // The exporter "fails over" to n3, which has never received a template datagram from it.
    for (const p of dataOnly) await sendUdpPayload(n3.netflow, p);
    await waitUntil('n3 decoded every record', async () => ((await metric(n3, 'flowmesh_collector_decode_flows_total', v9)) ?? 0) - n3Before === expected, 10_000, 100);
  });

  test('an exporter rule from the master (allow: false) reaches the pipeline of every node', async () => {
    const drops = async (n: NodeProc) => (await metric(n, 'flowmesh_collector_ingest_dropped_packets_total', '{reason="not_allowed"}')) ?? 0;
    const before = await Promise.all(nodes.map(drops));
    await store.put('global', { exporters: [{ address: '127.0.0.1/32', name: 'lab', allow: false }] }, { author: 'test' });
    await converged(['n1', 'n2', 'n3']);
    await sendUdp(nodes[0].netflow, 1);
    await sendUdp(nodes[2].netflow, 1);
    await waitUntil('every node dropped the denied exporter', async () => {
      const now = await Promise.all(nodes.map(drops));
      return now[0] > before[0] && now[2] > before[2];
    }, 10_000, 100);
    await store.put('global', {}, { author: 'test' });
    await converged(['n1', 'n2', 'n3']);
  });
});
