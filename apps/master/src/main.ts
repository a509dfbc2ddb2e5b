import 'reflect-metadata';
import { Command } from 'commander';
import { registerAppCommand } from '@flowmesh/common';
import { MASTER_ENV_PREFIX, MasterConfig } from './config/master.config';
import { startMaster } from './master.app';

const program = new Command('flowmesh');
registerAppCommand(program, {
  name: 'master',
  description: 'run the master: node registry, federated query API, metrics',
  configClass: MasterConfig,
  envPrefix: MASTER_ENV_PREFIX,
  start: startMaster,
});
program.parseAsync(process.argv).catch((e: Error) => {
  process.stderr.write(`flowmesh master: ${e.message}\n`);
  process.exit(1);
});
