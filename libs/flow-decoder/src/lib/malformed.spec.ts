/**
 * One regression test per class of malformed input: each asserts what was still decoded and
 * exactly which error counters moved.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FlowBatch } from './flow-batch';
import { FlowDecoder } from './flow-decoder';
import {
  be,
  concat,
  f,
  ipfixMessage,
  ipfixOptionsTemplateRecord,
  ipfixTemplateRecord,
  ipfixTemplateSet,
  rawSet,
  record,
  set,
  v9Packet,
  v9TemplateRecord,
  v9TemplateSet,
  type Field,
} from '../testing/packets';
import { rows } from '../testing/rows';

const EXP = '192.0.2.99';
const SECS = 1_700_000_000;
const F: Field[] = [f(8, 4), f(12, 4), f(4, 1)];
const rec = (src: string) => record(F, [src, '10.0.0.2', 6]);
const v9 = (sets: Uint8Array[], seq = 0) => v9Packet({ uptime: 1000, secs: SECS, seq, sourceId: 1 }, sets);
const ipfix = (sets: Uint8Array[], seq = 0, length?: number) => ipfixMessage({ exportTime: SECS, seq, odid: 1, length }, sets);

function run(d: FlowDecoder, pkt: Uint8Array, t = 0) {
  const out = new FlowBatch(64);
  const res = d.decode(pkt, EXP, t, out);
  return { res, srcs: rows(out).map((r) => r.src_addr) };
}

function stats(d: FlowDecoder, protocol: 'netflow_v9' | 'ipfix') {
  return d.exporterStats().find((s) => s.protocol === protocol && s.observation_domain === 1)!;
}

const noHold = { pendingMaxSetsPerExporter: 0 };

describe('malformed input regressions', () => {
  test('zero-length set: counted, decoding of the packet stops there (no hang)', () => {
    for (const proto of ['netflow_v9', 'ipfix'] as const) {
      const d = new FlowDecoder(noHold);
      const tpl = proto === 'ipfix' ? ipfixTemplateSet({ id: 256, fields: F }) : v9TemplateSet({ id: 256, fields: F });
      const sets = [tpl, set(256, rec('1.1.1.1')), rawSet(256, 0, rec('1.1.1.2')), set(256, rec('1.1.1.3'))];
      const { res, srcs } = run(d, proto === 'ipfix' ? ipfix(sets) : v9(sets));
      assert.deepEqual(srcs, ['1.1.1.1'], proto);
      assert.deepEqual(res, { protocol: proto, records: 1, errors: 1, error: 'bad_set' });
      assert.deepEqual(stats(d, proto).errors, { bad_set: 1 });
    }
  });

  test('set shorter than its own header', () => {
    const d = new FlowDecoder(noHold);
    const { res } = run(d, ipfix([ipfixTemplateSet({ id: 256, fields: F }), rawSet(256, 3, new Uint8Array(0))]));
    assert.deepEqual(res, { protocol: 'ipfix', records: 0, errors: 1, error: 'bad_set' });
    assert.equal(stats(d, 'ipfix').templates, 1);
  });

  test('reserved set ids are skipped, later sets still decoded', () => {
    const d = new FlowDecoder(noHold);
    const r1 = run(d, v9([v9TemplateSet({ id: 256, fields: F }), set(5, new Uint8Array(8)), set(256, rec('1.1.1.1'))]));
    assert.deepEqual(r1.res, { protocol: 'netflow_v9', records: 1, errors: 1, error: 'bad_set' });
    const r2 = run(d, ipfix([ipfixTemplateSet({ id: 256, fields: F }), set(4, new Uint8Array(8)), set(256, rec('1.1.1.2'))]));
    assert.deepEqual(r2.res, { protocol: 'ipfix', records: 1, errors: 1, error: 'bad_set' });
  });

  test('template with zero fields, or a zero-length field, is refused', () => {
    const d = new FlowDecoder(noHold);
    // v9: field count 0; then a template with a 0-length field
    const r1 = run(d, v9([set(0, concat(be(256, 2), be(0, 2)))]));
    assert.deepEqual(r1.res, { protocol: 'netflow_v9', records: 0, errors: 1, error: 'bad_template' });
    const r2 = run(d, v9([v9TemplateSet({ id: 257, fields: [f(8, 4), f(12, 0)] }), set(257, rec('1.1.1.1'))]));
    assert.deepEqual(r2.res, { protocol: 'netflow_v9', records: 0, errors: 2, error: 'bad_template' });
    assert.deepEqual(stats(d, 'netflow_v9').errors, { bad_template: 2, missing_template: 1 });
    assert.equal(stats(d, 'netflow_v9').templates, 0);
    // IPFIX: all fields zero length; options template with scope count 0
    const r3 = run(d, ipfix([ipfixTemplateSet({ id: 256, fields: [f(8, 0)] }), set(3, concat(be(300, 2), be(1, 2), be(0, 2), be(34, 2), be(4, 2)))]));
    assert.deepEqual(r3.res, { protocol: 'ipfix', records: 0, errors: 2, error: 'bad_template' });
    assert.equal(stats(d, 'ipfix').templates, 0);
  });

  test('field count larger than the set (field count overflow)', () => {
    const d = new FlowDecoder(noHold);
    const lying = concat(be(256, 2), be(50, 2), be(8, 2), be(4, 2), be(12, 2), be(4, 2));
    const r1 = run(d, v9([set(0, lying)]));
    assert.deepEqual(r1.res, { protocol: 'netflow_v9', records: 0, errors: 1, error: 'bad_template' });
    const r2 = run(d, ipfix([set(2, lying)]));
    assert.deepEqual(r2.res, { protocol: 'ipfix', records: 0, errors: 1, error: 'bad_template' });
    // an enterprise bit on the last field with its PEN missing
    const r3 = run(d, ipfix([set(2, concat(be(257, 2), be(2, 2), be(8, 2), be(4, 2), be(0x8001, 2), be(4, 2)))]));
    assert.deepEqual(r3.res, { protocol: 'ipfix', records: 0, errors: 1, error: 'bad_template' });
    // more fields than maxTemplateFields
    const many = Array.from({ length: 600 }, () => f(210, 1));
    const r4 = run(d, ipfix([ipfixTemplateSet({ id: 258, fields: many })]));
    assert.equal(r4.res.error, 'bad_template');
    assert.equal(stats(d, 'ipfix').templates, 0);
    assert.deepEqual(stats(d, 'ipfix').errors, { bad_template: 3 });
  });

  test('template id below 256: refused, the next template in the set still learnt', () => {
    const d = new FlowDecoder(noHold);
    const r1 = run(d, v9([set(0, concat(v9TemplateRecord(100, F), v9TemplateRecord(256, F))), set(256, rec('1.1.1.1'))]));
    assert.deepEqual(r1.res, { protocol: 'netflow_v9', records: 1, errors: 1, error: 'bad_template' });
    const r2 = run(d, ipfix([set(2, concat(ipfixTemplateRecord(255, F), ipfixTemplateRecord(256, F))), set(256, rec('1.1.1.2'))]));
    assert.deepEqual(r2.res, { protocol: 'ipfix', records: 1, errors: 1, error: 'bad_template' });
    // an options template with id < 256
    const r3 = run(d, ipfix([set(3, ipfixOptionsTemplateRecord(7, [f(149, 4)], [f(34, 4)]))]));
    assert.deepEqual(r3.res, { protocol: 'ipfix', records: 0, errors: 1, error: 'bad_template' });
  });

  test('withdrawal followed by a short remainder', () => {
    const d = new FlowDecoder(noHold);
    run(d, ipfix([ipfixTemplateSet({ id: 256, fields: F }, { id: 257, fields: F })]));
    // set: withdraw 256, then 3 stray bytes (less than a record header)
    const r = run(d, ipfix([concat(be(2, 2), be(11, 2), be(256, 2), be(0, 2), new Uint8Array([9, 9, 9])), set(256, rec('1.1.1.1')), set(257, rec('1.1.1.2'))]));
    assert.deepEqual(r.res, { protocol: 'ipfix', records: 1, errors: 1, error: 'missing_template' });
    assert.deepEqual(r.srcs, ['1.1.1.2']);
    assert.equal(stats(d, 'ipfix').templates, 1);
  });

  test('template redefined mid-message: each data set uses the definition before it', () => {
    const d = new FlowDecoder(noHold);
    const G: Field[] = [f(12, 4), f(8, 4)]; // same id, addresses swapped, no protocol
    const r = run(d, ipfix([ipfixTemplateSet({ id: 256, fields: F }), set(256, rec('1.1.1.1')), ipfixTemplateSet({ id: 256, fields: G }), set(256, record(G, ['9.9.9.9', '2.2.2.2']))]));
    assert.deepEqual(r.res, { protocol: 'ipfix', records: 2, errors: 0 });
    assert.deepEqual(r.srcs, ['1.1.1.1', '2.2.2.2']);
    assert.equal(stats(d, 'ipfix').templates, 1);
  });

  test('huge variable-length field: the record is dropped, earlier records kept', () => {
    const d = new FlowDecoder(noHold);
    const V: Field[] = [f(8, 4), f(96, 65535)];
    const good = record(V, ['1.1.1.1', new Uint8Array([1, 2, 3])]);
    const huge = concat(be(0x02020202, 4), be(255, 1), be(60000, 2), new Uint8Array(10));
    const r = run(d, ipfix([ipfixTemplateSet({ id: 256, fields: V }), set(256, concat(good, huge)), set(256, good)]));
    assert.deepEqual(r.res, { protocol: 'ipfix', records: 2, errors: 1, error: 'bad_record' });
    assert.deepEqual(r.srcs, ['1.1.1.1', '1.1.1.1']);
    // a 1-octet length that overruns, and a 3-octet form cut after its first length byte
    const r2 = run(d, ipfix([set(256, concat(be(0x03030303, 4), be(200, 1), be(1, 1)))]));
    assert.deepEqual(r2.res, { protocol: 'ipfix', records: 0, errors: 1, error: 'bad_record' });
    const r3 = run(d, ipfix([set(256, concat(be(0x03030303, 4), be(255, 1), be(1, 1)))]));
    assert.equal(r3.res.error, 'bad_record');
    assert.deepEqual(stats(d, 'ipfix').errors, { bad_record: 3 });
  });

  test('truncated packet: complete sets decoded, the cut set counted once', () => {
    const d = new FlowDecoder(noHold);
    const full = ipfix([ipfixTemplateSet({ id: 256, fields: F }), set(256, rec('1.1.1.1')), set(256, concat(rec('1.1.1.2'), rec('1.1.1.3')))]);
    const r = run(d, full.subarray(0, full.length - 5));
    assert.deepEqual(r.res, { protocol: 'ipfix', records: 1, errors: 1, error: 'truncated' });
    assert.deepEqual(r.srcs, ['1.1.1.1']);
    const v = v9([v9TemplateSet({ id: 256, fields: F }), set(256, rec('1.1.1.1')), set(256, rec('1.1.1.2'))]);
    const r2 = run(d, v.subarray(0, v.length - 3));
    assert.deepEqual(r2.res, { protocol: 'netflow_v9', records: 1, errors: 1, error: 'truncated' });
    // headers alone
    assert.equal(run(d, full.subarray(0, 15)).res.error, 'too_short');
    assert.equal(run(d, v.subarray(0, 19)).res.error, 'too_short');
  });

  test('length fields that lie', () => {
    const d = new FlowDecoder(noHold);
    const sets = [ipfixTemplateSet({ id: 256, fields: F }), set(256, rec('1.1.1.1'))];
    // message length below the header size
    assert.deepEqual(run(d, ipfix(sets, 0, 8)).res, { protocol: 'ipfix', records: 0, errors: 1, error: 'bad_length' });
    // message length shorter than the datagram: the rest is ignored, not decoded
    const body = ipfix(sets);
    const extra = concat(body, set(256, rec('6.6.6.6')));
    assert.deepEqual(run(d, extra).srcs, ['1.1.1.1']);
    // message length longer than the datagram
    assert.deepEqual(run(d, ipfix(sets, 0, body.length + 100)).res, { protocol: 'ipfix', records: 1, errors: 1, error: 'truncated' });
    // a set length pointing past the message
    const r = run(d, ipfix([...sets, rawSet(256, 400, rec('7.7.7.7'))]));
    assert.deepEqual(r.res, { protocol: 'ipfix', records: 1, errors: 1, error: 'truncated' });
    // v9 header count that lies is ignored
    const v = v9Packet({ uptime: 1, secs: SECS, seq: 0, sourceId: 1, count: 999 }, [v9TemplateSet({ id: 256, fields: F }), set(256, rec('1.1.1.1'))]);
    assert.deepEqual(run(d, v).res, { protocol: 'netflow_v9', records: 1, errors: 0 });
    assert.deepEqual(stats(d, 'ipfix').errors, { bad_length: 1, truncated: 2 });
  });

  test('template flooding: caps on count and bytes per exporter, counted, other exporters unaffected', () => {
    const d = new FlowDecoder({ ...noHold, maxTemplatesPerExporter: 10, templateExpirySec: 60 });
    const tpls = Array.from({ length: 50 }, (_, i) => ({ id: 256 + i, fields: F }));
    const r = run(d, ipfix([ipfixTemplateSet(...tpls)]));
    assert.equal(r.res.errors, 40);
    assert.equal(r.res.error, 'template_limit');
    assert.equal(stats(d, 'ipfix').templates, 10);
    assert.deepEqual(stats(d, 'ipfix').errors, { template_limit: 40 });
    // refreshing an existing template is always allowed
    assert.equal(run(d, ipfix([ipfixTemplateSet(tpls[0])])).res.errors, 0);
    // another exporter has its own budget
    const out = new FlowBatch(4);
    assert.equal(d.decode(ipfix([ipfixTemplateSet(tpls[0])]), '192.0.2.100', 0, out).errors, 0);
    // expired templates free their slots
    const later = run(d, ipfix([ipfixTemplateSet(tpls[20])]), 61_000 + 1);
    assert.equal(later.res.errors, 0);
    // byte budget
    const small = new FlowDecoder({ ...noHold, maxTemplateBytesPerExporter: 200 });
    const big = Array.from({ length: 20 }, (_, i) => f(1000 + i, 4));
    const rb = run(small, ipfix([ipfixTemplateSet({ id: 256, fields: big }, { id: 257, fields: F }, { id: 258, fields: F })]));
    assert.deepEqual(rb.res, { protocol: 'ipfix', records: 0, errors: 2, error: 'template_limit' });
    assert.equal(stats(small, 'ipfix').templates, 1);
  });

  test('held data: per-exporter and global caps evict the oldest as pending_expired', () => {
    const d = new FlowDecoder({ pendingMaxSetsPerExporter: 2, pendingMaxBytesTotal: 1000 });
    for (let i = 0; i < 5; i++) run(d, ipfix([set(256 + i, rec(`1.1.1.${i}`))], 0), i);
    assert.equal(stats(d, 'ipfix').pending, 2);
    assert.equal(stats(d, 'ipfix').errors.pending_expired, 3);
    // the two newest are still decodable
    const r = run(d, ipfix([ipfixTemplateSet({ id: 259, fields: F }, { id: 260, fields: F })]), 10);
    assert.deepEqual(r.srcs, ['1.1.1.3', '1.1.1.4']);
    assert.equal(stats(d, 'ipfix').pending, 0);
    // global byte cap across exporters
    const g = new FlowDecoder({ pendingMaxBytesTotal: 40 });
    const out = new FlowBatch(8);
    g.decode(ipfix([set(256, concat(rec('1.0.0.1'), rec('1.0.0.2')))]), '10.0.0.1', 0, out); // 18 bytes held
    g.decode(ipfix([set(256, concat(rec('2.0.0.1'), rec('2.0.0.2')))]), '10.0.0.2', 0, out); // 36
    g.decode(ipfix([set(256, concat(rec('3.0.0.1'), rec('3.0.0.2')))]), '10.0.0.3', 0, out); // evicts 10.0.0.1's
    const first = g.exporterStats().find((s) => s.exporter === '10.0.0.1')!;
    assert.deepEqual([first.pending, first.errors.pending_expired], [0, 1]);
    assert.equal(g.exporterStats().find((s) => s.exporter === '10.0.0.3')!.pending, 1);
    // a set larger than any cap is refused outright
    const tiny = new FlowDecoder({ pendingMaxBytesPerExporter: 4 });
    assert.equal(run(tiny, ipfix([set(256, rec('1.1.1.1'))])).res.error, 'missing_template');
  });

  test('a data record in a set shorter than the template record: padding if zero, bad_record if not', () => {
    const d = new FlowDecoder(noHold);
    run(d, ipfix([ipfixTemplateSet({ id: 256, fields: F })]));
    assert.deepEqual(run(d, ipfix([rawSet(256, 4 + 5, new Uint8Array(5))])).res, { protocol: 'ipfix', records: 0, errors: 0 });
    assert.deepEqual(run(d, ipfix([rawSet(256, 4 + 5, new Uint8Array([1, 2, 3, 4, 5]))])).res, { protocol: 'ipfix', records: 0, errors: 1, error: 'bad_record' });
  });

  test('garbage observation domains cannot grow state without bound', () => {
    const d = new FlowDecoder({ ...noHold, maxDomainsPerExporter: 3 });
    const out = new FlowBatch(8);
    const msg = (odid: number) => ipfixMessage({ exportTime: SECS, seq: 0, odid }, [ipfixTemplateSet({ id: 256, fields: F }), set(256, rec('1.1.1.1'))]);
    for (const odid of [1, 2, 3]) assert.equal(d.decode(msg(odid), EXP, 0, out).records, 1);
    for (const odid of [4, 5, 6, 7]) assert.deepEqual(d.decode(msg(odid), EXP, 0, out), { protocol: 'ipfix', records: 0, errors: 1, error: 'domain_limit' });
    assert.equal(d.decode(msg(2), EXP, 0, out).records, 1); // known domains keep working
    const stats = d.exporterStats();
    assert.equal(stats.length, 4);
    const overflow = stats.find((s) => s.observation_domain === 0xffffffff)!;
    assert.deepEqual([overflow.packets, overflow.errors, overflow.templates], [4, { domain_limit: 4 }, 0]);
  });
});
