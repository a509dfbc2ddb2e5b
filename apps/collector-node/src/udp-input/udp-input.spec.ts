import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { Registry } from 'prom-client';
import { Logger, loadConfig } from '@flowmesh/common';
import { metricValue } from '../testing/metric-value';
import { UdpInput } from './udp-input.component';
import { ListenersConfig } from './udp-input.config';
import { UdpInputMetrics } from './udp-input.metrics';

const quiet = new Logger('test', 'error');

function listeners(overrides: string[]): ListenersConfig {
  return loadConfig(ListenersConfig, { overrides });
}

for (const receiver of ['recvmmsg', 'dgram'] as const)
describe(`UdpInput (receiver ${receiver})`, () => {
  test('binds the enabled listeners, hands every datagram to the sink and counts it', async () => {
    const got: { len: number; exporter: string }[] = [];
    const registry = new Registry();
    const udp = new UdpInput(
      listeners(['netflow.address=127.0.0.1', 'netflow.port=0', 'ipfix.address=127.0.0.1', 'ipfix.port=0', 'sflow.enabled=false', 'receiveBufferBytes=1048576', `receiver=${receiver}`]),
      { handle: (p, exporter) => got.push({ len: p.length, exporter }) },
      new UdpInputMetrics(registry),
      quiet,
      (e) => assert.fail(e),
    );
    await udp.start();
    const tx = createSocket('udp4');
    try {
      const bound = udp.listeners();
      assert.deepEqual(
        bound.map((l) => l.name),
        ['netflow', 'ipfix'],
      );
      assert.ok(bound.every((l) => l.port > 0 && l.receiveBufferBytes > 0 && l.receiver === receiver));
      assert.deepEqual(udp.health(), { status: 'ok' });
      const granted = await metricValue(registry, 'flowmesh_collector_udp_receive_buffer_bytes', { listener: 'netflow' });
      assert.equal(granted, bound[0].receiveBufferBytes);

      const send = (port: number, n: number) => new Promise<void>((r) => tx.send(Buffer.alloc(n, 1), port, '127.0.0.1', () => r()));
      await send(bound[0].port, 100);
      await send(bound[0].port, 50);
      await send(bound[1].port, 7);
      const end = Date.now() + 2000;
      while (got.length < 3 && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
      assert.equal(got.length, 3);

      assert.ok(got.every((g) => g.exporter === '127.0.0.1'));
      assert.equal(await metricValue(registry, 'flowmesh_collector_udp_packets_received_total', { listener: 'netflow' }), 2);
      assert.equal(await metricValue(registry, 'flowmesh_collector_udp_received_bytes_total', { listener: 'netflow' }), 150);
      assert.equal(await metricValue(registry, 'flowmesh_collector_udp_packets_received_total', { listener: 'ipfix' }), 1);
      assert.equal(await metricValue(registry, 'flowmesh_collector_udp_packets_received_total', { listener: 'sflow' }), undefined);
      // Bound again on the same ports right after stop (a listener change from the config agent does this).
      const [p1, p2] = bound.map((l) => l.port);
      await udp.stop();
      const again = new UdpInput(
        listeners(['netflow.address=127.0.0.1', `netflow.port=${p1}`, 'ipfix.address=127.0.0.1', `ipfix.port=${p2}`, 'sflow.enabled=false', `receiver=${receiver}`]),
        { handle: (p, exporter) => got.push({ len: p.length, exporter }) },
        new UdpInputMetrics(new Registry()),
        quiet,
        (e) => assert.fail(e),
      );
      await again.start();
      await send(p2, 10);
      while (got.length < 4 && Date.now() < end + 2000) await new Promise((r) => setTimeout(r, 5));
      await again.stop();
      assert.deepEqual(got[3], { len: 10, exporter: '127.0.0.1' });
    } finally {
      tx.close();
      await udp.stop();
    }
  });

  test('a port already in use fails start naming the listener (no SO_REUSEADDR sharing)', async () => {
    const holder = createSocket('udp4');
    await new Promise<void>((r) => holder.bind(0, '127.0.0.1', () => r()));
    const port = holder.address().port;
    const udp = new UdpInput(
      listeners(['netflow.address=127.0.0.1', `netflow.port=${port}`, 'ipfix.enabled=false', 'sflow.enabled=false', `receiver=${receiver}`]),
      { handle: () => undefined },
      new UdpInputMetrics(new Registry()),
      quiet,
      () => undefined,
    );
    await assert.rejects(udp.start(), new RegExp(`listener netflow: cannot bind 127.0.0.1:${port}: .*EADDRINUSE`));
    assert.equal(udp.health().status, 'error');
    holder.close();
  });
});
