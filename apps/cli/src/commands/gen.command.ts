import { Command, InvalidArgumentError, Option } from 'commander';
import { GEN_PROTOS, GenOptionError, sendFlows, validateGenOptions, type GenOptions, type GenProto } from '@flowmesh/flow-gen';

interface GenFlags {
  proto: GenProto;
  host: string;
  port?: number;
  records: number;
  rate: number;
  seed: number;
  sourceId?: number;
  templateEvery?: number;
  startTime?: number;
  perPacket?: number;
  distinct?: number;
  v6Share?: number;
  templateWait?: number;
}

/** GenOptions key → the flag that sets it, so validation errors name what the user typed. */
const FLAG: Record<keyof GenOptions, string> = {
  proto: '--proto', host: '--host', port: '--port', records: '--records', rate: '--rate', seed: '--seed',
  sourceId: '--source-id', templateEvery: '--template-every', startTimeMs: '--start-time', perPacket: '--per-packet',
  distinct: '--distinct', v6Share: '--v6-share', templateWaitMs: '--template-wait',
};

function integer(min: number, max = Number.MAX_SAFE_INTEGER): (v: string) => number {
  return (v) => {
    const n = Number(v.replace(/_/g, ''));
    if (v.trim() === '' || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected an integer ${min}..${max === Number.MAX_SAFE_INTEGER ? '' : max}`);
    }
    return n;
  };
}

function decimal(min: number, max: number): (v: string) => number {
  return (v) => {
    const n = Number(v.replace(/_/g, ''));
    if (v.trim() === '' || !Number.isFinite(n) || n < min || n > max) throw new InvalidArgumentError(`expected a number ${min}..${max}`);
    return n;
  };
}

/** Epoch milliseconds or an ISO-8601 date. */
function epochMs(v: string): number {
  const n = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError('expected epoch milliseconds or an ISO-8601 time');
  return n;
}

export function registerGen(program: Command): void {
  program
    .command('gen')
    .description(
      'send synthetic NetFlow v5/v9/IPFIX to a loopback collector (deterministic per seed); ' +
        'prints a JSON summary with the sums of the counter fields sent',
    )
    .addOption(new Option('--proto <proto>', 'export protocol').choices(GEN_PROTOS).makeOptionMandatory())
    .option('--host <host>', 'target (127.0.0.0/8, ::1 or localhost only)', '127.0.0.1')
    .option('--port <port>', 'target UDP port (default 2055, IPFIX modes 4739)', integer(1, 65535))
    .option('--records <n>', 'data records to send', integer(0), 100_000)
    .option('--rate <records/s>', 'pacing; 0 = as fast as possible', decimal(0, 1e9), 0)
    .option('--seed <n>', 'PRNG seed (same seed, same flows)', integer(0), 1)
    .option('--source-id <n>', 'v9 source id / IPFIX observation domain / v5 engine type+id (default 1)', integer(0, 0xffffffff))
    .option('--template-every <n>', 're-send templates every n data packets (default 100)', integer(1))
    .option('--start-time <ms|iso>', 'export time of the first packet; makes the datagrams byte-reproducible (default now)', epochMs)
    .option('--per-packet <n>', 'records per data packet (default 30 for v5, 25 otherwise)', integer(1, 400))
    .option('--distinct <n>', 'distinct pre-built packets replayed in a loop (default 256)', integer(1, 65536))
    .option('--v6-share <0..1>', 'share of IPv6 records in v9/IPFIX (default 0.2)', decimal(0, 1))
    .option('--template-wait <ms>', 'pause after the first template packet (default 0)', decimal(0, 60_000))
    .action(async (flags: GenFlags, cmd: Command) => {
      const opts: GenOptions = {
        proto: flags.proto,
        host: flags.host,
        port: flags.port ?? (flags.proto.startsWith('ipfix') ? 4739 : 2055),
        records: flags.records,
        rate: flags.rate,
        seed: flags.seed,
        sourceId: flags.sourceId,
        templateEvery: flags.templateEvery,
        startTimeMs: flags.startTime,
        perPacket: flags.perPacket,
        distinct: flags.distinct,
        v6Share: flags.v6Share,
        templateWaitMs: flags.templateWait,
      };
      try {
        validateGenOptions(opts);
      } catch (e) {
        if (e instanceof GenOptionError) cmd.error(`error: option '${FLAG[e.option]}': ${e.message.slice(e.option.length + 2)}`);
        throw e;
      }
      const abort = new AbortController();
      const onSignal = (): void => abort.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        const summary = await sendFlows(opts, abort.signal);
        const out = cmd.configureOutput().writeOut ?? ((s: string) => process.stdout.write(s));
        out(`${JSON.stringify(summary)}\n`);
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
