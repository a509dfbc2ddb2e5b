import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { findRepoRoot, Logger, registerAppCommand } from '@flowmesh/common';
import { UpConfig } from './up.config';
import { Supervisor } from '../up/supervisor';
import { redisAnswers } from '../up/redis-probe';

const log = new Logger('up');

function which(bin: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${bin}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} did not come up within ${timeoutMs / 1000} s`);
}

async function httpJson(url: string): Promise<unknown> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.json();
}

/** Picks the Redis to use; may start one under the supervisor. */
async function resolveRedis(config: UpConfig, dataDir: string, sup: Supervisor): Promise<string> {
  const explicit = config.redisUrl || process.env.REDIS_URL;
  if (explicit && config.redisMode !== 'managed') {
    if (!(await redisAnswers(explicit))) throw new Error(`Redis at ${explicit} does not answer (redisUrl / REDIS_URL)`);
    return explicit;
  }
  const local = `redis://127.0.0.1:${config.managedRedisPort}`;
  if (config.redisMode === 'auto' && (await redisAnswers(local))) return local;
  if (config.redisMode === 'external') throw new Error(`no Redis answers at ${local}; set redisUrl or REDIS_URL`);
  const bin = which('redis-server');
  if (!bin) {
    throw new Error("no Redis reachable and no redis-server installed: install Debian's redis-server (npm start does it when run as root) or set REDIS_URL");
  }
  const dir = join(dataDir, 'redis');
  mkdirSync(dir, { recursive: true });
  sup.start({
    name: 'redis',
    command: bin,
    args: ['--port', String(config.managedRedisPort), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', '', '--daemonize', 'no', '--protected-mode', 'yes'],
    restart: true,
  });
  await waitFor('redis-server', () => redisAnswers(local, 500), 10_000);
  log.info('started a local redis-server', { url: local, dir });
  return local;
}

interface NodeRow {
  id: string;
  status: string;
}

export function registerUp(program: Command): void {
  registerAppCommand(program, {
    name: 'up',
    description: 'run a master and N collector nodes on this machine (embedded chDB storage, each node on its own ports)',
    configClass: UpConfig,
    envPrefix: 'FLOWMESH_UP_',
    start: async (config) => {
      const dataDir = resolve(config.dataDir);
      mkdirSync(dataDir, { recursive: true });
      const root = findRepoRoot();
      const bin = join(root, 'bin', 'flowmesh.js');
      let giveUp: (name: string) => void = () => undefined;
      const sup = new Supervisor(join(dataDir, 'logs'), log, config.maxRestartsPerMinute, (name) => giveUp(name));
      const stop = async () => {
        log.info('stopping every process started by up', { pids: sup.pids() });
        await sup.stop();
      };
      giveUp = (name) => {
        process.stderr.write(`flowmesh up: ${name} keeps failing (see ${join(dataDir, 'logs', name + '.log')}); stopping everything\n`);
        void stop().then(() => process.exit(1));
      };
      try {
        const redisUrl = await resolveRedis(config, dataDir, sup);
        const env = { ...process.env, REDIS_URL: redisUrl };
        if (config.master) {
          sup.start({
            name: 'master',
            command: process.execPath,
            args: [bin, 'master', '--set', `http.port=${config.masterPort}`, '--set', `http.host=${config.masterHost}`, '--set', `dataDir=${dataDir}`],
            env,
            restart: true,
          });
        }
        const p = config.node;
        const nodes = Array.from({ length: config.nodes }, (_, k) => ({
          id: `node-${k + 1}`,
          http: p.httpBase + k,
          netflow: p.netflowBase + k,
          ipfix: p.ipfixBase + k,
          sflow: p.sflowBase + k,
        }));
        const installRoot = config.installRoot ? resolve(config.installRoot) : undefined;
        for (const n of nodes) {
          sup.start({
            name: n.id,
            command: process.execPath,
            installRoot,
            args: [
              ...(installRoot ? [] : [bin]), 'node',
              ...(installRoot ? ['--set', `controlPlane.upgrade.installRoot=${installRoot}`] : []),
              '--set', `id=${n.id}`,
              '--set', `dataDir=${dataDir}`,
              '--set', `http.port=${n.http}`,
              '--set', `listeners.netflow.address=${p.listenAddress}`, '--set', `listeners.netflow.port=${n.netflow}`,
              '--set', `listeners.ipfix.address=${p.listenAddress}`, '--set', `listeners.ipfix.port=${n.ipfix}`,
              '--set', `listeners.sflow.address=${p.listenAddress}`, '--set', `listeners.sflow.port=${n.sflow}`,
            ],
            env,
            restart: true,
          });
        }
        const api = `http://127.0.0.1:${config.masterPort}/api/v1`;
        if (!config.master) {
          for (const n of nodes) await waitFor(n.id, async () => !!(await httpJson(`http://127.0.0.1:${n.http}/healthz`)), 90_000);
          process.stdout.write(`Flowmesh is up: ${config.nodes} collector node(s) without a master${installRoot ? ` from ${installRoot}/current` : ''}\n`);
          return { stop };
        }
        await waitFor('master', async () => !!(await httpJson(`http://127.0.0.1:${config.masterPort}/healthz`)), 60_000);
        for (const n of nodes) {
          await waitFor(n.id, async () => !!(await httpJson(`http://127.0.0.1:${n.http}/healthz`)), 90_000);
        }
        await waitFor(
          `${config.nodes} collector nodes registered with the master`,
          async () => {
            const { nodes: rows } = (await httpJson(`${api}/nodes`)) as { nodes: NodeRow[] };
            return nodes.every((n) => rows.some((r) => r.id === n.id && r.status === 'up'));
          },
          90_000,
        );
        const lines = [
          `Flowmesh is up: 1 master + ${config.nodes} collector node(s), embedded chDB, data in ${dataDir}`,
          `  API      ${api}   (GET /nodes, POST /query; metrics at http://127.0.0.1:${config.masterPort}/metrics)`,
          `  Redis    ${redisUrl}`,
          ...nodes.map(
            (n) => `  ${n.id.padEnd(8)} NetFlow v5/v9 udp/${n.netflow}  IPFIX udp/${n.ipfix}  sFlow udp/${n.sflow}  http://127.0.0.1:${n.http}/metrics`,
          ),
          `Point exporters at this host on those UDP ports (any listener accepts any format). Logs: ${join(dataDir, 'logs')}.`,
          `Try: npx flowmesh gen --proto v9 --port ${nodes[0].netflow} --records 100000 --rate 50000 && npx flowmesh query --from -1h --top 10 --by src_addr`,
          'Ctrl-C stops everything.',
        ];
        process.stdout.write(lines.join('\n') + '\n');
      } catch (e) {
        await stop();
        throw e;
      }
      return { stop };
    },
  });
}
