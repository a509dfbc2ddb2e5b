import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '@flowmesh/common';
import { allowsUnknownExporters, CollectorConfig } from '../config/collector.config';
import { ExporterPolicy, parseCidr } from './exporter-policy';

describe('ExporterPolicy', () => {
  test('addresses and CIDRs, IPv4 (also as IPv4-mapped IPv6) and IPv6; the first match wins', () => {
    const p = new ExporterPolicy(
      [
        { address: '192.0.2.1', name: 'one', samplingRate: 7 },
        { address: '192.0.2.0/24', name: 'lab' },
        { address: '2001:db8:10::/48', name: 'v6', defaultSamplingRate: 100 },
        { address: '0.0.0.0/0', name: 'rest-v4' },
      ],
      false,
    );
    const name = (a: string) => {
      const d = p.decide(a);
      return d.allowed ? (d.settings?.name ?? '(none)') : 'DENIED';
    };
    assert.equal(name('192.0.2.1'), 'one');
    assert.equal(name('192.0.2.200'), 'lab');
    assert.equal(name('::ffff:192.0.2.9'), 'lab', 'a dual-stack socket reports IPv4 senders IPv4-mapped');
    assert.equal(name('2001:db8:10:ffff::1'), 'v6');
    assert.equal(name('2001:db8:11::1'), 'DENIED');
    assert.equal(name('198.51.100.1'), 'rest-v4');
    assert.equal(name('not an address'), 'DENIED');
    assert.equal(p.settings('192.0.2.1')?.samplingRate, 7);
    assert.equal(new ExporterPolicy([{ address: '2001:db8::1' }], true).decide('10.0.0.1').allowed, true, 'unknown allowed');
  });

  test('interface names by ifIndex', () => {
    const p = new ExporterPolicy([{ address: '192.0.2.1', interfaces: { '1': 'ge-0/0/1', '17': 'xe-1/0/0' } }], true);
    assert.equal(p.interfaceName('192.0.2.1', 17), 'xe-1/0/0');
    assert.equal(p.interfaceName('192.0.2.1', 2), undefined);
    assert.equal(p.interfaceName('192.0.2.2', 1), undefined);
  });

  test('prefix boundaries', () => {
    const p = new ExporterPolicy([{ address: '10.1.2.128/25' }, { address: 'fe80::/10' }], false);
    assert.equal(p.decide('10.1.2.127').allowed, false);
    assert.equal(p.decide('10.1.2.128').allowed, true);
    assert.equal(p.decide('10.1.2.255').allowed, true);
    assert.equal(p.decide('febf::1').allowed, true);
    assert.equal(p.decide('fec0::1').allowed, false);
    assert.equal(parseCidr('10.0.0.0/33'), undefined);
    assert.equal(parseCidr('2001:db8::/129'), undefined);
    assert.equal(parseCidr('10.0.0.0/8/8'), undefined);
    assert.equal(parseCidr('10.0.0.0/x'), undefined);
    assert.deepEqual(parseCidr('10.0.0.0/8')?.bits, 104);
  });

  test('config: exporters validated by path; unknown exporters allowed only when the list is empty unless set', () => {
    const c = loadConfig(CollectorConfig, {
      overrides: { exporters: [{ address: '192.0.2.0/24', name: 'lab', interfaces: { '3': 'eth3' }, samplingRate: 10 }], clock: { action: 'drop' } },
    });
    assert.equal(c.exporters[0].name, 'lab');
    assert.equal(allowsUnknownExporters(c), false);
    assert.equal(allowsUnknownExporters(loadConfig(CollectorConfig, {})), true);
    assert.equal(allowsUnknownExporters(loadConfig(CollectorConfig, { overrides: { exporters: [{ address: '192.0.2.1' }], allowUnknownExporters: true } })), true);
    assert.deepEqual([c.clock.maxFutureSec, c.clock.maxPastSec, c.clock.action], [300, 259200, 'drop']);
    assert.deepEqual([c.spool.maxBytes, c.spool.fsync, c.decode.workers], [1024 ** 3, true, 0]);
    let problems: string[] = [];
    try {
      loadConfig(CollectorConfig, {
        overrides: { exporters: [{ address: '192.0.2.0/40' }, { address: '10.0.0.1', samplingRate: 0, bogus: 1, interfaces: { eth0: 'x' } }], clock: { action: 'warp' } },
      });
    } catch (e) {
      assert.ok(e instanceof ConfigError);
      problems = e.problems;
    }
    const has = (prefix: string) => assert.ok(problems.some((m) => m.startsWith(prefix)), `${prefix} in ${problems.join('\n')}`);
    has('exporters.0.address: ');
    has('exporters.1.samplingRate: ');
    has('exporters.1.bogus: unknown key');
    has('exporters.1.interfaces: ');
    has('clock.action: ');
  });
});
