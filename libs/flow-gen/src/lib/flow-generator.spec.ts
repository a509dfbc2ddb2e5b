import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FlowGenerator } from './flow-generator';
import { GEN_PROTOS, type GenOptions, type GenProto } from './gen-options';
import { exportTotals } from './testing/export-totals';

const T0 = Date.UTC(2026, 0, 15, 12, 0, 0, 250);
const opts = (proto: GenProto, extra: Partial<GenOptions> = {}): GenOptions => ({
  proto, host: '127.0.0.1', port: 2055, records: 1234, rate: 0, seed: 42, startTimeMs: T0, ...extra,
});

describe('FlowGenerator', () => {
  for (const proto of GEN_PROTOS) {
    test(`${proto}: same seed gives byte-identical datagrams, another seed does not`, () => {
      const a = [...new FlowGenerator(opts(proto)).packets()];
      const b = [...new FlowGenerator(opts(proto)).packets()];
      const c = [...new FlowGenerator(opts(proto, { seed: 43 })).packets()];
      assert.equal(a.length, b.length);
      a.forEach((d, i) => assert.ok(d.equals(b[i]), `datagram ${i} differs`));
      assert.ok(a.some((d, i) => !d.equals(c[i])));
    });

    test(`${proto}: the planned summary equals what a parser reads back from the datagrams`, () => {
      const gen = new FlowGenerator(opts(proto));
      const pk = [...gen.packets()];
      const s = gen.plannedSummary();
      const t = exportTotals(pk);
      assert.deepEqual(t.errors, []);
      assert.equal(s.records, 1234);
      assert.equal(t.records, s.records);
      assert.equal(t.octets, s.bytes);
      assert.equal(t.packets, s.packets_field);
      assert.equal(t.datagrams, s.packets);
      assert.equal(t.templateOnly, s.template_packets);
      assert.equal(pk.reduce((n, d) => n + d.length, 0), s.datagram_bytes);
      assert.equal(new Date(t.firstStartMs).toISOString(), s.first_flow_start);
      assert.equal(new Date(t.lastEndMs).toISOString(), s.last_flow_end);
      // flows ended within the last minutes before the export time
      assert.ok(t.lastEndMs <= T0 && t.firstStartMs >= T0 - 5 * 60_000, `${s.first_flow_start}..${s.last_flow_end}`);
      assert.ok(s.bytes > s.packets_field * 40 && s.packets_field >= s.records);
    });
  }

  test('v5: flow_sequence counts the flows sent before each packet; short last packet', () => {
    const t = exportTotals(new FlowGenerator(opts('v5', { records: 100 })).packets());
    assert.deepEqual(t.sequences, [0, 30, 60, 90]);
    assert.equal(t.records, 100);
    assert.equal(t.templateOnly, 0);
  });

  test('v9: package_sequence counts packets before, template-only packets included', () => {
    const gen = new FlowGenerator(opts('v9', { records: 25 * 10, templateEvery: 4 }));
    const pk = [...gen.packets()];
    const t = exportTotals(pk);
    assert.equal(pk.length, 13); // templates before data packets 0, 4, 8
    assert.deepEqual(t.sequences, [...Array(13).keys()]);
    const templateAt = pk.map((d, i) => (d.readUInt16BE(20) === 0 ? i : -1)).filter((i) => i >= 0);
    assert.deepEqual(templateAt, [0, 5, 10]);
    assert.ok(t.recordsByTemplate[256] > 0 && t.recordsByTemplate[257] > 0, 'IPv4 and IPv6 records');
    assert.equal(t.recordsByTemplate[256] + t.recordsByTemplate[257], 250);
  });

  for (const proto of ['ipfix', 'ipfix-varlen', 'ipfix-ent'] as const) {
    test(`${proto}: sequence counts data records before the message; templates do not count`, () => {
      const pk = [...new FlowGenerator(opts(proto, { records: 25 * 5 + 7, templateEvery: 2 })).packets()];
      const t = exportTotals(pk);
      const isTemplate = pk.map((d) => d.readUInt16BE(16) === 2);
      assert.deepEqual(isTemplate, [true, false, false, true, false, false, true, false, false]);
      assert.deepEqual(t.sequences, [0, 0, 25, 50, 50, 75, 100, 100, 125]);
      assert.equal(t.records, 132);
    });
  }

  test('ipfix-varlen: 3-octet length form on every 16th record of a message, 1-octet otherwise', () => {
    const t = exportTotals(new FlowGenerator(opts('ipfix-varlen', { records: 25 * 8 + 10 })).packets());
    assert.equal(t.varlenLong, 8); // one per full message; the 10-record tail has none
    assert.equal(t.varlenShort, 210 - 8);
  });

  test('ipfix-ent: two PEN 32473 fields per record', () => {
    const t = exportTotals(new FlowGenerator(opts('ipfix-ent', { records: 300 })).packets());
    assert.equal(t.enterpriseFields, 600);
    assert.deepEqual(t.errors, []);
  });

  test('header clocks follow startTimeMs + records/rate; record times stay fixed', () => {
    for (const proto of ['v5', 'v9', 'ipfix'] as const) {
      const gen = new FlowGenerator(opts(proto, { records: 25 * 30 * 4, rate: 1000, perPacket: 25 }));
      const t = exportTotals(gen.packets());
      // the k-th data packet goes out after 25k records = 25k ms at 1000 records/s
      if (proto === 'v5') assert.deepEqual(t.exportSecs, t.sequences.map((rec) => Math.floor((T0 + rec) / 1000)));
      assert.equal(t.exportSecs[0], Math.floor(T0 / 1000), proto);
      assert.equal(t.exportSecs[t.exportSecs.length - 1], Math.floor((T0 + 25 * 119) / 1000), proto);
      assert.ok(t.datagrams >= 120);
      const s = gen.plannedSummary();
      assert.equal(new Date(t.firstStartMs).toISOString(), s.first_flow_start, `${proto}: decoded start times move with the clock`);
      assert.equal(new Date(t.lastEndMs).toISOString(), s.last_flow_end, proto);
    }
  });

  test('records: 0 sends nothing; a tiny run is one short packet', () => {
    assert.equal([...new FlowGenerator(opts('v9', { records: 0 })).packets()].length, 0);
    const one = [...new FlowGenerator(opts('v5', { records: 1 })).packets()];
    assert.equal(one.length, 1);
    assert.equal(one[0].length, 24 + 48);
  });

  test('rejects a non-loopback target and bad options, naming the option', () => {
    assert.throws(() => new FlowGenerator(opts('v5', { host: '192.0.2.1' })), /host: refusing non-loopback/);
    assert.throws(() => new FlowGenerator(opts('v5', { perPacket: 31 })), /perPacket/);
    assert.throws(() => new FlowGenerator(opts('v9', { records: -1 })), /records/);
    assert.throws(() => new FlowGenerator(opts('v9', { port: 70000 })), /port/);
  });
});
