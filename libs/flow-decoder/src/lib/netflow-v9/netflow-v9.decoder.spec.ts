import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIRECTION, FlowBatch, FLOW_TYPE } from '../flow-batch';
import { FlowDecoder } from '../flow-decoder';
import { be, f, record, set, v9OptionsTemplateSet, v9Packet, v9TemplateSet, type Field } from '../../testing/packets';
import { row } from '../../testing/rows';

const SECS = 1_700_000_000;
const UPTIME = 3_600_000;
const EXPORT_MS = SECS * 1000;
const EXP = '192.0.2.10';

// a typical v4 template: reduced-size counters, 2-byte interfaces
const V4_FIELDS: Field[] = [
  f(8, 4), f(12, 4), f(15, 4), f(7, 2), f(11, 2), f(4, 1), f(6, 1), f(5, 1),
  f(1, 4), f(2, 4), f(10, 2), f(14, 2), f(16, 4), f(17, 4), f(9, 1), f(13, 1),
  f(22, 4), f(21, 4), f(61, 1), f(58, 2), f(56, 6), f(80, 6), f(48, 1),
];
const v4Values = (src: string, sampler = 0) => [
  src, '172.16.5.6', '10.0.0.1', 40000, 53, 17, 0, 0xb8,
  1500, 3, 11, 12, 64500, 15169, 8, 24,
  UPTIME - 60_000, UPTIME - 1_000, 1, 101, '00:11:22:33:44:55', '66:77:88:99:aa:bb', sampler,
];

// v6 template: 8-byte counters, vendor field 40001 and a field too long for an integer
const V6_FIELDS: Field[] = [f(27, 16), f(28, 16), f(62, 16), f(7, 2), f(11, 2), f(4, 1), f(29, 1), f(30, 1), f(1, 8), f(2, 8), f(40001, 2), f(95, 12), f(22, 4), f(21, 4)];

const header = (seq: number, sourceId = 7, uptime = UPTIME) => ({ uptime, secs: SECS, seq, sourceId });

function v9Stats(d: FlowDecoder, domain = 7) {
  return d.exporterStats().find((s) => s.protocol === 'netflow_v9' && s.observation_domain === domain)!;
}

describe('NetFlow v9', () => {
  test('template and data in one packet: every canonical field', () => {
    const d = new FlowDecoder();
    const out = new FlowBatch(8);
    const pkt = v9Packet(header(1), [
      v9TemplateSet({ id: 256, fields: V4_FIELDS }),
      set(256, record(V4_FIELDS, v4Values('10.1.1.1'))),
    ]);
    const res = d.decode(pkt, EXP, 123, out);
    assert.deepEqual(res, { protocol: 'netflow_v9', records: 1, errors: 0 });
    assert.deepEqual(row(out, 0), {
      time_received: 123,
      flow_start: EXPORT_MS - 60_000,
      flow_end: EXPORT_MS - 1_000,
      exporter_addr: EXP,
      observation_domain: 7,
      flow_type: FLOW_TYPE.netflow_v9,
      sampling_rate: 1,
      ip_version: 4,
      src_addr: '10.1.1.1',
      dst_addr: '172.16.5.6',
      src_port: 40000,
      dst_port: 53,
      protocol: 17,
      tcp_flags: 0,
      tos: 0xb8,
      bytes: 1500,
      packets: 3,
      in_if: 11,
      out_if: 12,
      src_as: 64500,
      dst_as: 15169,
      next_hop: '10.0.0.1',
      src_mask: 8,
      dst_mask: 24,
      direction: DIRECTION.egress,
      vlan: 101,
      src_mac: '00:11:22:33:44:55',
      dst_mac: '66:77:88:99:aa:bb',
      extra: [],
    });
    const s = v9Stats(d);
    assert.equal(s.templates, 1);
    assert.equal(s.records, 1);
  });

  test('IPv6, 64-bit counters, vendor and oversized fields go to extra', () => {
    const d = new FlowDecoder();
    const out = new FlowBatch(8);
    const big = 2 ** 40 + 5;
    const appId = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    const pkt = v9Packet(header(1), [
      v9TemplateSet({ id: 300, fields: V6_FIELDS }),
      set(300, record(V6_FIELDS, ['2001:db8::1', '2001:db8:0:0:1::2', 'fe80::1', 1, 2, 58, 64, 48, BigInt(big), 7n, 0xbeef, appId, UPTIME, UPTIME])),
    ]);
    d.decode(pkt, '2001:db8:ffff::9', 0, out);
    const r = row(out, 0);
    assert.equal(r.ip_version, 6);
    assert.equal(r.src_addr, '2001:db8::1');
    assert.equal(r.dst_addr, '2001:db8::1:0:0:2'); // first of two equal zero runs
    assert.equal(r.next_hop, 'fe80::1');
    assert.equal(r.exporter_addr, '2001:db8:ffff::9');
    assert.equal(r.src_mask, 64);
    assert.equal(r.dst_mask, 48);
    assert.equal(r.bytes, big);
    assert.equal(r.packets, 7);
    assert.equal(r.flow_start, EXPORT_MS);
    assert.deepEqual(r.extra, [
      { pen: 0, id: 40001, value: 0xbeef },
      { pen: 0, id: 95, value: appId },
    ]);
  });

  test('sampling from options data: sampler id selects the rate, one sampler is the default', () => {
    const d = new FlowDecoder();
    const out = new FlowBatch(8);
    // scope: system (type 1, 4 bytes); options: sampler id (48), algorithm (49), interval (34)
    const opts = v9OptionsTemplateSet(257, [f(1, 4)], [f(48, 1), f(49, 1), f(34, 4)]);
    const optData = set(257, new Uint8Array([...record([f(1, 4), f(48, 1), f(49, 1), f(34, 4)], [0, 3, 2, 1000]), ...record([f(1, 4), f(48, 1), f(49, 1), f(34, 4)], [0, 4, 2, 64])]));
    const tpl = v9TemplateSet({ id: 256, fields: V4_FIELDS });
    d.decode(v9Packet(header(1), [tpl, opts, optData]), EXP, 0, out);
    d.decode(v9Packet(header(2), [set(256, new Uint8Array([...record(V4_FIELDS, v4Values('10.0.0.3', 3)), ...record(V4_FIELDS, v4Values('10.0.0.4', 4)), ...record(V4_FIELDS, v4Values('10.0.0.5', 9))]))]), EXP, 0, out);
    assert.equal(out.length, 3);
    // sampler 9 unknown and two samplers known: no default -> 1
    assert.deepEqual([...out.sampling_rate.subarray(0, 3)], [1000, 64, 1]);
    // a source id with a single sampler (no id in the data) uses it as the default
    const single = v9OptionsTemplateSet(258, [f(1, 4)], [f(34, 4)]);
    d.decode(v9Packet(header(1, 8), [single, set(258, record([f(1, 4), f(34, 4)], [0, 512])), tpl, set(256, record(V4_FIELDS, v4Values('10.0.0.6', 0)))]), EXP, 0, out);
    assert.equal(out.sampling_rate[3], 512);
    assert.equal(out.observation_domain[3], 8);
  });

  test('data before its template is held, then decoded with its own timestamps', () => {
    const d = new FlowDecoder();
    const out = new FlowBatch(8);
    const r1 = d.decode(v9Packet(header(1, 7, UPTIME), [set(256, record(V4_FIELDS, v4Values('10.9.0.1')))]), EXP, 1000, out);
    assert.deepEqual(r1, { protocol: 'netflow_v9', records: 0, errors: 0 });
    assert.equal(v9Stats(d).pending, 1);
    const r2 = d.decode(v9Packet({ uptime: UPTIME + 5000, secs: SECS + 5, seq: 2, sourceId: 7 }, [v9TemplateSet({ id: 256, fields: V4_FIELDS })]), EXP, 6000, out);
    assert.deepEqual(r2, { protocol: 'netflow_v9', records: 1, errors: 0 });
    const r = row(out, 0);
    assert.equal(r.src_addr, '10.9.0.1');
    assert.equal(r.time_received, 1000);
    assert.equal(r.flow_start, EXPORT_MS - 60_000);
    const s = v9Stats(d);
    assert.equal(s.pending, 0);
    assert.equal(s.records, 1);
    assert.deepEqual(s.errors, {});
  });

  test('held data expires after pendingMaxAgeMs and is counted', () => {
    const d = new FlowDecoder({ pendingMaxAgeMs: 1000 });
    const out = new FlowBatch(8);
    d.decode(v9Packet(header(1), [set(256, record(V4_FIELDS, v4Values('10.9.0.1')))]), EXP, 0, out);
    d.decode(v9Packet(header(2), [v9TemplateSet({ id: 300, fields: V6_FIELDS })]), EXP, 5000, out);
    assert.deepEqual(v9Stats(d).errors, { pending_expired: 1 });
    assert.equal(v9Stats(d).pending, 0);
    const r = d.decode(v9Packet(header(3), [v9TemplateSet({ id: 256, fields: V4_FIELDS })]), EXP, 5001, out);
    assert.equal(r.records, 0);
    assert.equal(out.length, 0);
  });

  test('with holding disabled, data for an unknown template is missing_template', () => {
    const d = new FlowDecoder({ pendingMaxSetsPerExporter: 0 });
    const out = new FlowBatch(8);
    const r = d.decode(v9Packet(header(1), [set(256, record(V4_FIELDS, v4Values('10.9.0.1')))]), EXP, 0, out);
    assert.deepEqual(r, { protocol: 'netflow_v9', records: 0, errors: 1, error: 'missing_template' });
  });

  test('sequence counts packets per source id', () => {
    const d = new FlowDecoder();
    const out = new FlowBatch(8);
    const tpl = v9TemplateSet({ id: 256, fields: V4_FIELDS });
    for (const seq of [10, 11, 14, 12, 15]) d.decode(v9Packet(header(seq), [tpl]), EXP, 0, out);
    for (const seq of [100, 101]) d.decode(v9Packet(header(seq, 9), [tpl]), EXP, 0, out);
    assert.equal(v9Stats(d).sequence_lost, 1); // 12 and 13 missing at 14, 12 arrived late
    assert.equal(v9Stats(d).sequence_out_of_order, 1);
    assert.equal(v9Stats(d, 9).sequence_lost, 0);
    // exporter restart: uptime back to a few seconds
    d.decode(v9Packet(header(0, 7, 3000), [tpl]), EXP, 0, out);
    d.decode(v9Packet(header(1, 7, 4000), [tpl]), EXP, 0, out);
    assert.equal(v9Stats(d).sequence_resets, 1);
    assert.equal(v9Stats(d).sequence_lost, 1);
    // wrap at 2^32 is not loss
    d.decode(v9Packet(header(0xffffffff, 10), [tpl]), EXP, 0, out);
    d.decode(v9Packet(header(0, 10), [tpl]), EXP, 0, out);
    assert.equal(v9Stats(d, 10).sequence_lost, 0);
  });

  test('onTemplate fires for new and changed templates, not for refreshes', () => {
    const d = new FlowDecoder();
    const seen: string[] = [];
    d.onTemplate = (e, dom, id) => seen.push(`${e}/${dom}/${id}`);
    const out = new FlowBatch(8);
    d.decode(v9Packet(header(1), [v9TemplateSet({ id: 256, fields: V4_FIELDS })]), EXP, 0, out);
    d.decode(v9Packet(header(2), [v9TemplateSet({ id: 256, fields: V4_FIELDS })]), EXP, 0, out);
    d.decode(v9Packet(header(3), [v9TemplateSet({ id: 256, fields: V6_FIELDS })]), EXP, 0, out);
    assert.deepEqual(seen, [`${EXP}/7/256`, `${EXP}/7/256`]);
    assert.equal(v9Stats(d).templates, 1);
  });

  test('padding after records and non-zero garbage after records', () => {
    const d = new FlowDecoder();
    const out = new FlowBatch(8);
    const fields = [f(8, 4), f(12, 4), f(4, 1)]; // 9-byte records: the set gets 3 bytes of zero padding
    const tpl = v9TemplateSet({ id: 256, fields });
    const r1 = d.decode(v9Packet(header(1), [tpl, set(256, record(fields, ['1.1.1.1', '2.2.2.2', 6]))]), EXP, 0, out);
    assert.deepEqual(r1, { protocol: 'netflow_v9', records: 1, errors: 0 });
    const body = new Uint8Array([...record(fields, ['1.1.1.1', '2.2.2.2', 6]), 1, 2, 3]);
    const r2 = d.decode(v9Packet(header(2), [set(256, body)]), EXP, 0, out);
    assert.deepEqual(r2, { protocol: 'netflow_v9', records: 1, errors: 1, error: 'bad_record' });
    void be;
  });
});
