/**
 * Insert rate of the two stores on 50k-row batches (the default batchRows), with the real engines:
 *   node tmp/build-x/apps/collector-node/src/storage/storage-insert.bench.js [--batches 10] [--rows 50000] [--no-rollups | --no-address-rollups] [--rowbinary]
 * (--no-rollups drops every rollup view first: the raw insert alone; --no-address-rollups only the address
 * rollups' views; --rowbinary: RowBinary instead of Native for the per-store figures. Every row of a batch
 * has its own source address: the worst case for the address rollups.) chDB also gets Native, RowBinary and Arrow interleaved batch by batch.
 * chDB runs in this process, so process CPU covers encoder + engine; for the 18.16 server the server's
 * CPU comes from /proc/<pid>/stat and is added to this process's.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@flowmesh/common';
import { FlowBatch } from '@flowmesh/flow-decoder';
import { clickHouseServerSkipReason, startClickHouseServer } from '@flowmesh/testing';
import { ChdbStore } from './chdb.store';
import { ClickHouseStore } from './clickhouse.store';
import { BatchFormat, encodeBatch } from './batch-encoding';
import { FlowStore } from './storage';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}

function batchOf(rows: number, seed: number): FlowBatch {
  const b = new FlowBatch(rows);
  const t0 = Date.now() - 60_000;
  for (let k = 0; k < rows; k++) {
    const i = b.next();
    b.time_received[i] = t0 + (k % 60_000);
    b.flow_start[i] = b.time_received[i] - 5000;
    b.flow_end[i] = b.time_received[i];
    b.exporter_addr.set([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 192, 0, 2, 1 + (k % 4)], i * 16);
    b.src_addr.set([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 10, (k >> 16) & 255, (k >> 8) & 255, k & 255], i * 16);
    b.dst_addr.set([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 172, 16, seed & 255, k & 255], i * 16);
    b.flow_type[i] = 9;
    b.ip_version[i] = 4;
    b.sampling_rate[i] = 1;
    b.src_port[i] = 1024 + (k % 60000);
    b.dst_port[i] = k % 2 ? 443 : 53;
    b.protocol[i] = k % 2 ? 6 : 17;
    b.bytes[i] = 64 + (k % 1400);
    b.packets[i] = 1 + (k % 10);
    b.in_if[i] = k % 8;
    b.out_if[i] = (k + 1) % 8;
  }
  return b;
}

const NO_ROLLUPS = process.argv.includes('--no-rollups');
const FORMAT: BatchFormat = process.argv.includes('--rowbinary') ? 'rowbinary' : 'native';

const NO_ADDRESS_ROLLUPS = NO_ROLLUPS || process.argv.includes('--no-address-rollups');

async function dropRollupViews(store: { exec(sql: string): Promise<void> }, db: string): Promise<void> {
  const views = [...(NO_ROLLUPS ? ['flows_1m_mv', 'flows_1h_mv'] : []), ...(NO_ADDRESS_ROLLUPS ? ['flows_src_1h_mv', 'flows_dst_1h_mv'] : [])];
  for (const v of views) await store.exec(`DROP TABLE IF EXISTS ${db}.${v}`);
}

function serverCpuUs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1e6) / 100; // utime + stime, clock ticks of 1/100 s
}

async function measure(name: string, store: FlowStore, batches: number, rows: number, serverPid?: number): Promise<void> {
  const data = Array.from({ length: batches }, (_, n) => batchOf(rows, n));
  const e0 = process.cpuUsage();
  const te = performance.now();
  const encoded = data.map((b, n) => encodeBatch(b, (0x6553f10000000000n + BigInt(n + 1)).toString(16).padStart(16, '0'), FORMAT));
  const encMs = performance.now() - te;
  const encCpu = process.cpuUsage(e0);
  const c0 = process.cpuUsage();
  const s0 = serverPid ? serverCpuUs(serverPid) : 0;
  const t0 = performance.now();
  for (const b of encoded) await store.insert(b);
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  const serverUs = serverPid ? serverCpuUs(serverPid) - s0 : 0;
  const total = batches * rows;
  const c1 = performance.now();
  const absent = await store.committed('7fffffffffffffff'); // not in memory: the query path
  const committedMs = performance.now() - c1;
  if (absent) throw new Error('committed() found a batch never inserted');
  console.log(
    JSON.stringify({
      store: name,
      rollups: !NO_ROLLUPS,
      addressRollups: !NO_ADDRESS_ROLLUPS,
      format: FORMAT,
      rows: total,
      batchRows: rows,
      insertRowsPerSec: Math.round(total / (ms / 1000)),
      insertCpuUsPerRow: +((cpu.user + cpu.system + serverUs) / total).toFixed(2),
      ...(serverPid ? { serverCpuUsPerRow: +(serverUs / total).toFixed(2) } : {}),
      encodeUsPerRow: +(((encCpu.user + encCpu.system) / total)).toFixed(3),
      encodeRowsPerSec: Math.round(total / (encMs / 1000)),
      committedQueryMs: +committedMs.toFixed(1),
    }),
  );
}

/** chDB: Native and RowBinary (encode + file + FROM INFILE) against Arrow C data, interleaved batch by batch. */
async function measureFormats(store: ChdbStore, batches: number, rows: number): Promise<void> {
  const data = Array.from({ length: batches }, (_, n) => batchOf(rows, 100 + n));
  const modes = ['native', 'rowbinary', 'arrow'] as const;
  const acc = Object.fromEntries(modes.map((m) => [m, { ms: 0, cpu: 0 }])) as Record<(typeof modes)[number], { ms: number; cpu: number }>;
  let seq = 0x6553f20000000000n;
  for (const [n, b] of data.entries()) {
    // A different mode goes first in each batch, so no mode always meets a cold or a busy engine.
    for (let k = 0; k < modes.length; k++) {
      const mode = modes[(n + k) % modes.length];
      const id = (++seq).toString(16);
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      if (mode === 'arrow') await store.insertArrow(b, id);
      else await store.insert(encodeBatch(b, id, mode));
      const cpu = process.cpuUsage(c0);
      acc[mode].ms += performance.now() - t0;
      acc[mode].cpu += cpu.user + cpu.system;
    }
  }
  const total = batches * rows;
  for (const [mode, a] of Object.entries(acc)) {
    console.log(JSON.stringify({ store: `chdb ${mode} (interleaved, encode included)`, rollups: !NO_ROLLUPS, addressRollups: !NO_ADDRESS_ROLLUPS, rows: total, rowsPerSec: Math.round(total / (a.ms / 1000)), cpuUsPerRow: +(a.cpu / total).toFixed(2) }));
  }
}

async function main(): Promise<void> {
  const batches = arg('batches', 10);
  const rows = arg('rows', 50_000);
  const logger = new Logger('bench', 'error');
  const retention = { rawDays: 30, minuteDays: 180, hourDays: 730 };
  const dir = mkdtempSync(join(tmpdir(), 'flowmesh-store-bench-'));
  const chdb = new ChdbStore({ path: join(dir, 'chdb'), memoryLimitBytes: 1024 ** 3, filePrefix: `flowmesh-bench-${process.pid}-`, retention, logger });
  await chdb.start();
  await dropRollupViews(chdb, chdb.database);
  await measure('chdb', chdb, batches, rows);
  await measureFormats(chdb, batches, rows);
  await chdb.stop();
  rmSync(dir, { recursive: true, force: true });
  const skip = clickHouseServerSkipReason();
  if (skip) return console.log(`SKIPPED ClickHouse 18.16: ${skip}`);
  const ch = await startClickHouseServer();
  try {
    const store = new ClickHouseStore({ server: { url: ch.url, database: 'flowmesh', username: 'default', password: '', requestTimeoutMs: 30_000 }, retention, logger });
    await store.start();
    await dropRollupViews(store, store.database);
    await measure(`clickhouse ${ch.version}`, store, batches, rows, ch.pid);
    await store.stop();
  } finally {
    await ch.stop();
  }
}

void main();
