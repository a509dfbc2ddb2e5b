import 'reflect-metadata';
import './bootstrap-env';
import { Command } from 'commander';
import { Logger, registerAppCommand } from '@flowmesh/common';
import { CollectorConfig, ENV_PREFIX } from './config/collector.config';
import { LifecycleService } from './lifecycle/lifecycle.service';

const logger = new Logger('collector-node');
const program = new Command('flowmesh');
registerAppCommand(program, {
  name: 'node',
  description: 'Run a collector node: receive NetFlow v5/v9, IPFIX and sFlow, store flows, serve local queries (REDIS_URL is honoured when FLOWMESH_NODE_REDIS__URL is unset)',
  configClass: CollectorConfig,
  envPrefix: ENV_PREFIX,
  start: async (config) => {
    const node = new LifecycleService(config, logger);
    await node.start();
    return node;
  },
});

program.parseAsync(process.argv).catch((e: Error) => {
  logger.error('node failed to start', { error: e.message });
  process.exit(1);
});
