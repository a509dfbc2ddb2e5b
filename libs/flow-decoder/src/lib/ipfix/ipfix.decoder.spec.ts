import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIRECTION, FlowBatch, FLOW_TYPE } from '../flow-batch';
import { FlowDecoder } from '../flow-decoder';
import {
  be,
  concat,
  f,
  ipfixMessage,
  ipfixOptionsTemplateRecord,
  ipfixOptionsTemplateSet,
  ipfixTemplateRecord,
  ipfixTemplateSet,
  ipfixWithdrawalSet,
  ntp,
  record,
  set,
  type Field,
} from '../../testing/packets';
import { row, rows } from '../../testing/rows';

const EXPORT = 1_700_000_000;
const EXPORT_MS = EXPORT * 1000;
const EXP = '203.0.113.5';
const hdr = (seq: number, odid = 1) => ({ exportTime: EXPORT, seq, odid });
const PEN = 29305;

const BASIC: Field[] = [f(8, 4), f(12, 4), f(7, 2), f(11, 2), f(4, 1), f(1, 8), f(2, 8), f(152, 8), f(153, 8)];
const basic = (src: string, start = EXPORT_MS - 2000, end = EXPORT_MS - 1000) => record(BASIC, [src, '10.0.0.2', 1234, 80, 6, 1000, 10, start, end]);

function ipfixStats(d: FlowDecoder, odid = 1) {
  return d.exporterStats().find((s) => s.protocol === 'ipfix' && s.observation_domain === odid)!;
}

describe('IPFIX', () => {
  test('several templates per set, several sets per message, padding', () => {
    const d = new FlowDecoder();
    const out = new FlowBatch(16);
    const V6: Field[] = [f(27, 16), f(28, 16), f(4, 1), f(85, 8), f(86, 4), f(150, 4), f(151, 4), f(60, 1)];
    const msg = ipfixMessage(hdr(0), [
      set(2, concat(ipfixTemplateRecord(256, BASIC), ipfixTemplateRecord(257, V6)), 8), // 8-aligned: padding
      set(256, concat(basic('1.1.1.1'), basic('1.1.1.2')), 8),
      set(257, record(V6, ['2001:db8::a', '2001:db8::b', 17, 5000n, 4, EXPORT - 10, EXPORT - 5, 6]), 8),
      set(256, basic('1.1.1.3')),
    ]);
    const res = d.decode(msg, EXP, 5, out);
    assert.deepEqual(res, { protocol: 'ipfix', records: 4, errors: 0 });
    const r = rows(out);
    assert.deepEqual(r.map((x) => x.src_addr), ['1.1.1.1', '1.1.1.2', '2001:db8::a', '1.1.1.3']);
    assert.equal(r[0].flow_type, FLOW_TYPE.ipfix);
    assert.equal(r[0].observation_domain, 1);
    assert.equal(r[0].flow_start, EXPORT_MS - 2000);
    assert.equal(r[0].flow_end, EXPORT_MS - 1000);
    assert.equal(r[0].bytes, 1000);
    assert.equal(r[0].ip_version, 4);
    assert.equal(r[2].ip_version, 6);
    assert.equal(r[2].bytes, 5000); // octetTotalCount when no octetDeltaCount
    assert.equal(r[2].packets, 4);
    assert.equal(r[2].flow_start, EXPORT_MS - 10_000);
    assert.equal(r[2].flow_end, EXPORT_MS - 5_000);
    assert.equal(ipfixStats(d).templates, 2);
  });

  test('every time encoding: seconds, ms, µs/ns NTP, deltas, sysUpTime with systemInitTimeMilliseconds', () => {
    const d = new FlowDecoder();
    const out = new FlowBatch(16);
    const T = EXPORT_MS - 7_250; // a start time with a ms part
    const tpls = [
      { id: 300, fields: [f(154, 8), f(155, 8)] },
      { id: 301, fields: [f(156, 8), f(157, 8)] },
      { id: 302, fields: [f(158, 4), f(159, 4)] },
      { id: 303, fields: [f(160, 8), f(22, 4), f(21, 4)] },
      { id: 304, fields: [f(22, 4), f(21, 4)] },
      { id: 305, fields: [f(8, 4)] },
    ];
    const msg = ipfixMessage(hdr(0), [
      ipfixTemplateSet(...tpls),
      set(300, concat(ntp(T), ntp(T + 123))),
      set(301, concat(ntp(T + 1), ntp(T + 999))),
      set(302, record([f(158, 4), f(159, 4)], [1_500_000, 250])), // µs before export time
      set(303, record([f(160, 8), f(22, 4), f(21, 4)], [EXPORT_MS - 86_400_000, 86_000_000, 86_390_000])),
      set(304, record([f(22, 4), f(21, 4)], [1000, 2000])), // no init time known yet: export time
      set(305, record([f(8, 4)], ['9.9.9.9'])), // no time fields at all: export time
    ]);
    d.decode(msg, EXP, 0, out);
    const r = rows(out);
    assert.deepEqual(
      r.map((x) => [x.flow_start, x.flow_end]),
      [
        [T, T + 123],
        [T + 1, T + 999],
        [EXPORT_MS - 1500, EXPORT_MS - 1], // 250 µs before export lies in the previous ms
        [EXPORT_MS - 400_000, EXPORT_MS - 10_000],
        [EXPORT_MS, EXPORT_MS],
        [EXPORT_MS, EXPORT_MS],
      ],
    );
    // systemInitTimeMilliseconds from options data applies to records without it
    const opt = ipfixOptionsTemplateSet(400, [f(149, 4)], [f(160, 8)]);
    d.decode(ipfixMessage(hdr(7), [opt, set(400, record([f(149, 4), f(160, 8)], [1, EXPORT_MS - 10_000])), set(304, record([f(22, 4), f(21, 4)], [1000, 2000]))]), EXP, 0, out);
    assert.deepEqual([out.flow_start[6], out.flow_end[6]], [EXPORT_MS - 9000, EXPORT_MS - 8000]);
  });

  test('sampling: options with selectorId + samplingPacketInterval/Space, samplingInterval in the record', () => {
    const d = new FlowDecoder();
    const out = new FlowBatch(16);
    const OPT_FIELDS = [f(302, 4), f(305, 4), f(306, 4)];
    const DATA = [f(8, 4), f(302, 4)];
    const msg = ipfixMessage(hdr(0), [
      set(3, concat(ipfixOptionsTemplateRecord(500, [f(302, 4)], [f(305, 4), f(306, 4)]), ipfixOptionsTemplateRecord(501, [f(149, 4)], [f(48, 2), f(50, 4)]))),
      set(500, concat(record(OPT_FIELDS, [1, 1, 99]), record(OPT_FIELDS, [2, 10, 0]))),
      set(501, record([f(149, 4), f(48, 2), f(50, 4)], [1, 3, 4000])),
      ipfixTemplateSet({ id: 256, fields: DATA }, { id: 257, fields: [f(8, 4), f(34, 4)] }),
      set(256, concat(record(DATA, ['1.0.0.1', 1]), record(DATA, ['1.0.0.2', 2]), record(DATA, ['1.0.0.3', 3]), record(DATA, ['1.0.0.4', 77]))),
      set(257, record([f(8, 4), f(34, 4)], ['1.0.0.5', 256])),
    ]);
    const res = d.decode(msg, EXP, 0, out);
    assert.equal(res.records, 5);
    assert.deepEqual([...out.sampling_rate.subarray(0, 5)], [100, 10, 4000, 1, 256]);
    const snap = d.exportTemplates().domains[0];
    assert.deepEqual(snap.samplers, [
      { id: 1, rate: 100 },
      { id: 2, rate: 10 },
      { id: 3, rate: 4000 },
    ]);
  });

  test('enterprise fields are kept by (pen, id); variable-length fields in 1- and 3-octet forms', () => {
    const d = new FlowDecoder();
    const out = new FlowBatch(16);
    const FIELDS = [f(8, 4), f(1, 65535, PEN), f(96, 65535), f(2, 4, PEN), f(12, 4), f(243, 2), f(81, 6), f(57, 6), f(61, 1)];
    const long = new Uint8Array(300).fill(0x41);
    const tpl = ipfixTemplateSet({ id: 256, fields: FIELDS });
    const values = (src: string, name: Uint8Array) => [src, new Uint8Array([1, 2]), name, 0xdeadbeef, '10.0.0.2', 42, 'aa:bb:cc:dd:ee:ff', '11:22:33:44:55:66', 0];
    const msg = ipfixMessage(hdr(0), [
      tpl,
      set(256, concat(record(FIELDS, values('1.1.1.1', new Uint8Array([104, 116, 116, 112]))), record(FIELDS, values('1.1.1.2', long)), record(FIELDS, values('1.1.1.3', new Uint8Array([1])), true))),
    ]);
    const res = d.decode(msg, EXP, 0, out);
    assert.deepEqual(res, { protocol: 'ipfix', records: 3, errors: 0 });
    const r = row(out, 0);
    assert.equal(r.dst_addr, '10.0.0.2');
    assert.equal(r.vlan, 42);
    assert.equal(r.src_mac, 'aa:bb:cc:dd:ee:ff');
    assert.equal(r.dst_mac, '11:22:33:44:55:66');
    assert.equal(r.direction, DIRECTION.ingress);
    assert.equal(r.bytes, 0); // PEN 29305 id 1 is not octetDeltaCount
    assert.deepEqual(r.extra, [
      { pen: PEN, id: 1, value: 0x0102 },
      { pen: 0, id: 96, value: 0x68747470 },
      { pen: PEN, id: 2, value: 0xdeadbeef },
    ]);
    assert.deepEqual(row(out, 1).extra[1], { pen: 0, id: 96, value: long });
    assert.deepEqual(row(out, 2).extra[1], { pen: 0, id: 96, value: 1 }); // 3-octet length form for a 1-byte value
    assert.equal(row(out, 2).dst_addr, '10.0.0.2');
  });

  test('template withdrawal: one, all data templates, all options templates, short remainder', () => {
    const d = new FlowDecoder({ pendingMaxSetsPerExporter: 0 });
    const out = new FlowBatch(16);
    const two = ipfixTemplateSet({ id: 256, fields: BASIC }, { id: 257, fields: BASIC });
    const opts = ipfixOptionsTemplateSet(300, [f(149, 4)], [f(34, 4)]);
    d.decode(ipfixMessage(hdr(0), [two, opts]), EXP, 0, out);
    assert.equal(ipfixStats(d).templates, 3);
    // withdraw 256 with 2 bytes of padding after the record (set length 10)
    const withdraw = concat(be(2, 2), be(10, 2), be(256, 2), be(0, 2), be(0, 2));
    const r1 = d.decode(ipfixMessage(hdr(0), [withdraw, set(256, basic('1.1.1.1')), set(257, basic('1.1.1.2'))]), EXP, 0, out);
    assert.deepEqual(r1, { protocol: 'ipfix', records: 1, errors: 1, error: 'missing_template' });
    assert.equal(ipfixStats(d).templates, 2);
    // withdraw-all data templates (id 2 in set 2) leaves the options template
    d.decode(ipfixMessage(hdr(1), [ipfixWithdrawalSet(2, 2)]), EXP, 0, out);
    assert.equal(ipfixStats(d).templates, 1);
    d.decode(ipfixMessage(hdr(1), [ipfixWithdrawalSet(3, 3)]), EXP, 0, out);
    assert.equal(ipfixStats(d).templates, 0);
    // a withdrawal record cut to 2 bytes is padding: nothing withdrawn, nothing counted
    d.decode(ipfixMessage(hdr(1), [two]), EXP, 0, out);
    const r2 = d.decode(ipfixMessage(hdr(1), [concat(be(2, 2), be(6, 2), be(256, 2))]), EXP, 0, out);
    assert.deepEqual(r2, { protocol: 'ipfix', records: 0, errors: 0 });
    assert.equal(ipfixStats(d).templates, 2);
  });

  test('sequence counts data records (options data included), mod 2^32', () => {
    const d = new FlowDecoder();
    const out = new FlowBatch(64);
    const tpl = ipfixTemplateSet({ id: 256, fields: BASIC });
    const opts = ipfixOptionsTemplateSet(300, [f(149, 4)], [f(34, 4)]);
    const optData = set(300, record([f(149, 4), f(34, 4)], [1, 1]));
    const data = (n: number) => set(256, concat(...Array.from({ length: n }, (_, i) => basic(`1.1.1.${i}`))));
    const send = (seq: number, sets: Uint8Array[]) => d.decode(ipfixMessage(hdr(seq), sets), EXP, 0, out, (b) => b.clear());
    send(0, [tpl, opts]); // 0 records -> expect 0
    send(0, [data(3), optData]); // 4 records -> expect 4
    send(4, [data(2)]); // expect 6
    send(10, [data(1)]); // 4 lost -> expect 11
    assert.equal(ipfixStats(d).sequence_lost, 4);
    send(6, [data(4)]); // late, its 4 records were not lost
    assert.equal(ipfixStats(d).sequence_lost, 0);
    assert.equal(ipfixStats(d).sequence_out_of_order, 1);
    send(11, [data(1)]);
    send(0xfffffff0, [data(1)]); // 0 - 16 mod 2^32: a small step back, out of order
    assert.equal(ipfixStats(d).sequence_out_of_order, 2);
    assert.equal(ipfixStats(d).sequence_resets, 0);
    // a domain that has exported 500k records restarts at 0: reset, not loss
    const other = (seq: number, n: number) => d.decode(ipfixMessage(hdr(seq, 2), [data(n)]), EXP, 0, out, (b) => b.clear());
    d.decode(ipfixMessage(hdr(500_000, 2), [tpl]), EXP, 0, out);
    other(500_000, 1);
    other(0, 2);
    other(2, 1);
    assert.equal(ipfixStats(d, 2).sequence_resets, 1);
    assert.equal(ipfixStats(d, 2).sequence_lost, 0);
    // wrapping past 2^32 is continuity
    d.decode(ipfixMessage(hdr(0xfffffffe, 3), [tpl]), EXP, 0, out);
    d.decode(ipfixMessage(hdr(0xfffffffe, 3), [data(3)]), EXP, 0, out, (b) => b.clear());
    d.decode(ipfixMessage(hdr(1, 3), [data(1)]), EXP, 0, out, (b) => b.clear());
    d.decode(ipfixMessage(hdr(3, 3), [data(1)]), EXP, 0, out, (b) => b.clear());
    assert.deepEqual([ipfixStats(d, 3).sequence_lost, ipfixStats(d, 3).sequence_resets, ipfixStats(d, 3).sequence_out_of_order], [1, 0, 0]);
  });

  test('observation domains are separate: templates, sequence and stats', () => {
    const d = new FlowDecoder({ pendingMaxSetsPerExporter: 0 });
    const out = new FlowBatch(16);
    d.decode(ipfixMessage(hdr(0, 1), [ipfixTemplateSet({ id: 256, fields: BASIC })]), EXP, 0, out);
    const r = d.decode(ipfixMessage(hdr(0, 2), [set(256, basic('1.1.1.1'))]), EXP, 0, out);
    assert.equal(r.error, 'missing_template');
    assert.equal(ipfixStats(d, 2).errors.missing_template, 1);
    assert.equal(ipfixStats(d, 1).templates, 1);
  });

  test('data before its template is decoded when the template arrives', () => {
    const d = new FlowDecoder();
    const out = new FlowBatch(16);
    d.decode(ipfixMessage(hdr(0), [set(256, basic('1.1.1.1'))]), EXP, 100, out);
    assert.equal(out.length, 0);
    const res = d.decode(ipfixMessage(hdr(1), [ipfixTemplateSet({ id: 256, fields: BASIC }), set(256, basic('1.1.1.2'))]), EXP, 200, out);
    assert.deepEqual(res, { protocol: 'ipfix', records: 2, errors: 0 });
    assert.deepEqual(rows(out).map((x) => [x.src_addr, x.time_received]), [
      ['1.1.1.1', 100],
      ['1.1.1.2', 200],
    ]);
  });

  test('templates expire after templateExpirySec unless refreshed', () => {
    const d = new FlowDecoder({ templateExpirySec: 10, pendingMaxSetsPerExporter: 0 });
    const out = new FlowBatch(16);
    const tpl = ipfixTemplateSet({ id: 256, fields: BASIC }, { id: 257, fields: BASIC });
    d.decode(ipfixMessage(hdr(0), [tpl]), EXP, 0, out);
    d.decode(ipfixMessage(hdr(0), [ipfixTemplateSet({ id: 257, fields: BASIC })]), EXP, 8_000, out); // refresh 257 only
    const r = d.decode(ipfixMessage(hdr(0), [set(256, basic('1.1.1.1')), set(257, basic('1.1.1.2'))]), EXP, 12_000, out);
    assert.deepEqual(r, { protocol: 'ipfix', records: 1, errors: 1, error: 'missing_template' });
    assert.deepEqual(rows(out).map((x) => x.src_addr), ['1.1.1.2']);
    assert.equal(ipfixStats(d).templates, 1);
  });

  test('export/import round-trips IPFIX templates with enterprise and variable-length fields', () => {
    const a = new FlowDecoder();
    const out = new FlowBatch(16);
    const FIELDS = [f(8, 4), f(7, 4, PEN), f(96, 65535), f(160, 8), f(22, 4), f(21, 4)];
    const opt = ipfixOptionsTemplateSet(400, [f(302, 4)], [f(305, 4), f(306, 4), f(160, 8)]);
    a.decode(
      ipfixMessage(hdr(0, 9), [opt, set(400, record([f(302, 4), f(305, 4), f(306, 4), f(160, 8)], [4, 1, 49, EXPORT_MS - 50_000])), ipfixTemplateSet({ id: 256, fields: FIELDS })]),
      EXP,
      0,
      out,
    );
    const b = new FlowDecoder();
    b.importTemplates(JSON.parse(JSON.stringify(a.exportTemplates())));
    assert.deepEqual(b.exportTemplates(), a.exportTemplates());
    // a template learnt after the import: records without systemInitTimeMilliseconds use the imported one
    const FIELDS2 = [f(8, 4), f(7, 4, PEN), f(96, 65535), f(22, 4), f(21, 4)];
    a.decode(ipfixMessage(hdr(1, 9), [ipfixTemplateSet({ id: 257, fields: FIELDS2 })]), EXP, 0, out);
    b.decode(ipfixMessage(hdr(1, 9), [ipfixTemplateSet({ id: 257, fields: FIELDS2 })]), EXP, 0, out);
    const rec = set(257, record(FIELDS2, ['1.2.3.4', 7, new Uint8Array([1, 2, 3, 4, 5, 6, 7]), 1000, 2000]));
    const oa = new FlowBatch(4);
    const ob = new FlowBatch(4);
    a.decode(ipfixMessage(hdr(2, 9), [rec]), EXP, 0, oa);
    b.decode(ipfixMessage(hdr(2, 9), [rec]), EXP, 0, ob);
    assert.deepEqual(rows(ob), rows(oa));
    assert.equal(rows(ob)[0].flow_start, EXPORT_MS - 49_000);
    assert.deepEqual(rows(ob)[0].extra, [
      { pen: PEN, id: 7, value: 7 },
      { pen: 0, id: 96, value: new Uint8Array([1, 2, 3, 4, 5, 6, 7]) },
    ]);
  });
});
