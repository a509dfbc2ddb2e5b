/**
 * Issue 4 fault test (c): a UDP burst far above the node's capacity for 30 s -> the process stays up,
 * its RSS stays under its cap, and sent = stored + counted drops.
 *
 * Real processes: redis-server and the node on chDB with small, explicit memory bounds; the generator
 * sends NetFlow v5 unpaced from this process for 30 s. v5 because every data datagram carries exactly 30
 * records and there are no templates, so datagram drops convert to flows exactly. The sender is a worker
 * thread (burst-sender.ts) so this thread keeps sampling the node's RSS.
 *
 * Accounting (flows):  sent = stored + 30 × (kernel drops + application datagram drops) + application flow drops
 *   kernel drops  = flowmesh_collector_udp_kernel_drops_total (the node's reading of /proc/net/udp)
 *   app drops     = flowmesh_collector_ingest_dropped_packets_total / _flows_total (all reasons)
 * Tolerance: only datagrams the kernel dropped before any socket saw them — the per-CPU input backlog of
 * loopback delivery (net.core.netdev_max_backlog; /proc/net/softnet_stat column 2, host-wide, not per
 * socket): 30 × the softnet drops counted during the test.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startRedis, stopProcess, waitUntil } from '@flowmesh/testing';
import { Worker } from 'node:worker_threads';
import type { BurstInput, BurstResult } from './burst-sender';
import { metric, NodeProcess, sleep, softnetDrops, udpSocketStats } from './ingest-node';

const BURST_MS = 30_000;
const PER_PACKET = 30; // v5
/** The node's memory bound under this config: chDB engine cap 512 MiB + queues 3 × 16 MiB + spool memory 16 MiB + ~250 MiB runtime (V8, chDB library, worker threads). */
const RSS_CAP = 1024 ** 3;

describe('UDP burst far above capacity for 30 s (chDB)', () => {
  let dataDir: string;
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let node: NodeProcess;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'flowmesh-ingest-burst-'));
    redis = await startRedis();
    node = new NodeProcess({
      id: 'burst-node',
      dataDir,
      redisUrl: redis.url,
      sets: [
        'storage.memoryLimitBytes=536870912',
        'listeners.receiveBufferBytes=8388608',
        'spool.maxBytes=33554432',
        'spool.maxQueueBytes=16777216',
        'spool.maxMemoryBytes=16777216',
        'decode.maxQueuedBytesPerWorker=16777216',
      ],
    });
    await node.start();
  });

  after(async () => {
    await node?.stop('SIGKILL').catch(() => undefined);
    await stopProcess(redis?.proc.child, 'SIGTERM');
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  test('process up, RSS under its cap, sent = stored + counted drops', async () => {
    const sock0 = udpSocketStats(node.port);
    const softnet0 = softnetDrops();
    let maxRss = node.rss() ?? 0;
    let samples = 0;
    const sampler = setInterval(() => {
      const r = node.rss();
      if (r !== undefined) {
        maxRss = Math.max(maxRss, r);
        samples++;
      }
    }, 200);
    const t0 = performance.now();
    let sent: BurstResult;
    try {
      const input: BurstInput = {
        opts: { proto: 'v5', host: '127.0.0.1', port: node.port, records: 3_000_000_000 - (3_000_000_000 % PER_PACKET), rate: 0, seed: 3, perPacket: PER_PACKET },
        durationMs: BURST_MS,
      };
      const worker = new Worker(join(__dirname, 'burst-sender.js'), { workerData: input });
      const out = await new Promise<BurstResult | { error: string }>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      await worker.terminate();
      if ('error' in out) throw new Error(`burst sender: ${out.error}`);
      sent = out;
      assert.ok(node.alive(), 'node up right after the burst');
      // Drain: the spool empties into chDB, the socket queue is read, the stored count stops moving.
      process.stdout.write(`# burst sent ${sent.records} flows in ${sent.seconds} s\n`);
      let last = -1;
      let stableSince = 0;
      let lastLog = 0;
      await waitUntil(
        'the node to finish what it kept',
        async () => {
          const [n, m] = [await node.storedFlows(), await node.metrics()];
          if (performance.now() - lastLog > 5000) {
            lastLog = performance.now();
            process.stdout.write(`# draining: stored ${n}, spool entries ${metric(m, 'flowmesh_collector_spool_entries')}, rx queue ${udpSocketStats(node.port).rxQueue}, rss ${Math.round((node.rss() ?? 0) / 1024 ** 2)} MiB\n`);
          }
          const idle = n === last && metric(m, 'flowmesh_collector_spool_entries') === 0 && udpSocketStats(node.port).rxQueue === 0;
          last = n;
          if (!idle) stableSince = 0;
          else if (!stableSince) stableSince = performance.now();
          return idle && performance.now() - stableSince > 1500;
        },
        120_000,
        250,
      );
    } finally {
      clearInterval(sampler);
    }
    const elapsedS = (performance.now() - t0) / 1000;
    assert.ok(node.alive(), `node up after the burst: ${node.output().slice(-2000)}`);
    assert.ok(samples > 50, 'RSS was sampled through the burst');

    const m = await node.metrics();
    const stored = await node.storedFlows();
    const kernel = metric(m, 'flowmesh_collector_udp_kernel_drops_total');
    const appPackets = metric(m, 'flowmesh_collector_ingest_dropped_packets_total');
    const appFlows = metric(m, 'flowmesh_collector_ingest_dropped_flows_total');
    const decodeErrors = metric(m, 'flowmesh_collector_decode_errors_total') ?? 0;
    assert.ok(kernel !== undefined && appPackets !== undefined && appFlows !== undefined, 'drop metrics exported');
    const sock1 = udpSocketStats(node.port);
    const softnet = softnetDrops() - softnet0;
    const accounted = stored + PER_PACKET * (kernel + appPackets) + appFlows;
    const offered = sent.records / sent.seconds;
    const capacity = stored / elapsedS;
    const report = {
      sent: sent.records, datagrams: sent.datagrams, seconds: sent.seconds, offeredPerS: Math.round(offered),
      stored, storedPerS: Math.round(capacity), overload: +(offered / capacity).toFixed(1),
      kernelDropDatagrams: kernel, procNetUdpDrops: sock1.drops - sock0.drops, appDroppedDatagrams: appPackets, appDroppedFlows: appFlows,
      decodeErrors, softnetDrops: softnet, unaccounted: sent.records - accounted, maxRssMiB: Math.round(maxRss / 1024 ** 2),
    };
    process.stdout.write(`# burst: ${JSON.stringify(report)}\n`);

    assert.ok(maxRss < RSS_CAP, `max RSS ${report.maxRssMiB} MiB < cap ${RSS_CAP / 1024 ** 2} MiB`);
    assert.ok(kernel + appPackets + appFlows > 0, 'the burst was above capacity: something was dropped and counted');
    assert.ok(offered > 3 * capacity, `offered ${report.offeredPerS}/s vs stored ${report.storedPerS}/s`);
    assert.equal(decodeErrors, 0, 'nothing malformed was sent');
    assert.equal(kernel, sock1.drops - sock0.drops, 'the node reports the kernel drops of its socket');
    const gap = sent.records - accounted;
    assert.ok(gap >= 0 && gap <= PER_PACKET * softnet, `sent ${sent.records} = stored ${stored} + counted drops ${accounted - stored} (+ at most ${PER_PACKET * softnet} in softnet backlog drops); gap ${gap}`);
    await sleep(100);
    assert.equal(await node.stop('SIGTERM'), 0, 'clean exit after the burst');
  });
});
