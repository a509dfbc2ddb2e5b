// Change-to-all-acked latency of the desired-state transport: one master store, N ConfigAgents spread over P
// processes, C changes one after the other. Latency = from calling put() until every node has acked the new revision.
//   node dist/benchmarks/config-sync/config-sync.bench.js [--nodes 100] [--procs 4] [--changes 60] [--exporters 50]
import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Redis from 'ioredis';
import { CONFIG_KEYS, ConfigAck, ConfigSpec, ConfigStore, generateSigningKeyPair, publicKeyPem } from '@flowmesh/config-sync';
import { startProcess, startRedis, Started, stopProcess, waitUntil } from '@flowmesh/testing';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}

function spec(change: number, exporters: number): ConfigSpec {
  return {
    exporters: Array.from({ length: exporters }, (_, i) => ({
      address: `10.${i >> 8}.${i & 255}.1`, name: `router-${i}`, interfaces: { '1': 'ge-0/0/0', '2': 'ge-0/0/1' }, samplingRate: i % 3 ? 100 : undefined,
    })).map((e) => JSON.parse(JSON.stringify(e)) as { address: string }),
    listeners: { netflow: { enabled: true, port: 2055 }, ipfix: { enabled: true, port: 4739 }, receiveBufferBytes: 16 << 20 },
    storage: { engine: 'chdb', database: 'flows', batchRows: 10_000 + change, retention: { rawDays: 7, minuteDays: 30, hourDays: 365 } },
    profiles: ['DMZ', 'VoIP', 'Mail', 'Web'].map((name, i) => ({ name, channels: [{ name: 'in', filter: `dst port ${1000 + i}` }, { name: 'out', filter: `src port ${1000 + i}` }] })),
    alertRules: [{ name: 'ddos', profile: 'DMZ', metric: 'packets', threshold: 1e6 + change, windowSeconds: 60, severity: 'critical' }],
  };
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function main(): Promise<void> {
  const nodes = arg('nodes', 100);
  const procs = arg('procs', 4);
  const changes = arg('changes', 60);
  const exporters = arg('exporters', 50);
  const redis = await startRedis();
  const stateRoot = mkdtempSync(join(tmpdir(), 'cfgsync-bench-'));
  const keys = generateSigningKeyPair();
  const store = new ConfigStore({ redisUrl: redis.url }, keys);
  await store.start();
  const workers: Started[] = [];
  const sub = new Redis(redis.url);
  try {
    const applied = new Map<string, number>();
    const failures: string[] = [];
    await sub.subscribe(CONFIG_KEYS.ackEvents);
    let waiter: { revision: number; resolve: () => void } | null = null;
    const allAt = (rev: number): boolean => applied.size >= nodes && [...applied.values()].every((r) => r >= rev);
    sub.on('message', (_c: string, text: string) => {
      const ack = JSON.parse(text) as ConfigAck;
      if (ack.status === 'failed') failures.push(`${ack.node}: ${ack.reason} ${ack.detail}`);
      applied.set(ack.node, Math.max(applied.get(ack.node) ?? 0, ack.appliedRevision));
      if (waiter && allAt(waiter.revision)) waiter.resolve();
    });

    const per = Math.ceil(nodes / procs);
    for (let p = 0; p < procs; p++) {
      const count = Math.min(per, nodes - p * per);
      workers.push(startProcess(process.execPath, [join(__dirname, 'agent-worker.js')], {
        REDIS_URL: redis.url, PUBKEY: publicKeyPem(keys.publicKey), FIRST_ID: String(p * per), COUNT: String(count), STATE_ROOT: stateRoot,
      }));
    }
    await waitUntil('workers ready', async () => workers.every((w) => w.output().includes('ready')), 60_000, 50);
    await waitUntil('first acks', async () => applied.size >= nodes, 30_000, 50);

    const lat: number[] = [];
    for (let c = 0; c <= changes; c++) {
      const t0 = performance.now();
      const done = new Promise<void>((resolve) => (waiter = { revision: Number.MAX_SAFE_INTEGER, resolve }));
      const r = await store.put('global', spec(c, exporters), { author: 'bench', comment: `change ${c}` });
      (waiter as unknown as { revision: number }).revision = r.revision;
      if (allAt(r.revision)) (waiter as unknown as { resolve: () => void }).resolve();
      await Promise.race([done, new Promise((_, rej) => setTimeout(() => rej(new Error(`change ${c} not acked by all in 30 s`)), 30_000))]);
      if (c > 0) lat.push(performance.now() - t0); // change 0 warms up (first full apply everywhere)
      await new Promise((res) => setTimeout(res, 20));
    }
    lat.sort((a, b) => a - b);
    const result = {
      nodes, processes: procs, changes: lat.length, exporters,
      p50_ms: +pct(lat, 50).toFixed(1), p99_ms: +pct(lat, 99).toFixed(1), max_ms: +lat[lat.length - 1].toFixed(1), min_ms: +lat[0].toFixed(1),
      failures: failures.length,
    };
    process.stdout.write(`config-sync change-to-all-acked: ${JSON.stringify(result)}\n`);
  } finally {
    sub.disconnect();
    for (const w of workers) await stopProcess(w.child);
    await store.stop();
    await stopProcess(redis.proc.child);
    rmSync(stateRoot, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exit(1);
});
