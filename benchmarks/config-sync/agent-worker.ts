// Runs COUNT ConfigAgents (bench-node-<FIRST+i>) in one process for config-sync.bench.ts.
import 'reflect-metadata';
import { join } from 'node:path';
import { ConfigAgent } from '@flowmesh/config-sync';

const env = process.env;
const first = Number(env.FIRST_ID);
const count = Number(env.COUNT);
const agents: ConfigAgent[] = [];
for (let i = 0; i < count; i++) {
  const id = `bench-node-${first + i}`;
  agents.push(
    new ConfigAgent({
      connection: { redisUrl: env.REDIS_URL as string },
      nodeId: id,
      group: `g${(first + i) % 4}`,
      stateDir: join(env.STATE_ROOT as string, id),
      masterPublicKey: env.PUBKEY,
      pollMs: Number(env.POLL_MS ?? 2000),
      apply: async () => undefined,
    }),
  );
}
process.on('SIGTERM', () => void Promise.all(agents.map((a) => a.stop())).then(() => process.exit(0)));
void Promise.all(agents.map((a) => a.start())).then(() => process.stdout.write('ready\n'));
