// A config agent in its own OS process, for config-sync.int-spec.ts. Prints one JSON line per event on stdout.
import 'reflect-metadata';
import { ConfigAgent } from './config-agent';

const env = process.env;
const agent = new ConfigAgent({
  connection: { redisUrl: env.REDIS_URL as string },
  nodeId: env.NODE_ID as string,
  group: env.GROUP || undefined,
  stateDir: env.STATE_DIR as string,
  masterPublicKey: env.PUBKEY || undefined,
  pollMs: Number(env.POLL_MS || 1000),
  apply: async (config, meta) => {
    if (env.FAIL_ON && JSON.stringify(config).includes(env.FAIL_ON)) throw new Error(`refusing anything with ${env.FAIL_ON}`);
    process.stdout.write(JSON.stringify({ event: 'applied', revision: meta.revision, hash: meta.hash, origin: meta.origin }) + '\n');
  },
});
agent.on('failed', (f: { reason: string; detail: string }) => process.stdout.write(JSON.stringify({ event: 'failed', ...f }) + '\n'));
process.on('SIGTERM', () => void agent.stop().then(() => process.exit(0)));
void agent.start().then(() => process.stdout.write(JSON.stringify({ event: 'started', revision: agent.appliedRevision }) + '\n'));
