import 'reflect-metadata';
import { Command } from 'commander';
import { softwareVersion } from '@flowmesh/common';
import { registerUp } from './commands/up.command';
import { registerGen } from './commands/gen.command';
import { registerDecode } from './commands/decode.command';
import { registerQuery } from './commands/query.command';
import { registerNodes } from './commands/nodes.command';

const program = new Command('flowmesh')
  .description('Flowmesh: a distributed NetFlow/IPFIX/sFlow collector cluster')
  .version(softwareVersion())
  .showHelpAfterError();

// `master` and `node` are dispatched by bin/flowmesh.js to their own app; listed here for --help.
program.command('master').description('run the master (registry, federated query API); see `flowmesh master --help`');
program.command('node').description('run a collector node (UDP ingest, decode, store); see `flowmesh node --help`');
registerUp(program);
registerGen(program);
registerDecode(program);
registerQuery(program);
registerNodes(program);

program.parseAsync(process.argv).catch((e: Error) => {
  process.stderr.write(`flowmesh: ${e.message}\n`);
  process.exit(1);
});
