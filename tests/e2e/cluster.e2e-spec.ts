/**
 * The whole path, as separate OS processes: `flowmesh up` (a master and two collector nodes, embedded chDB,
 * a private Redis), a real exporter (softflowd reading a pcap made here) sending NetFlow v9 to node-1,
 * `flowmesh gen` sending NetFlow v5 to node-2, and the master's federated totals checked against what was sent.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  flowmeshBin, freePortRange, GiveUp, getJson, pidsWithArg, postJson, sampleTraffic, startProcess, startRedis, Started, stopProcess, truth, waitUntil, writePcap,
} from '@flowmesh/testing';

const run = promisify(execFile);

interface Totals { bytes: number; packets: number; flows: number }
interface QueryResponse { totals: Totals; top: ({ key: string } & Totals)[]; other: Totals; partial: boolean; nodes: { id: string; status: string }[] }
interface NodeRow { id: string; status: string; version: string; listeners: { protocol: string; port: number }[]; apiUrl: string; lastHeartbeat: string | null }
interface GenSummary { records: number; packets: number; bytes: number; packets_field: number }

describe('cluster end to end: softflowd + flowmesh gen -> 2 nodes -> master', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flowmesh-e2e-'));
  const dataDir = join(dir, 'data');
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let up: Started | undefined;
  let base: number;
  let api: string;
  const ports = () => ({ master: base, node1Http: base + 1, node2Http: base + 2, nf1: base + 3, nf2: base + 4, ipfix: base + 5, sflow: base + 7 });

  const startUp = async () => {
    const p = ports();
    up = startProcess(process.execPath, [
      flowmeshBin, 'up',
      '--set', 'nodes=2', '--set', `dataDir=${dataDir}`, '--set', `redisUrl=${redis.url}`,
      '--set', `masterPort=${p.master}`, '--set', 'masterHost=127.0.0.1',
      '--set', `node.httpBase=${p.node1Http}`, '--set', `node.netflowBase=${p.nf1}`, '--set', `node.ipfixBase=${p.ipfix}`,
      '--set', `node.sflowBase=${p.sflow}`, '--set', 'node.listenAddress=127.0.0.1',
    ]);
    const proc = up;
    await waitUntil('flowmesh up to report the cluster up', async () => {
      if (proc.child.exitCode !== null) throw new GiveUp(`flowmesh up exited with code ${proc.child.exitCode}`);
      return proc.output().includes('Flowmesh is up');
    }, 120_000, 200).catch((e: Error) => {
      throw new Error(`${e.message}\n--- up output ---\n${up!.output()}`);
    });
  };

  const query = async (body: Record<string, unknown>) => {
    const res = await postJson<QueryResponse>(`${api}/query`, body);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body;
  };

  before(async () => {
    redis = await startRedis();
    base = await freePortRange(9);
    api = `http://127.0.0.1:${ports().master}/api/v1`;
    await startUp();
  });

  after(async () => {
    await stopProcess(up?.child, 'SIGINT');
    await stopProcess(redis?.proc.child);
    rmSync(dir, { recursive: true, force: true });
  });

  const packets = sampleTraffic();
  const expectedSoftflowd = truth(packets);
  let gen: GenSummary;

  test('the master lists both nodes up, with their ports and version', async () => {
    const { status, body: list } = await getJson<{ nodes: NodeRow[] }>(`${api}/nodes`);
    assert.equal(status, 200);
    const body = list.nodes;
    assert.deepEqual(body.map((n) => [n.id, n.status]).sort(), [['node-1', 'up'], ['node-2', 'up']]);
    const n1 = body.find((n) => n.id === 'node-1')!;
    assert.ok(n1.listeners.some((l) => l.port === ports().nf1), JSON.stringify(n1.listeners));
    assert.match(n1.version, /^\d+\.\d+\.\d+/);
    assert.ok(n1.lastHeartbeat && Date.now() - Date.parse(n1.lastHeartbeat) < 10_000);
  });

  test('flows from softflowd (v9) and flowmesh gen (v5) are stored, and the merged totals equal what was sent', async () => {
    const pcap = join(dir, 'traffic.pcap');
    writeFileSync(pcap, writePcap(packets));
    // softflowd reads the capture, builds flows itself and exports them all at the end of the file.
    await run('softflowd', ['-r', pcap, '-n', `127.0.0.1:${ports().nf1}`, '-v', '9', '-d', '-D'], { timeout: 30_000 });
    const g = await run(process.execPath, [flowmeshBin, 'gen', '--proto', 'v5', '--host', '127.0.0.1', '--port', String(ports().nf2), '--records', '20000', '--rate', '20000', '--seed', '7'], { timeout: 60_000 });
    gen = JSON.parse(g.stdout.trim().split('\n').pop()!) as GenSummary;
    assert.equal(gen.records, 20000);

    const want: Totals = {
      bytes: expectedSoftflowd.bytes + gen.bytes,
      packets: expectedSoftflowd.packets + gen.packets_field,
      flows: expectedSoftflowd.flows + gen.records,
    };
    const res = await waitUntil('all flows to be queryable', async () => {
      const r = await query({ from: '-1h', by: 'src_addr', top: 5 });
      return r.totals.flows >= want.flows ? r : undefined;
    }, 30_000, 500);
    assert.deepEqual(res.totals, want);
    assert.equal(res.partial, false);
    assert.deepEqual(res.nodes.map((n) => [n.id, n.status]).sort(), [['node-1', 'ok'], ['node-2', 'ok']]);
    // Each node's heartbeat says what it lost (nothing here) and that its spool drained.
    const drained = await waitUntil('heartbeats with an empty spool', async () => {
      const { body } = await getJson<{ nodes: (NodeRow & { totals: { storedRows: number } | null; loss: Record<string, number> | null })[] }>(`${api}/nodes`);
      const stored = body.nodes.reduce((n, x) => n + (x.totals?.storedRows ?? 0), 0);
      return stored >= want.flows && body.nodes.every((x) => x.loss?.spoolBytes === 0) ? body.nodes : undefined;
    }, 30_000, 500);
    for (const n of drained) assert.deepEqual(n.loss, { droppedPackets: 0, droppedFlows: 0, kernelDrops: 0, spoolBytes: 0, spoolAgeSeconds: 0 }, n.id);
    // top + other add up to the totals
    const sum = res.top.reduce((a, r) => a + r.bytes, 0) + res.other.bytes;
    assert.equal(sum, want.bytes);
  });

  test('per-source answer over node-1 alone matches the capture exactly (softflowd counts IP bytes)', async () => {
    const res = await query({ from: '-1h', by: 'src_addr', top: 10, nodes: ['node-1'] });
    const got = Object.fromEntries(res.top.map((r) => [r.key, { bytes: r.bytes, packets: r.packets, flows: r.flows }]));
    assert.deepEqual(got, Object.fromEntries(expectedSoftflowd.bySrc));
    const byPort = await query({ from: '-1h', by: 'dst_port', top: 3, nodes: ['node-1'] });
    assert.deepEqual(byPort.top.map((r) => r.key).sort(), ['22', '443', '53']);
  });

  test('a malformed datagram is counted by reason and the node keeps serving', async () => {
    const { createSocket } = await import('node:dgram');
    const s = createSocket('udp4');
    await new Promise<void>((resolve, reject) => s.send(Buffer.from([0, 9, 0, 1, 2, 3]), ports().nf1, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
    s.close();
    const metrics = await waitUntil('decode error metric', async () => {
      const text = await (await fetch(`http://127.0.0.1:${ports().node1Http}/metrics`)).text();
      return /flowmesh_collector_\w*decode\w*errors_total\{[^}]*\} [1-9]/.test(text) ? text : undefined;
    }, 10_000);
    assert.match(metrics, /reason="/);
    const res = await getJson<{ nodes: NodeRow[] }>(`${api}/nodes`);
    assert.ok(res.body.nodes.every((n) => n.status === 'up'));
  });

  test('Ctrl-C stops every process, and the data survives a restart', async () => {
    const before = await query({ from: '-1h', by: 'src_addr', top: 5 });
    assert.ok(pidsWithArg(dataDir).length >= 3, 'master and nodes run with the data dir in their arguments');
    const code = await stopProcess(up?.child, 'SIGINT', 30_000);
    assert.equal(code, 0, up?.output());
    await waitUntil('every child to exit', async () => pidsWithArg(dataDir).length === 0, 15_000);
    await startUp();
    await waitUntil('both nodes up again', async () => {
      const { body } = await getJson<{ nodes: NodeRow[] }>(`${api}/nodes`);
      return body.nodes.filter((n) => n.status === 'up').length === 2;
    }, 30_000);
    const again = await query({ from: '-1h', by: 'src_addr', top: 5 });
    assert.deepEqual(again.totals, before.totals);
    assert.deepEqual(again.top, before.top);
  });
});
