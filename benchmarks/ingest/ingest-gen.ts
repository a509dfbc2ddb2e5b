/**
 * The benchmark's generator process (so it can be pinned to its own core with taskset): builds the
 * packet pool with FlowGenerator, then sends it with sendGenerated (the zero-copy cursor path), and prints
 * one JSON line: the GenSummary plus wall-clock start/end of the send and the CPU it used.
 *
 *   node ingest-gen.js '{"proto":"v9","host":"127.0.0.1","port":2055,"records":1000000,"rate":200000,"seed":1}'
 */
import { FlowGenerator, sendGenerated, type GenOptions } from '@flowmesh/flow-gen';

export interface GenResult {
  summary: Awaited<ReturnType<typeof sendGenerated>>;
  /** Epoch ms just before the first datagram / after the last send callback. */
  startWallMs: number;
  endWallMs: number;
  /** CPU seconds (user + system) the send loop used. */
  sendCpuS: number;
}

async function main(): Promise<void> {
  const opts = JSON.parse(process.argv[2] ?? '{}') as GenOptions;
  const gen = new FlowGenerator(opts);
  const cpu0 = process.cpuUsage();
  const startWallMs = Date.now();
  const summary = await sendGenerated(gen);
  const endWallMs = Date.now();
  const cpu = process.cpuUsage(cpu0);
  const out: GenResult = { summary, startWallMs, endWallMs, sendCpuS: (cpu.user + cpu.system) / 1e6 };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().catch((e: Error) => {
  process.stderr.write(`ingest-gen: ${e.message}\n`);
  process.exit(1);
});
