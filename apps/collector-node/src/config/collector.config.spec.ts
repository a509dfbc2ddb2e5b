import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '@flowmesh/common';
import { NODE_ID_PATTERN } from '@flowmesh/config-sync';
import { applyRedisUrlFallback, CollectorConfig, defaultNodeId, ENV_PREFIX } from './collector.config';

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    return e.problems;
  }
  assert.fail('expected the configuration to be refused');
}

describe('CollectorConfig', () => {
  test('defaults', () => {
    const c = loadConfig(CollectorConfig, {});
    assert.match(c.id, NODE_ID_PATTERN);
    assert.ok(c.id.startsWith('node-'));
    assert.equal(c.dataDir, './data');
    assert.equal(c.advertiseHost, '127.0.0.1');
    assert.deepEqual({ ...c.http }, { host: '127.0.0.1', port: 9100 });
    assert.deepEqual(
      [c.listeners.netflow.port, c.listeners.ipfix.port, c.listeners.sflow.port, c.listeners.receiveBufferBytes],
      [2055, 4739, 6343, 33554432],
    );
    assert.equal(c.listeners.sflow.enabled, true);
    assert.equal(c.listeners.sflow.address, '0.0.0.0');
    assert.equal(c.redis.url, 'redis://127.0.0.1:6379');
    assert.deepEqual([c.storage.engine, c.storage.batchRows, c.storage.batchMs, c.storage.memoryLimitBytes], ['chdb', 200000, 1000, 2 * 1024 ** 3]);
    assert.equal(c.heartbeatMs, 2000);
    assert.equal(c.group, undefined);
  });

  test('an unknown key is refused by its dotted path', () => {
    const p = problems(() => loadConfig(CollectorConfig, { overrides: { listeners: { netflow: { prot: 1 } }, bogus: true } }));
    assert.ok(p.includes('listeners.netflow.prot: unknown key'), p.join('\n'));
    assert.ok(p.includes('bogus: unknown key'), p.join('\n'));
  });

  test('a bad port is refused by its dotted path', () => {
    const p = problems(() => loadConfig(CollectorConfig, { overrides: ['listeners.ipfix.port=70000', 'http.port=-1'] }));
    assert.ok(p.some((m) => m.startsWith('listeners.ipfix.port: must not be greater than 65535')), p.join('\n'));
    assert.ok(p.some((m) => m.startsWith('http.port: must not be less than 0')), p.join('\n'));
    assert.ok(!p.some((m) => m.startsWith('listeners.netflow')), p.join('\n'));
  });

  test('a bad id, engine and boolean are named', () => {
    const p = problems(() => loadConfig(CollectorConfig, { overrides: ['id=Bad Id', 'storage.engine=sqlite', 'listeners.sflow.enabled=maybe'] }));
    assert.ok(p.some((m) => m.startsWith('id: ')), p.join('\n'));
    assert.ok(p.some((m) => m.startsWith('storage.engine: ')), p.join('\n'));
    assert.ok(p.some((m) => m.startsWith('listeners.sflow.enabled: ')), p.join('\n'));
  });

  test('setting one key of a listener keeps its other defaults', () => {
    const c = loadConfig(CollectorConfig, { overrides: ['listeners.ipfix.enabled=false', 'listeners.sflow.address=::1'] });
    assert.equal(c.listeners.ipfix.enabled, false);
    assert.equal(c.listeners.ipfix.port, 4739);
    assert.equal(c.listeners.sflow.port, 6343);
    assert.equal(c.listeners.sflow.address, '::1');
  });

  test('environment: FLOWMESH_NODE_HTTP__PORT and REDIS_URL fallback', () => {
    const env: Record<string, string | undefined> = { FLOWMESH_NODE_HTTP__PORT: '9101', FLOWMESH_NODE_STORAGE__BATCH_ROWS: '1000', REDIS_URL: 'redis://127.0.0.1:7001' };
    applyRedisUrlFallback(env);
    const c = loadConfig(CollectorConfig, { env, envPrefix: ENV_PREFIX });
    assert.equal(c.http.port, 9101);
    assert.equal(c.storage.batchRows, 1000);
    assert.equal(c.redis.url, 'redis://127.0.0.1:7001');

    const env2: Record<string, string | undefined> = { FLOWMESH_NODE_REDIS__URL: 'redis://127.0.0.1:7002', REDIS_URL: 'redis://127.0.0.1:7001' };
    applyRedisUrlFallback(env2);
    assert.equal(loadConfig(CollectorConfig, { env: env2, envPrefix: ENV_PREFIX }).redis.url, 'redis://127.0.0.1:7002');
  });

  test('default id from any hostname fits the id pattern', () => {
    for (const h of ['vm', 'Router-01.Example.COM', '_weird host!', '', 'x'.repeat(100)]) {
      const id = defaultNodeId(h);
      assert.match(id, NODE_ID_PATTERN, `${h} -> ${id}`);
    }
    assert.equal(defaultNodeId('Edge-01.Lab'), 'node-edge-01.lab');
  });
});
