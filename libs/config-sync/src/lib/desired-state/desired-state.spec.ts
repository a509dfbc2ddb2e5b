import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '@flowmesh/common';
import { canonicalJson, diffJson, hashJson } from './canonical-json';
import { ConfigSpec, ProfileSpec } from './desired-state.dto';
import { effectiveConfig } from './effective-config';
import { cronError, isIpOrCidr, setFilterValidator } from './spec-rules';
import { parseScope, specProblems, validateSpec } from './validate-spec';

const good: ConfigSpec = {
  exporters: [
    { address: '10.0.0.1', name: 'edge-1', interfaces: { '1': 'ge-0/0/0', '2': 'ge-0/0/1' }, samplingRate: 100, allow: true },
    { address: '2001:db8::/32', defaultSamplingRate: 1000 },
  ],
  listeners: { netflow: { enabled: true, address: '0.0.0.0', port: 2055 }, ipfix: { port: 4739 }, receiveBufferBytes: 8 << 20 },
  storage: { engine: 'clickhouse', url: 'http://127.0.0.1:8123', database: 'flowmesh', batchRows: 50000, retention: { rawDays: 7, minuteDays: 30, hourDays: 365 } },
  profiles: [{ name: 'DMZ', description: 'dmz', channels: [{ name: 'web', filter: 'dst port 443' }, { name: 'mail', filter: 'dst port 25' }] }],
  alertRules: [{ name: 'ddos', profile: 'DMZ', metric: 'packets', threshold: 1e6, windowSeconds: 60, severity: 'critical' }],
  reports: [{ name: 'daily top', schedule: '0 6 * * mon-fri', query: { by: 'src_addr', limit: 10 }, format: 'csv', recipients: ['noc@example.org'] }],
};

function problemsOf(spec: unknown): string[] {
  try {
    validateSpec(spec);
    return [];
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    return e.problems;
  }
}

describe('desired-state DTOs', () => {
  test('a full document is valid and returned unchanged', () => {
    assert.deepEqual(specProblems(good), []);
    assert.equal(validateSpec(good), good);
  });

  test('messages name the path of the bad value, with list indexes', () => {
    const spec = structuredClone(good) as unknown as { exporters: Record<string, unknown>[] };
    spec.exporters.push({ address: '10.0.0.2' }, { address: 'x' });
    assert.deepEqual(problemsOf(spec), ['exporters[3].address: must be an IP address or CIDR (got "x")']);
  });

  test('unknown keys are refused, naming the key at any depth', () => {
    const p = problemsOf({ exporters: [{ address: '10.0.0.1', colour: 'red' }], listeners: { netflow: { prot: 1 } }, extra: 1 });
    assert.deepEqual(p.sort(), ['exporters[0].colour: unknown key', 'extra: unknown key', 'listeners.netflow.prot: unknown key']);
  });

  test('every kind of bad value is reported, several at once', () => {
    const p = problemsOf({
      exporters: [{ address: '10.0.0.0/33', interfaces: { eth0: 'x' }, samplingRate: 0 }],
      listeners: { sflow: { port: 70000, address: '10.0.0.0/8' } },
      storage: { engine: 'mysql', retention: { rawDays: -1 } },
      profiles: [{ name: 'p', channels: [{ name: 'c', filter: '' }] }, { name: 'p', channels: [] }],
      alertRules: [{ name: 'a', metric: 'bits', threshold: 1, windowSeconds: 60, severity: 'warning' }],
      reports: [{ name: 'r', schedule: '61 * * * *', query: {}, format: 'xls' }],
    });
    const paths = p.map((x) => x.slice(0, x.indexOf(':')));
    for (const want of [
      'exporters[0].address', 'exporters[0].interfaces', 'exporters[0].samplingRate', 'listeners.sflow.port', 'listeners.sflow.address',
      'storage.engine', 'storage.retention.rawDays', 'profiles[0].channels[0].filter', 'profiles[1].channels', 'alertRules[0].metric',
      'reports[0].schedule', 'reports[0].format',
    ]) assert.ok(paths.includes(want), `${want} missing from ${JSON.stringify(p, null, 1)}`);
    assert.ok(p.includes('reports[0].schedule: invalid cron expression: minute field: "61" is not in 0-59 (got "61 * * * *")'), p.join('\n'));
  });

  test('null is never a valid value; required fields of list items are required', () => {
    assert.deepEqual(problemsOf({ storage: { url: null } }).sort(), ['storage.url: must be a string (got null)', 'storage.url: must be an http(s) URL (got null)'].sort());
    const p = problemsOf({ alertRules: [{ name: 'a' }] });
    assert.ok(p.some((x) => x.startsWith('alertRules[0].metric:')) && p.some((x) => x.startsWith('alertRules[0].windowSeconds:')), p.join('\n'));
  });

  test('a deleted tombstone needs only its key; deleted must be true', () => {
    assert.deepEqual(problemsOf({ alertRules: [{ name: 'a', deleted: true }], exporters: [{ address: '10.0.0.1', deleted: true }] }), []);
    assert.deepEqual(problemsOf({ exporters: [{ address: '10.0.0.1', deleted: false }] }), [
      'exporters[0].deleted: must be true when present (use it to remove an inherited item) (got false)',
    ]);
  });

  test('duplicate keys in one document are refused', () => {
    assert.deepEqual(problemsOf({ exporters: [{ address: '10.0.0.1' }, { address: '10.0.0.1', name: 'b' }] }), [
      'exporters[1].address: duplicate key, already used by exporters[0] (got "10.0.0.1")',
    ]);
  });

  test('the top level must be an object; validation never throws anything but ConfigError', () => {
    assert.deepEqual(specProblems([1]), ['spec: must be an object (got [1])']);
    assert.deepEqual(problemsOf({ exporters: 'x' }).length > 0, true);
    assert.deepEqual(problemsOf({ profiles: [null] }).length > 0, true);
  });

  test('the filter validator hook is used for channel and alert filters, and can be reset', () => {
    setFilterValidator((f) => (f.includes('bogus') ? `unknown keyword "bogus"` : null));
    try {
      const p = problemsOf({
        profiles: [{ name: 'p', channels: [{ name: 'c', filter: 'bogus 1' }] }],
        alertRules: [{ name: 'a', filter: 'proto bogus', metric: 'flows', threshold: 1, windowSeconds: 1, severity: 'info' }],
      });
      assert.deepEqual(p, ['profiles[0].channels[0].filter: unknown keyword "bogus" (got "bogus 1")', 'alertRules[0].filter: unknown keyword "bogus" (got "proto bogus")']);
      assert.deepEqual(problemsOf({ profiles: [{ name: 'p', channels: [{ name: 'c', filter: 'x'.repeat(4097) }] }] }).length, 1);
    } finally {
      setFilterValidator(null);
    }
    // The default is the nfdump syntax of the query API: the error names the position.
    const [problem] = problemsOf({ profiles: [{ name: 'p', channels: [{ name: 'c', filter: 'dst port abc' }] }] });
    assert.match(problem, /^profiles\[0\]\.channels\[0\]\.filter: not a valid filter: at 9: /);
    assert.deepEqual(problemsOf({ profiles: [{ name: 'p', channels: [{ name: 'c', filter: 'src net 10.0.0.0/8 and (dst port 443 or channel web)' }] }] }), []);
  });

  test('scopes', () => {
    assert.deepEqual(parseScope('global'), { kind: 'global', name: '' });
    assert.deepEqual(parseScope('group:dc-1'), { kind: 'group', name: 'dc-1' });
    assert.deepEqual(parseScope('node:n1'), { kind: 'node', name: 'n1' });
    for (const bad of ['', 'globals', 'group:', 'node:UPPER', 'site:x']) assert.throws(() => parseScope(bad), ConfigError, bad);
  });

  test('cron syntax and IP/CIDR checks', () => {
    for (const ok of ['* * * * *', '*/5 0-6,22 1 jan-mar sun', '@daily', '0 0 1 12 7']) assert.equal(cronError(ok), null, ok);
    for (const bad of ['* * * *', '*/0 * * * *', '5-1 * * * *', '* 24 * * *', '@often', '* * * foo *', '1,,2 * * * *']) assert.notEqual(cronError(bad), null, bad);
    for (const ok of ['10.0.0.1', '10.0.0.0/8', '::1', '2001:db8::/128']) assert.ok(isIpOrCidr(ok), ok);
    for (const bad of ['10.0.0.256', '10.0.0.0/33', '::/129', '10.0.0.0/', 'host', '10.0.0.0/8/8']) assert.ok(!isIpOrCidr(bad), bad);
  });
});

describe('effectiveConfig', () => {
  const global: ConfigSpec = {
    exporters: [{ address: '10.0.0.1', name: 'g1', samplingRate: 10 }, { address: '10.0.0.2', name: 'g2' }, { address: '10.0.0.3', name: 'g3' }],
    listeners: { netflow: { enabled: true, address: '0.0.0.0', port: 2055 }, receiveBufferBytes: 1 << 20 },
    storage: { engine: 'chdb', database: 'flows', retention: { rawDays: 7, hourDays: 365 } },
    profiles: [{ name: 'DMZ', channels: [{ name: 'web', filter: 'port 80' }] }],
  };
  const group: ConfigSpec = {
    exporters: [{ address: '10.0.0.2', deleted: true }, { address: '10.0.0.4', name: 'grp4' }],
    listeners: { netflow: { port: 9995 } },
    storage: { retention: { rawDays: 3 } },
    profiles: [{ name: 'DMZ', channels: [{ name: 'mail', filter: 'port 25' }] }],
  };
  const node: ConfigSpec = {
    exporters: [{ address: '10.0.0.1', name: 'n1' }, { address: '10.0.0.2', name: 'back' }],
    listeners: { netflow: { enabled: false } },
    profiles: [{ name: 'DMZ', deleted: true } as ProfileSpec],
  };

  test('narrower wins: objects merge key by key, keyed items are replaced whole, tombstones remove', () => {
    const eff = effectiveConfig({ global, group, node });
    assert.deepEqual(eff, {
      exporters: [{ address: '10.0.0.1', name: 'n1' }, { address: '10.0.0.3', name: 'g3' }, { address: '10.0.0.4', name: 'grp4' }, { address: '10.0.0.2', name: 'back' }],
      listeners: { netflow: { enabled: false, address: '0.0.0.0', port: 9995 }, receiveBufferBytes: 1 << 20 },
      storage: { engine: 'chdb', database: 'flows', retention: { rawDays: 3, hourDays: 365 } },
      profiles: [],
    });
    assert.deepEqual(specProblems(eff), []);
  });

  test('without the node document the group replaces the profile; tombstones never survive', () => {
    const eff = effectiveConfig({ global, group });
    assert.deepEqual(eff.profiles, [{ name: 'DMZ', channels: [{ name: 'mail', filter: 'port 25' }] }]);
    assert.deepEqual(eff.exporters?.map((e) => e.address), ['10.0.0.1', '10.0.0.3', '10.0.0.4']);
    assert.deepEqual(effectiveConfig({ global: { exporters: [{ address: '10.9.9.9', deleted: true }] } }), { exporters: [] });
  });

  test('inputs are not modified; missing scopes are skipped', () => {
    const before = canonicalJson({ global, group, node });
    effectiveConfig({ global, group, node });
    assert.equal(canonicalJson({ global, group, node }), before);
    assert.deepEqual(effectiveConfig({}), {});
    assert.deepEqual(effectiveConfig({ node }), { exporters: node.exporters, listeners: node.listeners, profiles: [] });
  });
});

describe('canonical JSON, hash, diff', () => {
  test('hash is stable across key order, not across array order or values', () => {
    const a = { storage: { database: 'x', engine: 'chdb' }, exporters: [{ name: 'a', address: '10.0.0.1' }] };
    const b = { exporters: [{ address: '10.0.0.1', name: 'a' }], storage: { engine: 'chdb', database: 'x' } };
    assert.equal(canonicalJson(a), canonicalJson(b));
    assert.equal(hashJson(a), hashJson(b));
    assert.match(hashJson(a), /^[0-9a-f]{64}$/);
    assert.notEqual(hashJson(a), hashJson({ ...b, storage: { engine: 'chdb', database: 'y' } }));
    assert.notEqual(hashJson({ l: [1, 2] }), hashJson({ l: [2, 1] }));
    assert.equal(canonicalJson({ a: undefined, b: 1 }), '{"b":1}');
  });

  test('diff reports added, removed and changed paths; keyed sections by key', () => {
    const a: ConfigSpec = { exporters: [{ address: '10.0.0.1', name: 'a' }, { address: '10.0.0.2' }], storage: { batchRows: 1 }, reports: [] };
    const b: ConfigSpec = { exporters: [{ address: '10.0.0.2' }, { address: '10.0.0.1', name: 'b', samplingRate: 5 }], listeners: { receiveBufferBytes: 1 << 20 }, reports: [] };
    assert.deepEqual(diffJson(a, b), {
      added: [{ path: 'exporters[address=10.0.0.1].samplingRate', to: 5 }, { path: 'listeners', to: { receiveBufferBytes: 1 << 20 } }],
      removed: [{ path: 'storage', from: { batchRows: 1 } }],
      changed: [{ path: 'exporters[address=10.0.0.1].name', from: 'a', to: 'b' }],
    });
    assert.deepEqual(diffJson(a, a), { added: [], removed: [], changed: [] });
  });
});
