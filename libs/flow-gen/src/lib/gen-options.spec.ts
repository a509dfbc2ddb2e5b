import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { GenOptionError, resolveLoopback, validateGenOptions, type GenOptions } from './gen-options';

describe('resolveLoopback', () => {
  test('accepts 127.0.0.0/8, ::1 in any spelling, mapped 127/8 and localhost', () => {
    assert.deepEqual(resolveLoopback('127.0.0.1'), { address: '127.0.0.1', family: 4 });
    assert.deepEqual(resolveLoopback('127.3.2.1'), { address: '127.3.2.1', family: 4 });
    assert.deepEqual(resolveLoopback('localhost'), { address: '127.0.0.1', family: 4 });
    assert.deepEqual(resolveLoopback('::1'), { address: '::1', family: 6 });
    assert.deepEqual(resolveLoopback('[0:0:0:0:0:0:0:1]'), { address: '::1', family: 6 });
    assert.deepEqual(resolveLoopback('::ffff:127.0.0.2'), { address: '127.0.0.2', family: 4 });
  });

  test('refuses everything else with a message naming the host', () => {
    for (const h of ['10.0.0.1', '128.0.0.1', '0.0.0.0', '::', '::2', '2001:db8::1', '::ffff:10.0.0.1', 'example.com', '127.0.0.1.evil', '']) {
      assert.throws(() => resolveLoopback(h), (e: unknown) => e instanceof GenOptionError && e.option === 'host' && /non-loopback/.test(e.message), h);
    }
  });
});

describe('validateGenOptions', () => {
  const ok: GenOptions = { proto: 'v9', host: '127.0.0.1', port: 2055, records: 10, rate: 0, seed: 1 };
  test('accepts a plain option set', () => assert.doesNotThrow(() => validateGenOptions(ok)));
  const bad: Array<[Partial<GenOptions>, keyof GenOptions]> = [
    [{ proto: 'v7' as never }, 'proto'], [{ port: 0 }, 'port'], [{ port: 1.5 }, 'port'], [{ records: -1 }, 'records'],
    [{ rate: -5 }, 'rate'], [{ rate: NaN }, 'rate'], [{ seed: -1 }, 'seed'], [{ templateEvery: 0 }, 'templateEvery'],
    [{ proto: 'v5', perPacket: 31 }, 'perPacket'], [{ proto: 'v5', sourceId: 70000 }, 'sourceId'], [{ v6Share: 2 }, 'v6Share'],
    [{ startTimeMs: 5 }, 'startTimeMs'], [{ distinct: 0 }, 'distinct'], [{ templateWaitMs: -1 }, 'templateWaitMs'],
  ];
  for (const [patch, option] of bad) {
    test(`names ${option} for ${JSON.stringify(patch)}`, () => {
      assert.throws(() => validateGenOptions({ ...ok, ...patch }), (e: unknown) => e instanceof GenOptionError && e.option === option);
    });
  }
});
