// Helpers for the control-plane int-specs: a persistent redis-server that can be restarted on its port, collector
// nodes as real OS processes, and readers for acks and metrics.
import { createSocket } from 'node:dgram';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Redis from 'ioredis';
import { CONFIG_KEYS, ConfigAck } from '@flowmesh/config-sync';
import { freePort, Started, startProcess, stopProcess, waitUntil } from '@flowmesh/testing';

/** The directory the compiled tests run from (holds apps/ and libs/). */
export const buildDir = join(__dirname, '..', '..');
export const nodeMain = join(buildDir, 'apps', 'collector-node', 'src', 'main.js');

export interface PersistentRedis {
  port: number;
  url: string;
  proc?: Started;
  start(): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** redis-server with an fsync-always AOF in `dir`, so a SIGKILL and restart on the same port loses nothing. */
export async function persistentRedis(dir: string): Promise<PersistentRedis> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const r: PersistentRedis = {
    port,
    url: `redis://127.0.0.1:${port}`,
    async start() {
      r.proc = startProcess('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always']);
      const p = r.proc;
      await waitUntil('redis-server', async () => p.output().includes('Ready to accept connections'), 10_000, 50);
    },
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      await stopProcess(r.proc?.child, signal);
    },
  };
  await r.start();
  return r;
}

export interface NodeProc {
  id: string;
  http: number;
  netflow: number;
  dataDir: string;
  proc?: Started;
  args: string[];
  env: NodeJS.ProcessEnv;
}

export async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((res) => s.bind(0, '127.0.0.1', () => res()));
  const p = s.address().port;
  await new Promise<void>((res) => s.close(() => res()));
  return p;
}

/** Arguments for `flowmesh node` with one netflow listener on 127.0.0.1 and small resource use. */
export async function nodeSpec(id: string, dataDir: string, redisUrl: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<NodeProc> {
  const http = await freePort();
  const netflow = await freeUdpPort();
  const args = [
    'node',
    '--set', `id=${id}`,
    '--set', `dataDir=${dataDir}`,
    '--set', `http.port=${http}`,
    '--set', 'listeners.netflow.address=127.0.0.1', '--set', `listeners.netflow.port=${netflow}`,
    '--set', 'listeners.ipfix.enabled=false', '--set', 'listeners.sflow.enabled=false',
    '--set', 'listeners.receiveBufferBytes=262144',
    '--set', 'decode.workers=1',
    '--set', 'storage.memoryLimitBytes=268435456',
    '--set', 'heartbeatMs=500',
    '--set', 'controlPlane.pollMs=500',
    '--set', 'controlPlane.retryFailedMs=2000',
    ...extra,
  ];
  return { id, http, netflow, dataDir, args, env: { REDIS_URL: redisUrl, FLOWMESH_LOG_LEVEL: 'warn', ...env } };
}

export async function startNode(n: NodeProc): Promise<void> {
  n.proc = startProcess(process.execPath, [nodeMain, ...n.args], n.env);
  const p = n.proc;
  await waitUntil(`${n.id} /healthz`, async () => {
    if (p.child.exitCode !== null) throw new Error(`${n.id} exited ${p.child.exitCode}: ${p.output().slice(-2000)}`);
    const res = await fetch(`http://127.0.0.1:${n.http}/healthz`, { signal: AbortSignal.timeout(1000) });
    return res.ok;
  }, 60_000);
}

export async function stopNode(n: NodeProc, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  await stopProcess(n.proc?.child, signal);
}

export async function acks(redis: Redis): Promise<Record<string, ConfigAck>> {
  const all = await redis.hgetall(CONFIG_KEYS.acks);
  return Object.fromEntries(Object.entries(all).map(([k, v]) => [k, JSON.parse(v) as ConfigAck]));
}

/** Value of one Prometheus series from a node's /metrics (exact label text, e.g. '{listener="netflow"}'). */
export async function metric(n: NodeProc, name: string, labels = ''): Promise<number | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${n.http}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

export async function readyz(n: NodeProc): Promise<{ status: string; components: Record<string, Record<string, unknown>> }> {
  const res = await fetch(`http://127.0.0.1:${n.http}/readyz`, { signal: AbortSignal.timeout(5000) });
  return (await res.json()) as { status: string; components: Record<string, Record<string, unknown>> };
}

export async function sendUdp(port: number, count = 1): Promise<void> {
  const s = createSocket('udp4');
  for (let i = 0; i < count; i++) await new Promise<void>((res) => s.send(Buffer.from('not a flow'), port, '127.0.0.1', () => res()));
  s.close();
}

export async function sendUdpPayload(port: number, payload: Uint8Array): Promise<void> {
  const s = createSocket('udp4');
  await new Promise<void>((res) => s.send(payload, port, '127.0.0.1', () => res()));
  s.close();
}

/** NetFlow v9: does the datagram carry a template (flowset id 0) or an options template (1)? */
export function hasV9Template(p: Uint8Array): boolean {
  const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
  for (let off = 20; off + 4 <= p.length; ) {
    const id = v.getUint16(off);
    const len = v.getUint16(off + 2);
    if (id === 0 || id === 1) return true;
    if (len < 4) return false;
    off += len;
  }
  return false;
}
