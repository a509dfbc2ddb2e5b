import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '@flowmesh/common';
import { MASTER_ENV_PREFIX, MasterConfig } from './master.config';

describe('MasterConfig', () => {
  test('defaults', () => {
    const c = loadConfig(MasterConfig, { env: {}, envPrefix: MASTER_ENV_PREFIX });
    assert.equal(c.http.host, '0.0.0.0');
    assert.equal(c.http.port, 8080);
    assert.equal(c.dataDir, './data');
    assert.equal(c.nodeDownAfterMs, 6000);
    const { cluster, ...limits } = c.query;
    assert.deepEqual({ ...limits }, { timeoutMs: 10_000, maxTopN: 1000, maxConcurrency: 8, maxRows: 1_000_000, maxMemoryBytes: 2 * 1024 ** 3, maxExportRows: 10_000_000 });
    assert.deepEqual({ ...cluster }, { url: '', name: 'flowmesh_cluster', database: 'flowmesh', tableSuffix: '_all', username: 'default', password: '', requestTimeoutMs: 60_000 }, 'cluster mode off');
    assert.equal(c.redis.url, process.env.REDIS_URL || 'redis://127.0.0.1:6379');
  });

  test('query.cluster: a URL must be http(s), names must be identifiers; each error names its field', () => {
    const ok = loadConfig(MasterConfig, { env: {}, envPrefix: MASTER_ENV_PREFIX, overrides: ['query.cluster.url=http://ch-1.example:8123', 'query.cluster.username=reader'] });
    assert.equal(ok.query.cluster.url, 'http://ch-1.example:8123');
    for (const [set, field] of [
      ['query.cluster.url=ftp://x', 'query.cluster.url'],
      ['query.cluster.name=bad name', 'query.cluster.name'],
      ['query.cluster.tableSuffix=_all;DROP', 'query.cluster.tableSuffix'],
      ['query.maxRows=10', 'query.maxRows'],
    ]) {
      assert.throws(() => loadConfig(MasterConfig, { env: {}, envPrefix: MASTER_ENV_PREFIX, overrides: [set] }), (e: Error) => e instanceof ConfigError && e.message.includes(field), set);
    }
  });

  test('environment and --set override, with numbers converted', () => {
    const c = loadConfig(MasterConfig, {
      env: { FLOWMESH_MASTER_HTTP__PORT: '9001', FLOWMESH_MASTER_QUERY__MAX_TOP_N: '50', FLOWMESH_MASTER_REDIS__URL: 'redis://10.0.0.1:6379' },
      envPrefix: MASTER_ENV_PREFIX,
      overrides: ['query.timeoutMs=2500', 'dataDir=/var/lib/flowmesh'],
    });
    assert.equal(c.http.port, 9001);
    assert.equal(c.query.maxTopN, 50);
    assert.equal(c.query.timeoutMs, 2500);
    assert.equal(c.redis.url, 'redis://10.0.0.1:6379');
    assert.equal(c.dataDir, '/var/lib/flowmesh');
  });

  test('REDIS_URL is honoured unless FLOWMESH_MASTER_REDIS__URL is set', () => {
    const saved = process.env.REDIS_URL;
    process.env.REDIS_URL = 'redis://127.0.0.2:6390';
    try {
      assert.equal(loadConfig(MasterConfig, { env: {}, envPrefix: MASTER_ENV_PREFIX }).redis.url, 'redis://127.0.0.2:6390');
      const explicit = loadConfig(MasterConfig, { env: { FLOWMESH_MASTER_REDIS__URL: 'redis://127.0.0.3:6391' }, envPrefix: MASTER_ENV_PREFIX });
      assert.equal(explicit.redis.url, 'redis://127.0.0.3:6391');
    } finally {
      if (saved === undefined) delete process.env.REDIS_URL;
      else process.env.REDIS_URL = saved;
    }
  });

  test('bad values and unknown keys are errors naming the key', () => {
    const err = (overrides: string[]) => {
      try {
        loadConfig(MasterConfig, { env: {}, envPrefix: MASTER_ENV_PREFIX, overrides });
      } catch (e) {
        assert.ok(e instanceof ConfigError);
        return e.problems.join('\n');
      }
      assert.fail(`accepted ${overrides.join(' ')}`);
    };
    assert.match(err(['http.port=70000']), /^http\.port: must not be greater than 65535/m);
    assert.match(err(['query.maxConcurrency=0']), /^query\.maxConcurrency: /m);
    assert.match(err(['redis.url=localhost:6379']), /^redis\.url: must be a redis:\/\//m);
    assert.match(err(['query.topN=5']), /^query\.topN: unknown key/m);
  });
});
