/**
 * Differential test: the generated decoders must produce exactly what the interpreter produces,
 * row for row and counter for counter, over random templates and records.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FlowBatch } from '../flow-batch';
import { FlowDecoder } from '../flow-decoder';
import { be, concat, f, ipfixMessage, ipfixOptionsTemplateSet, ipfixTemplateSet, record, set, v9Packet, v9TemplateSet, type Field } from '../../testing/packets';
import { rows, type Row } from '../../testing/rows';
import { generatedDecoderCount, generatedDecoderTotal, generateSource, MAX_GENERATED_DECODERS } from './template-codegen';
import { compileTemplate } from './template-compiler';

const POOL: Field[] = [
  f(8, 4), f(12, 4), f(15, 4), f(27, 16), f(28, 16), f(62, 16), f(7, 2), f(11, 2), f(4, 1), f(6, 1), f(6, 2), f(5, 1),
  f(1, 4), f(1, 8), f(1, 3), f(85, 8), f(2, 4), f(2, 8), f(86, 8), f(10, 2), f(10, 4), f(14, 4), f(16, 4), f(17, 2),
  f(9, 1), f(13, 1), f(29, 1), f(30, 1), f(61, 1), f(58, 2), f(243, 2), f(56, 6), f(81, 6), f(80, 6), f(57, 6), f(60, 1),
  f(22, 4), f(21, 4), f(150, 4), f(151, 4), f(152, 8), f(153, 8), f(154, 8), f(155, 8), f(156, 8), f(157, 8),
  f(158, 4), f(159, 4), f(160, 8), f(48, 1), f(302, 4), f(34, 4), f(50, 4), f(305, 4), f(306, 4), f(210, 3),
  f(96, 65535), f(100, 4, 9), f(101, 65535, 9), f(8, 16), f(999, 10), f(82, 65535),
  f(32, 2), f(139, 2), f(32, 1), f(176, 1), f(177, 1), f(178, 1), f(179, 2), f(11, 2), f(32, 2, 9),
];

let seed = 0x2545f491;
function rnd(n: number): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) % n;
}

function randomBytes(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = rnd(4) === 0 ? 0 : rnd(256);
  return b;
}

function randomRecord(fields: Field[]): Uint8Array {
  return concat(
    ...fields.map((fl) => {
      if (fl.len !== 65535) {
        // small numbers sometimes, so sampling/time/direction branches see realistic values
        if (rnd(3) === 0 && fl.len <= 8) return be(rnd(4), fl.len);
        return randomBytes(fl.len);
      }
      const v = randomBytes(rnd(5) === 0 ? 255 + rnd(300) : rnd(20));
      return v.length < 255 && rnd(2) === 0 ? concat(be(v.length, 1), v) : concat(be(255, 1), be(v.length, 2), v);
    }),
  );
}

function collect(d: FlowDecoder, packets: Uint8Array[], exporter = '192.0.2.7'): { rows: Row[]; stats: unknown } {
  const out = new FlowBatch(7);
  const all: Row[] = [];
  packets.forEach((p, i) =>
    d.decode(p, exporter, 1_700_000_000_000 + i, out, (b) => {
      all.push(...rows(b));
      b.clear();
    }),
  );
  all.push(...rows(out));
  return { rows: all, stats: d.exporterStats() };
}

describe('template code generation', () => {
  test('generated and interpreted decoding agree on random templates (IPFIX and v9)', () => {
    let generated = 0;
    for (let iter = 0; iter < 150; iter++) {
      const n = 1 + rnd(25);
      const ipfix = iter % 3 !== 0;
      const fields = Array.from({ length: n }, () => POOL[rnd(POOL.length)]).filter((fl) => ipfix || (fl.len !== 65535 && fl.pen === undefined));
      if (fields.length === 0) continue;
      const compiled = compileTemplate(256, false, 0, Uint16Array.from(fields.map((x) => x.id)), Uint32Array.from(fields.map((x) => x.pen ?? 0)), Uint16Array.from(fields.map((x) => x.len)), new Uint8Array(4), false, 0);
      if (compiled !== 'bad_template' && generateSource(compiled) !== undefined) generated++;
      const packets: Uint8Array[] = [];
      const optFields = [f(149, 4), f(302, 4), f(34, 4)];
      const seqRecords = () => 0;
      for (let k = 0; k < 6; k++) {
        const recs = Array.from({ length: 1 + rnd(6) }, () => randomRecord(fields));
        let body = concat(...recs);
        if (rnd(6) === 0) body = body.subarray(0, Math.max(0, body.length - 1 - rnd(5))); // a cut record
        if (ipfix) {
          const sets = k === 0
            ? [ipfixOptionsTemplateSet(300, [optFields[0]], optFields.slice(1)), set(300, concat(record(optFields, [1, 1, 10]), record(optFields, [1, 2, 20]))), ipfixTemplateSet({ id: 256, fields })]
            : [];
          packets.push(ipfixMessage({ exportTime: 1_700_000_000, seq: seqRecords(), odid: 1 }, [...sets, set(256, body)]));
        } else {
          const sets = k === 0 ? [v9TemplateSet({ id: 256, fields })] : [];
          packets.push(v9Packet({ uptime: 5_000_000, secs: 1_700_000_000, seq: k, sourceId: 3 }, [...sets, set(256, body)]));
        }
      }
      const exporter = iter % 2 ? '2001:db8::7' : '192.0.2.7';
      const a = collect(new FlowDecoder({ codegenAfterSets: 0 }), packets, exporter);
      const b = collect(new FlowDecoder({ codegenAfterSets: 1 }), packets, exporter);
      assert.ok(a.rows.length > 0);
      assert.deepEqual(b.rows, a.rows, `iteration ${iter}: ${JSON.stringify(fields)}`);
      assert.deepEqual(b.stats, a.stats, `iteration ${iter}`);
    }
    assert.ok(generated > 100, `only ${generated} templates were generated`);
  });

  test('every cut point of a record gives the same rows and counters', () => {
    const templates: Field[][] = [
      [f(8, 4), f(96, 65535)],
      [f(8, 4), f(96, 65535), f(12, 4), f(1, 8)],
      [f(96, 65535), f(82, 65535), f(7, 2)],
      [f(8, 4), f(12, 4), f(1, 8), f(2, 4)],
    ];
    for (const fields of templates) {
      const recs = [
        record(fields, fields.map((fl) => (fl.len === 65535 ? new Uint8Array([1, 2, 3, 4, 5]) : fl.len === 4 ? '10.0.0.1' : 7))),
        record(fields, fields.map((fl) => (fl.len === 65535 ? new Uint8Array(260).fill(3) : fl.len === 4 ? '10.0.0.2' : 9))),
      ];
      const body = concat(...recs);
      for (let cut = 1; cut < body.length; cut++) {
        // the cut set is followed by another set, so reading past its end would find bytes
        const pkts = [
          ipfixMessage({ exportTime: 1, seq: 0, odid: 1 }, [ipfixTemplateSet({ id: 256, fields }), set(256, recs[0])]),
          ipfixMessage({ exportTime: 1, seq: 1, odid: 1 }, [concat(be(256, 2), be(4 + body.length - cut, 2), body.subarray(0, body.length - cut)), set(256, recs[0])]),
        ];
        const a = collect(new FlowDecoder({ codegenAfterSets: 0 }), pkts);
        const b = collect(new FlowDecoder({ codegenAfterSets: 1 }), pkts);
        assert.deepEqual(b, a, `cut ${cut} of ${JSON.stringify(fields)}`);
      }
    }
  });

  test('generated code is bounded: evicted layouts fall back to the interpreter and still decode', () => {
    const d = new FlowDecoder({ codegenAfterSets: 1, codegenMaxPerSecond: Infinity, maxTemplatesPerExporter: 10_000 });
    const out = new FlowBatch(8);
    const layout = (i: number): Field[] => [f(8, 4), f(210, 1 + i), f(1, 4)]; // a distinct op layout per i
    const msg = (i: number, seq: number) => ipfixMessage({ exportTime: 1, seq, odid: 1 }, [ipfixTemplateSet({ id: 256 + i, fields: layout(i) }), set(256 + i, record(layout(i), ['10.0.0.1', new Uint8Array(1 + i), i + 1]))]);
    const n = MAX_GENERATED_DECODERS + 50;
    for (let i = 0; i < n; i++) d.decode(msg(i, 0), '10.9.9.9', 0, out, (b) => b.clear());
    assert.ok(generatedDecoderCount() <= MAX_GENERATED_DECODERS);
    for (const i of [0, 1, n - 1]) {
      for (let k = 0; k < 3; k++) {
        out.clear();
        assert.equal(d.decode(msg(i, 0), '10.9.9.9', 0, out).records, 1);
        assert.deepEqual([rows(out)[0].src_addr, rows(out)[0].bytes], ['10.0.0.1', i + 1]);
      }
    }
    assert.ok(generatedDecoderCount() <= MAX_GENERATED_DECODERS);
  });

  test('templates with two fields for one address column stay on the interpreter', () => {
    const fields = [f(8, 4), f(27, 16)];
    const t = compileTemplate(256, false, 0, Uint16Array.from([8, 27]), new Uint32Array(2), Uint16Array.from([4, 16]), new Uint8Array(4), false, 0);
    assert.notEqual(t, 'bad_template');
    assert.equal(generateSource(t as Exclude<typeof t, 'bad_template'>), undefined);
    // and still decode: v4 record with a zero v6 address keeps the v4 address
    const d = new FlowDecoder({ codegenAfterSets: 1 });
    const out = new FlowBatch(4);
    d.decode(ipfixMessage({ exportTime: 1, seq: 0, odid: 1 }, [ipfixTemplateSet({ id: 256, fields }), set(256, record(fields, ['10.1.2.3', '::']))]), '10.0.0.1', 0, out);
    assert.deepEqual([rows(out)[0].src_addr, rows(out)[0].ip_version], ['10.1.2.3', 4]);
  });
});

describe('code generation budget and template churn', () => {
  const layout = (i: number): Field[] => [f(8, 4), f(210, 1 + i), f(1, 4), f(2, 4)];
  const msg = (i: number, seq: number) =>
    ipfixMessage({ exportTime: 1, seq, odid: 1 }, [ipfixTemplateSet({ id: 256, fields: layout(i) }), set(256, record(layout(i), ['10.0.0.1', new Uint8Array(1 + i), i + 1, 1]))]);

  test('at most codegenMaxPerSecond new layouts per second; the rest decode on the interpreter', () => {
    const before = generatedDecoderTotal();
    const d = new FlowDecoder({ codegenAfterSets: 1, codegenMaxPerSecond: 3 });
    const out = new FlowBatch(4);
    // 1000+ distinct layouts (offset 1000+ keeps them apart from other tests' layouts)
    for (let i = 1000; i < 1020; i++) {
      out.clear();
      assert.equal(d.decode(msg(i, 0), '10.9.9.8', 0, out).records, 1);
      assert.equal(rows(out)[0].bytes, i + 1);
    }
    // within one second only 3 could be generated (the test runs well under a second per window;
    // allow one window boundary)
    assert.ok(generatedDecoderTotal() - before <= 6, `${generatedDecoderTotal() - before} generated`);
  });

  test('uses count once per packet: many data sets of a one-packet template do not specialise it', () => {
    const before = generatedDecoderTotal();
    const d = new FlowDecoder({ codegenAfterSets: 3, codegenMaxPerSecond: Infinity });
    const out = new FlowBatch(64);
    const i = 2000;
    const data = set(256, record(layout(i), ['10.0.0.1', new Uint8Array(1 + i), 5, 1]));
    const one = ipfixMessage({ exportTime: 1, seq: 0, odid: 1 }, [ipfixTemplateSet({ id: 256, fields: layout(i) }), data, data, data, data]);
    assert.equal(d.decode(one, '10.9.9.7', 0, out).records, 4);
    assert.equal(generatedDecoderTotal(), before);
    // the same template used in two more packets is specialised
    d.decode(ipfixMessage({ exportTime: 1, seq: 4, odid: 1 }, [data]), '10.9.9.7', 0, out);
    assert.equal(generatedDecoderTotal(), before);
    d.decode(ipfixMessage({ exportTime: 1, seq: 5, odid: 1 }, [data]), '10.9.9.7', 0, out);
    assert.equal(generatedDecoderTotal(), before + 1);
  });
});
