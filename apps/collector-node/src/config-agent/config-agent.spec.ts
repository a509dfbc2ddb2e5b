import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, Socket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { Logger } from '@flowmesh/common';
import { StorageConfig } from '../storage/storage.config';
import { UdpInput } from '../udp-input/udp-input.component';
import { ListenersConfig } from '../udp-input/udp-input.config';
import { UdpInputMetrics } from '../udp-input/udp-input.metrics';
import { metricValue } from '../testing/metric-value';
import { ConfigAgentComponent } from './config-agent.component';
import { ConfigAgentMetrics } from './config-agent.metrics';
import { ControlPlaneConfig } from './control-plane.config';
import { DefaultNodeConfigTarget, ExporterRuleWithAllow, listenerProblems, mergeListeners } from './node-config-target';
import { UdpListenerControl } from './udp-listener-control';

const logger = new Logger('test', 'error');

async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const p = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

function holdPort(port: number): Promise<Socket> {
  const s = createSocket('udp4');
  return new Promise((r) => s.bind(port, '127.0.0.1', () => r(s)));
}

async function send(port: number, text: string): Promise<void> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.send(Buffer.from(text), port, '127.0.0.1', () => r()));
  s.close();
}

async function rig(extra: { setExporters?: boolean } = {}) {
  const listeners = new ListenersConfig();
  listeners.netflow.address = '127.0.0.1';
  listeners.netflow.port = await freeUdpPort();
  listeners.ipfix.enabled = false;
  listeners.sflow.enabled = false;
  const received: string[] = [];
  const registry = new Registry();
  const udp = new UdpInput(listeners, { handle: (p) => received.push(Buffer.from(p).toString()) }, new UdpInputMetrics(registry), logger, (e) => {
    throw e;
  });
  await udp.start();
  const exporterCalls: ExporterRuleWithAllow[][] = [];
  const target = new DefaultNodeConfigTarget({
    local: { listeners: JSON.parse(JSON.stringify(listeners)) as ListenersConfig, storage: new StorageConfig(), exporters: [], allowUnknownExporters: true },
    listeners: new UdpListenerControl(udp, listeners, logger),
    pipeline: extra.setExporters ? { setExporters: (r) => void exporterCalls.push(r) } : {},
    store: {},
    listenerChanges: 'rebind',
  });
  const dir = mkdtempSync(join(tmpdir(), 'cpnode-'));
  const metrics = new ConfigAgentMetrics(registry);
  const component = new ConfigAgentComponent(
    { nodeId: 'n1', dataDir: dir, connection: { redisUrl: 'redis://127.0.0.1:1' }, controlPlane: new ControlPlaneConfig() },
    target,
    metrics,
    logger,
  );
  const close = async () => {
    await udp.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  return { listeners, udp, target, component, received, close, exporterCalls, registry };
}

describe('node config target', () => {
  test('mergeListeners lays the master values over the local ones key by key', () => {
    const local = new ListenersConfig();
    const m = mergeListeners(local, { netflow: { port: 9995 }, receiveBufferBytes: 65536 });
    assert.equal(m.netflow.port, 9995);
    assert.equal(m.netflow.address, '0.0.0.0');
    assert.equal(m.ipfix.port, 4739);
    assert.equal(m.receiveBufferBytes, 65536);
    assert.equal(local.netflow.port, 2055, 'local config untouched');
  });

  test('listenerProblems names a port held by another process and duplicate ports', async () => {
    const port = await freeUdpPort();
    const other = await holdPort(port);
    try {
      const running = new ListenersConfig();
      const next = new ListenersConfig();
      next.netflow.address = '127.0.0.1';
      next.netflow.port = port;
      next.ipfix.address = '127.0.0.1';
      next.ipfix.port = port;
      next.sflow.enabled = false;
      const problems = await listenerProblems(next, running);
      assert.ok(problems.some((p) => p === `listeners.ipfix: 127.0.0.1:${port} is also used by listener netflow`), problems.join('\n'));
      assert.ok(problems.some((p) => p === `listeners.netflow: cannot bind udp 127.0.0.1:${port}: address already in use`), problems.join('\n'));
    } finally {
      other.close();
    }
  });

  test('a listener change re-binds the socket: datagrams arrive on the new port, the old one is released', async () => {
    const r = await rig();
    try {
      const oldPort = r.listeners.netflow.port;
      const newPort = await freeUdpPort();
      await r.component.applyConfig({ listeners: { netflow: { port: newPort } } }, { revision: 1 });
      assert.equal(r.udp.listeners()[0].port, newPort);
      await send(newPort, 'hello');
      await new Promise((res) => setTimeout(res, 100));
      assert.deepEqual(r.received, ['hello']);
      (await holdPort(oldPort)).close(); // the old port is free again
      // Dropping the section returns to the local port.
      await r.component.applyConfig({}, { revision: 2 });
      assert.equal(r.udp.listeners()[0].port, oldPort);
    } finally {
      await r.close();
    }
  });

  test('all or nothing: a taken port refuses the whole config; profiles stay and the old port still receives', async () => {
    const r = await rig();
    const taken = await freeUdpPort();
    const other = await holdPort(taken);
    try {
      await r.component.applyConfig({ profiles: [{ name: 'dmz', channels: [{ name: 'web', filter: 'port 80' }] }] }, { revision: 1 });
      assert.equal(r.target.profiles.length, 1);
      await assert.rejects(
        r.component.applyConfig({ listeners: { netflow: { port: taken } }, profiles: [{ name: 'voip', channels: [{ name: 'sip', filter: 'port 5060' }] }] }, { revision: 2 }),
        new RegExp(`refused revision 2: listeners.netflow: cannot bind udp 127.0.0.1:${taken}: address already in use`),
      );
      assert.deepEqual(r.target.profiles.map((p) => p.name), ['dmz']);
      await send(r.listeners.netflow.port, 'still');
      await new Promise((res) => setTimeout(res, 100));
      assert.deepEqual(r.received, ['still']);
    } finally {
      other.close();
      await r.close();
    }
  });

  test('sections the node cannot change at runtime are refused with the reason; exporters go through the pipeline hook', async () => {
    const r = await rig();
    try {
      await assert.rejects(r.component.applyConfig({ exporters: [{ address: '192.0.2.1', name: 'edge' }] }, { revision: 1 }), /exporters: this node version cannot change exporter rules at runtime/);
      await assert.rejects(r.component.applyConfig({ storage: { engine: 'clickhouse' } }, { revision: 1 }), /storage.engine: the node runs chdb/);
    } finally {
      await r.close();
    }
    const r2 = await rig({ setExporters: true });
    try {
      await r2.component.applyConfig({ exporters: [{ address: '192.0.2.1', name: 'edge', allow: false, samplingRate: 100 }] }, { revision: 1 });
      assert.deepEqual(r2.exporterCalls, [[{ address: '192.0.2.1', name: 'edge', allow: false, samplingRate: 100 }]]);
      await r2.component.applyConfig({}, { revision: 2 });
      assert.deepEqual(r2.exporterCalls[1], [], 'back to the local (empty) exporter list');
      assert.equal(await metricValue(r2.registry, 'flowmesh_collector_config_apply_failures_total', { reason: 'apply' }), 0);
    } finally {
      await r2.close();
    }
  });
});
