/*
 * Federated query benchmark: N flows spread over 3 collector nodes (real node processes, each with its
 * own chDB), plus a 4th node `ref` holding all N flows (the one-store reference), one master, one Redis.
 * Rows are generated straight into each node's chDB (INSERT … SELECT FROM numbers(), deterministic
 * expressions; the rollup views fire as on ingest) while the node is stopped. Then the same queries run
 * through the master's /api/v2/query against nodes n1..n3 and against `ref`, interleaved: top-10 talkers
 * (src_addr by bytes; the data's whole hours, and '-24h' with an unaligned edge), a 5-minute time series
 * (by protocol), a filtered flow listing's first page (newest first, the default; and by bytes).
 *
 *   node dist/benchmarks/query/query.bench.js [--flows 100000000] [--runs 15] [--hours 24]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { freePort, startProcess, startRedis, Started, stopProcess, waitUntil } from '@flowmesh/testing';

const NODES = ['n1', 'n2', 'n3'];
/** Data starts at a whole hour, (hours + 1) hours ago: recent enough for the stores' retention (TTL). */
function defaultT0(hours: number): number {
  return Math.floor(Date.now() / 3_600_000) * 3600 - (hours + 1) * 3600;
}

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
}

const v4 = (expr: string) => `unhex(concat('00000000000000000000FFFF', lpad(hex(toUInt32(${expr})), 8, '0')))`;

/** Rows [first, first + count) of the synthetic data set: ~65k sources, 1000 destinations, 3 exporters, spread over `hours`. */
function insertSql(first: number, count: number, hours: number, t0: number): string {
  const n = `(number + ${first})`;
  return `INSERT INTO flowmesh.flows (time_received, flow_start, flow_end, exporter_addr, observation_domain, flow_type, sampling_rate, ip_version,
      src_addr, dst_addr, src_port, dst_port, protocol, tcp_flags, tos, bytes, packets, in_if, out_if, src_as, dst_as, next_hop, src_mask, dst_mask,
      direction, vlan, src_mac, dst_mac, batch_id)
    SELECT toDateTime(${t0} + intDiv(${n} * ${hours * 3600}, ${Math.max(1, arg('flows', 1e8))})) AS t, t, t,
      ${v4(`167772160 + ${n} % 3`)}, 0, 1, toUInt32(if(${n} % 10 = 0, 100, 1)), 4,
      ${v4(`167772160 + (cityHash64(${n}) % 65536)`)}, ${v4(`3232235520 + (cityHash64(${n}, 1) % 1000)`)},
      toUInt16(1024 + ${n} % 60000), toUInt16([443, 80, 53, 22, 8443][${n} % 5 + 1]), toUInt8([6, 17, 6, 6, 1][${n} % 5 + 1]), toUInt8(${n} % 64), 0,
      toUInt64(64 + cityHash64(${n}, 2) % 1400), toUInt64(1 + ${n} % 20), toUInt32(${n} % 8), toUInt32(${n} % 4), toUInt32(64500 + ${n} % 100), toUInt32(64600 + ${n} % 50),
      ${v4('0')}, 24, 24, toUInt8(${n} % 2), 0, 0, 0, intDiv(${n}, 10000)
    FROM numbers(${count})`;
}

/** --generate DIR FIRST COUNT HOURS --t0 S --flows N (child mode): fill one stopped node's chDB. */
async function generate(): Promise<void> {
  const [dir, first, count, hours] = process.argv.slice(process.argv.indexOf('--generate') + 1);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Session } = require('chdb') as typeof import('chdb');
  const s = new Session(dir);
  const step = 20_000_000;
  for (let f = Number(first); f < Number(first) + Number(count); f += step) {
    await s.queryAsync(insertSql(f, Math.min(step, Number(first) + Number(count) - f), Number(hours), arg('t0', 0)) + ' SETTINGS max_insert_threads = 2, max_memory_usage = 8000000000');
  }
  s.close();
}

async function postJson<T>(url: string, body: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(300_000) });
  return { status: res.status, body: (await res.json()) as T };
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

async function main(): Promise<void> {
  const flows = arg('flows', 100_000_000);
  const runs = arg('runs', 15);
  const hours = arg('hours', 24);
  const T0 = defaultT0(hours);
  const build = resolve(__dirname, '..', '..');
  const nodeMain = join(build, 'apps', 'collector-node', 'src', 'main.js');
  const masterMain = join(build, 'apps', 'master', 'src', 'main.js');
  const work = mkdtempSync(join(process.env.FLOWMESH_BENCH_DIR ?? '/tmp', 'flowmesh-query-bench-'));
  const procs: Started[] = [];
  const redis = await startRedis();
  procs.push(redis.proc);
  const ports: Record<string, number> = {};
  const ids = [...NODES, 'ref'];
  const startNode = async (id: string) => {
    ports[id] ??= await freePort();
    const p = startProcess(process.execPath, [
      nodeMain, 'node', '--set', `id=${id}`, '--set', `dataDir=${work}`, '--set', `http.port=${ports[id]}`, '--set', 'http.host=127.0.0.1',
      '--set', `redis.url=${redis.url}`, '--set', 'listeners.netflow.port=0', '--set', 'listeners.ipfix.port=0', '--set', 'listeners.sflow.port=0',
      '--set', 'listeners.netflow.address=127.0.0.1', '--set', 'listeners.ipfix.address=127.0.0.1', '--set', 'listeners.sflow.address=127.0.0.1',
      '--set', 'storage.memoryLimitBytes=6000000000',
    ], { UV_THREADPOOL_SIZE: '8' });
    await waitUntil(`node ${id}`, async () => (await fetch(`http://127.0.0.1:${ports[id]}/readyz`).catch(() => undefined))?.status === 200, 120_000);
    return p;
  };
  try {
    const t0 = Date.now();
    // First start creates each store's schema; then the node stops and its chDB is filled directly.
    for (const id of ids) await stopProcess((await startNode(id)).child);
    const share = Math.ceil(flows / 3);
    for (const [i, id] of NODES.entries()) {
      const first = i * share;
      const r = spawnSync(process.execPath, [__filename, '--generate', join(work, id, 'chdb'), String(first), String(Math.min(share, flows - first)), String(hours), '--flows', String(flows), '--t0', String(T0)], { stdio: 'inherit' });
      if (r.status !== 0) throw new Error(`generating ${id} failed`);
    }
    const r = spawnSync(process.execPath, [__filename, '--generate', join(work, 'ref', 'chdb'), '0', String(flows), String(hours), '--flows', String(flows), '--t0', String(T0)], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error('generating ref failed');
    const loadS = (Date.now() - t0) / 1000;
    for (const id of ids) procs.push(await startNode(id));
    const masterPort = await freePort();
    mkdirSync(join(work, 'master'), { recursive: true });
    procs.push(
      startProcess(process.execPath, [
        masterMain, 'master', '--set', `http.port=${masterPort}`, '--set', 'http.host=127.0.0.1', '--set', `dataDir=${join(work, 'master')}`,
        '--set', `redis.url=${redis.url}`, '--set', 'query.timeoutMs=60000',
      ]),
    );
    const api = `http://127.0.0.1:${masterPort}/api/v2/query`;
    await waitUntil('master', async () => (await fetch(`http://127.0.0.1:${masterPort}/readyz`).catch(() => undefined))?.status === 200, 60_000);
    await waitUntil('4 nodes registered', async () => {
      const r = await postJson<{ nodes: Array<{ status: string }> }>(api, { from: '-1m', to: 'now', groupBy: [] });
      return r.status === 200 && r.body.nodes.filter((n) => n.status === 'ok').length === 4;
    }, 60_000);

    const from = new Date(T0 * 1000).toISOString();
    const to = new Date((T0 + hours * 3600) * 1000).toISOString();
    // Like '-24h' an hour after the data ends, but fixed, so both sides read the same flows: ~1 h of raw at the edges.
    const unalignedFrom = new Date((T0 + 1234) * 1000).toISOString();
    const unalignedTo = new Date((T0 + hours * 3600 - 2345) * 1000).toISOString();
    const queries: Record<string, Record<string, unknown>> = {
      'top-10 talkers (src_addr by bytes)': { from, to, mode: 'aggregate', groupBy: ['src_addr'], top: 10, orderBy: 'bytes' },
      'top-10 talkers, unaligned range (edge hours from raw)': { from: unalignedFrom, to: unalignedTo, mode: 'aggregate', groupBy: ['src_addr'], top: 10, orderBy: 'bytes' },
      'time series 5m by protocol (top 5)': { from, to, mode: 'series', groupBy: ['protocol'], interval: '5m', top: 5 },
      "flow listing 'src net 10.0.0.0/16 and dst port 443', first 100, newest first (the default order)": { from, to, mode: 'flows', filter: 'src net 10.0.0.0/16 and dst port 443', limit: 100 },
      "flow listing 'src net 10.0.0.0/16 and dst port 443', first 100 by bytes": { from, to, mode: 'flows', filter: 'src net 10.0.0.0/16 and dst port 443', sort: 'bytes', order: 'desc', limit: 100 },
    };
    const results: Array<Record<string, unknown>> = [];
    for (const [name, q] of Object.entries(queries)) {
      const lat: Record<string, number[]> = { fed: [], ref: [] };
      const answers: Record<string, unknown> = {};
      for (let i = 0; i < runs + 1; i++) {
        for (const [which, nodes] of [['fed', NODES], ['ref', ['ref']]] as const) {
          const t = performance.now();
          const res = await postJson<Record<string, unknown>>(api, { ...q, nodes });
          const ms = performance.now() - t;
          if (res.status !== 200 || res.body.partial) throw new Error(`${name} (${which}): HTTP ${res.status} ${JSON.stringify(res.body).slice(0, 400)}`);
          if (i > 0) lat[which].push(ms); // the first run warms caches
          if (process.argv.includes('--verbose')) {
            const per = (res.body.nodes as Array<{ id: string; elapsedMs?: number }>).map((n) => `${n.id} ${Math.round(n.elapsedMs ?? -1)}`).join(', ');
            process.stderr.write(`${name} ${which} ${ms.toFixed(0)} ms (nodes: ${per})\n`);
          }
          const { nodes: _n, elapsedMs: _e, ...rest } = res.body;
          const body = rest as Record<string, unknown>;
          if (Array.isArray(body.flows)) body.flows = (body.flows as Array<Record<string, unknown>>).map(({ node: _x, ...f }) => f);
          delete body.nextCursor;
          answers[which] = body;
        }
      }
      const same = JSON.stringify(answers.fed) === JSON.stringify(answers.ref);
      const row = {
        query: name,
        fedP50: pct(lat.fed, 50), fedP99: pct(lat.fed, 99), refP50: pct(lat.ref, 50), refP99: pct(lat.ref, 99),
        ratioP50: pct(lat.fed, 50) / pct(lat.ref, 50), sameAnswer: same, plan: (answers.fed as { plan?: { reason?: string } }).plan?.reason,
      };
      results.push(row);
      process.stdout.write(JSON.stringify(row) + '\n');
    }
    process.stdout.write('\n' + `flows=${flows} (3 nodes x ~${share}, ref ${flows}), hours=${hours}, runs=${runs}, load ${loadS.toFixed(0)} s\n`);
    process.stdout.write('| query | 3 nodes p50 ms | p99 ms | one store p50 ms | p99 ms | p50 ratio | same answer |\n| --- | --- | --- | --- | --- | --- | --- |\n');
    for (const r of results) {
      const f = (x: unknown) => (x as number).toFixed(0);
      process.stdout.write(`| ${r.query} | ${f(r.fedP50)} | ${f(r.fedP99)} | ${f(r.refP50)} | ${f(r.refP99)} | ${(r.ratioP50 as number).toFixed(2)} | ${r.sameAnswer} |\n`);
    }
  } finally {
    for (const p of procs.reverse()) await stopProcess(p.child).catch(() => undefined);
    if (!process.argv.includes('--keep')) rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv.includes('--generate')) {
  generate().catch((e: Error) => {
    process.stderr.write(`generate: ${e.message}\n`);
    process.exit(1);
  });
} else {
  main().catch((e: Error) => {
    process.stderr.write(`query bench: ${e.stack ?? e.message}\n`);
    process.exit(1);
  });
}
