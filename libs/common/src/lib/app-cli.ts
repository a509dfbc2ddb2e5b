import { Command } from 'commander';
import { ClassOf, ConfigError, dumpConfig, loadConfig } from './config-loader';

export interface Stoppable {
  stop(): Promise<void>;
}

export interface AppCommandOptions<T extends object> {
  /** Subcommand name, e.g. 'node'. */
  name: string;
  description: string;
  configClass: ClassOf<T>;
  /** e.g. 'FLOWMESH_NODE_' */
  envPrefix: string;
  /** Starts the app with a validated config; resolves once it is up. */
  start: (config: T) => Promise<Stoppable>;
}

/**
 * Adds an app subcommand with the flags every app has: --config FILE, --set key=value,
 * --check (validate and exit), --dump (print the effective config and exit).
 * A bad configuration stops start-up with exit code 2 and a message naming each key.
 */
export function registerAppCommand<T extends object>(program: Command, o: AppCommandOptions<T>): Command {
  return program
    .command(o.name)
    .description(o.description)
    .option('-c, --config <file>', 'configuration file (JSON or YAML)')
    .option('-s, --set <key=value>', 'override one key (dotted path), repeatable', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--check', 'validate the configuration and exit')
    .option('--dump', 'print the effective configuration as JSON and exit')
    .addHelpText('after', `\nEnvironment: ${o.envPrefix}<KEY> sets a key (nested keys joined by __, e.g. ${o.envPrefix}HTTP__PORT=9000).`)
    .action(async (opts: { config?: string; set: string[]; check?: boolean; dump?: boolean }) => {
      let config: T;
      try {
        config = loadConfig(o.configClass, { file: opts.config, env: process.env, envPrefix: o.envPrefix, overrides: opts.set });
      } catch (e) {
        if (e instanceof ConfigError) {
          process.stderr.write(`flowmesh ${o.name}: ${e.message}\n`);
          process.exit(2);
        }
        throw e;
      }
      if (opts.dump) {
        process.stdout.write(dumpConfig(config) + '\n');
        return;
      }
      if (opts.check) {
        process.stdout.write(`flowmesh ${o.name}: configuration OK\n`);
        return;
      }
      const app = await o.start(config);
      let stopping = false;
      const shutdown = (signal: string) => {
        if (stopping) return;
        stopping = true;
        process.stderr.write(`flowmesh ${o.name}: ${signal}, stopping\n`);
        app.stop().then(
          () => process.exit(0),
          (e: Error) => {
            process.stderr.write(`flowmesh ${o.name}: stop failed: ${e.message}\n`);
            process.exit(1);
          },
        );
      };
      process.once('SIGINT', () => shutdown('SIGINT'));
      process.once('SIGTERM', () => shutdown('SIGTERM'));
    });
}
