import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { setTimeout as sleep } from 'node:timers/promises';
import { FlowGenerator } from './flow-generator';
import { sendFlows } from './flow-sender';
import type { GenOptions } from './gen-options';
import { exportTotals } from './testing/export-totals';

async function receiver(type: 'udp4' | 'udp6'): Promise<{ port: number; got: Buffer[]; close(): void; settle(n: number): Promise<void> }> {
  const sock = dgram.createSocket({ type, recvBufferSize: 4 << 20 });
  const got: Buffer[] = [];
  sock.on('message', (m) => got.push(m));
  await new Promise<void>((r) => sock.bind(0, type === 'udp6' ? '::1' : '127.0.0.1', r));
  return {
    port: sock.address().port,
    got,
    close: () => sock.close(),
    async settle(n: number) {
      for (let i = 0; i < 100 && got.length < n; i++) await sleep(20);
      await sleep(50); // and nothing more arrives
    },
  };
}

describe('sendFlows', () => {
  test('every datagram arrives, byte-identical to packets(), and the summary matches the wire', async () => {
    const rx = await receiver('udp4');
    try {
      const o: GenOptions = { proto: 'v9', host: '127.0.0.1', port: rx.port, records: 4000, rate: 40_000, seed: 9, startTimeMs: Date.UTC(2026, 1, 1), templateEvery: 20 };
      const s = await sendFlows(o);
      await rx.settle(s.packets);
      assert.equal(rx.got.length, s.packets);
      assert.equal(s.records, 4000);
      assert.equal(s.send_errors, 0);
      const expected = [...new FlowGenerator(o).packets()];
      assert.equal(rx.got.length, expected.length);
      rx.got.forEach((d, i) => assert.ok(d.equals(expected[i]), `datagram ${i}`));
      const t = exportTotals(rx.got);
      assert.equal(t.records, s.records);
      assert.equal(t.octets, s.bytes);
      assert.equal(t.packets, s.packets_field);
      assert.equal(rx.got.reduce((n, d) => n + d.length, 0), s.datagram_bytes);
      // paced: 4000 records at 40k/s take about 0.1 s
      assert.ok(s.seconds >= 0.08 && s.seconds < 2, `took ${s.seconds} s`);
    } finally {
      rx.close();
    }
  });

  test('IPv6 loopback, wall-clock headers, IPFIX', async () => {
    const rx = await receiver('udp6');
    try {
      const before = Math.floor(Date.now() / 1000);
      const s = await sendFlows({ proto: 'ipfix-varlen', host: '::1', port: rx.port, records: 1000, rate: 0, seed: 2 });
      await rx.settle(s.packets);
      assert.equal(s.target, `[::1]:${rx.port}`);
      assert.equal(rx.got.length, s.packets);
      const t = exportTotals(rx.got);
      assert.equal(t.octets, s.bytes);
      assert.ok(t.exportSecs.every((x) => x >= before && x <= Math.ceil(Date.now() / 1000)));
      assert.ok(Date.parse(s.last_flow_end!) <= Date.now());
    } finally {
      rx.close();
    }
  });

  test('abort stops early; the summary still covers exactly what was sent', async () => {
    const rx = await receiver('udp4');
    try {
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 150);
      const s = await sendFlows({ proto: 'v5', host: '127.0.0.1', port: rx.port, records: 100_000, rate: 5000, seed: 1 }, ac.signal);
      await rx.settle(s.packets);
      assert.ok(s.records > 0 && s.records < 100_000, `${s.records} records`);
      assert.equal(rx.got.length, s.packets);
      assert.equal(exportTotals(rx.got).octets, s.bytes);
    } finally {
      rx.close();
    }
  });

  test('refuses a non-loopback target before sending', async () => {
    await assert.rejects(sendFlows({ proto: 'v5', host: '192.0.2.7', port: 2055, records: 10, rate: 0, seed: 1 }), /non-loopback/);
  });
});
