/**
 * worker_threads script for the UDP burst test: sends the generator's datagrams unpaced (the zero-copy
 * cursor path: pool buffers stamped in place) until a wall-clock deadline, then posts what the kernel
 * accepted. A worker, because a send loop whose callbacks keep completing never lets the sending
 * thread's timers run (an AbortSignal.timeout would never fire), and the test's thread must keep
 * sampling the node's RSS meanwhile.
 */
import dgram from 'node:dgram';
import { parentPort, workerData } from 'node:worker_threads';
import { FlowGenerator, type GenOptions } from '@flowmesh/flow-gen';

export interface BurstInput {
  opts: GenOptions;
  durationMs: number;
}

export interface BurstResult {
  records: number;
  datagrams: number;
  sendErrors: number;
  seconds: number;
}

async function run({ opts, durationMs }: BurstInput): Promise<BurstResult> {
  const gen = new FlowGenerator(opts);
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  sock.on('error', () => undefined);
  const burst = Math.max(1, Math.min(64, gen.distinctPackets));
  const cursor = gen.cursor();
  const res: BurstResult = { records: 0, datagrams: 0, sendErrors: 0, seconds: 0 };
  const t0 = Date.now();
  const end = t0 + durationMs;
  while (!cursor.done && Date.now() < end) {
    await new Promise<void>((resolve) => {
      let pending = 0;
      const now = Date.now();
      for (let i = 0; i < burst && !cursor.done; i++) {
        const p = cursor.next(now);
        pending++;
        sock.send(p.buf, opts.port, '127.0.0.1', (err) => {
          if (err) res.sendErrors++;
          else {
            res.records += p.records;
            res.datagrams++;
          }
          if (--pending === 0) resolve();
        });
      }
      if (pending === 0) resolve();
    });
  }
  res.seconds = (Date.now() - t0) / 1000;
  sock.close();
  return res;
}

if (parentPort) {
  const port = parentPort;
  run(workerData as BurstInput).then(
    (r) => port.postMessage(r),
    (e: Error) => port.postMessage({ error: e.message }),
  );
}
