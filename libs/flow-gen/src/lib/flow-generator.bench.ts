/**
 * node tmp/build-<name>/libs/flow-gen/src/lib/flow-generator.bench.js [records]
 * Pool build time, in-memory stamping rate, and UDP send rate to a receiver
 * running in a worker thread (so it does not share the sender's event loop).
 */
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { FlowGenerator } from './flow-generator';
import { sendGenerated } from './flow-sender';
import { GEN_PROTOS } from './gen-options';

const RECEIVER = `
const dgram = require('node:dgram');
const { parentPort } = require('node:worker_threads');
const s = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
let n = 0;
s.on('message', () => n++);
s.bind(0, '127.0.0.1', () => parentPort.postMessage({ port: s.address().port }));
parentPort.on('message', () => { parentPort.postMessage({ received: n }); n = 0; });
`;

async function main(): Promise<void> {
  const records = Number(process.argv[2] ?? 2_000_000);
  const worker = new Worker(RECEIVER, { eval: true });
  const port = await new Promise<number>((r) => worker.once('message', (m: { port: number }) => r(m.port)));
  const received = (): Promise<number> =>
    new Promise((r) => {
      worker.once('message', (m: { received: number }) => r(m.received));
      worker.postMessage('count');
    });
  for (const proto of GEN_PROTOS) {
    let t = performance.now();
    const gen = new FlowGenerator({ proto, host: '127.0.0.1', port, records, rate: 0, seed: 1 });
    const buildMs = performance.now() - t;
    t = performance.now();
    const c = gen.cursor();
    while (!c.done) c.next(gen.baseTimeMs);
    const stampRate = records / ((performance.now() - t) / 1000);
    const cpu0 = process.cpuUsage();
    const s = await sendGenerated(gen);
    const cpu = process.cpuUsage(cpu0);
    await new Promise((r) => setTimeout(r, 200));
    const got = await received();
    console.log(JSON.stringify({
      proto, records, build_ms: Math.round(buildMs), stamp_records_per_s: Math.round(stampRate),
      send_records_per_s: s.rate, send_packets: s.packets, send_cpu_us_per_record: +(((cpu.user + cpu.system) / records).toFixed(3)),
      received_packets: got, loss: +(1 - got / s.packets).toFixed(4),
    }));
  }
  await worker.terminate();
}

void main();
