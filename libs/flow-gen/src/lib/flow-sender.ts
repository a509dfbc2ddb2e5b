import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { FlowGenerator, type PoolPacket, SummaryBuilder } from './flow-generator';
import { type GenOptions, type GenSummary, resolveLoopback } from './gen-options';

const SNDBUF = 4 << 20;
const MAX_BURST = 64;

/** Builds the packet pool, then sends it (see sendGenerated). */
export async function sendFlows(opts: GenOptions, signal?: AbortSignal): Promise<GenSummary> {
  return sendGenerated(new FlowGenerator(opts), signal);
}

/**
 * Sends a generator's datagrams over UDP, paced to `rate` records/s. Sends go
 * out in bursts whose callbacks are awaited before the next burst, so node's
 * send queue never holds a pool buffer that is about to be re-stamped and the
 * summary counts only datagrams the kernel accepted. Abort stops after the
 * current burst; the summary then covers what was sent.
 */
export async function sendGenerated(gen: FlowGenerator, signal?: AbortSignal): Promise<GenSummary> {
  const { port, rate } = gen.options;
  const target = resolveLoopback(gen.options.host);
  const sock = dgram.createSocket({ type: target.family === 6 ? 'udp6' : 'udp4' });
  const sum = new SummaryBuilder(gen);
  // A pool buffer must not be stamped twice inside one burst.
  const burstMax = Math.max(1, Math.min(MAX_BURST, gen.distinctPackets));
  const fixedClock = gen.options.startTimeMs !== undefined;
  const templateWait = gen.options.templateWaitMs ?? 0;
  try {
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(0, target.family === 6 ? '::1' : '127.0.0.1', () => {
        sock.off('error', reject);
        resolve();
      });
    });
    sock.on('error', () => undefined); // per-send errors arrive in the send callbacks
    try {
      sock.setSendBufferSize(SNDBUF); // capped by net.core.wmem_max
    } catch {
      /* keep the default */
    }
    const cursor = gen.cursor();
    const sendBurst = (n: number, nowMs: number): Promise<void> =>
      new Promise((resolve) => {
        let pending = 0;
        let queued = false;
        for (let i = 0; i < n && !cursor.done; i++) {
          const p: PoolPacket = cursor.next(fixedClock ? gen.scheduledTimeMs(cursor.recordsSent) : nowMs);
          // Template packets are re-stamped often; send a private copy.
          const buf = p.records === 0 ? Buffer.from(p.buf) : p.buf;
          pending++;
          sock.send(buf, port, target.address, (err) => {
            if (err) sum.sendErrors++;
            else sum.add(p);
            if (--pending === 0 && queued) resolve();
          });
        }
        queued = true;
        if (pending === 0) resolve();
      });

    let t0 = performance.now();
    let wall0 = Date.now();
    // With startTimeMs the header clock follows the schedule (reproducible), else the wall clock.
    const clock = (): number => wall0 + (performance.now() - t0);

    if (templateWait > 0 && cursor.templateNext) {
      await sendBurst(1, clock());
      await sleep(templateWait);
      t0 = performance.now();
      wall0 = Date.now();
    }
    while (!cursor.done && !signal?.aborted) {
      let n = burstMax;
      if (rate > 0) {
        const now = performance.now();
        const due = t0 + (cursor.recordsSent / rate) * 1000;
        if (due > now + 0.2) {
          await sleep(Math.min(50, Math.max(1, due - now))); // short naps keep abort responsive
          continue;
        }
        // packets due by now (at least one), capped by the burst size
        const behind = Math.floor(((now - t0) / 1000) * rate) - cursor.recordsSent;
        n = Math.max(1, Math.min(burstMax, Math.ceil(behind / gen.perPacket) + 1));
      }
      await sendBurst(n, clock());
    }
    const seconds = (performance.now() - t0) / 1000;
    return sum.finish(seconds, seconds > 0 ? sum.records / seconds : 0);
  } finally {
    sock.close();
  }
}
