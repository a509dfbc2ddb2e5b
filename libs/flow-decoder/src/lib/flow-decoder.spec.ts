import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FlowBatch } from './flow-batch';
import { detectProtocol, FlowDecoder } from './flow-decoder';
import { DECODE_ERROR_REASONS } from './decode-error';
import { f, record, set, v5Packet, v9OptionsTemplateSet, v9Packet, v9TemplateSet } from '../testing/packets';
import { row } from '../testing/rows';

const FIELDS = [f(8, 4), f(12, 4), f(1, 4), f(48, 1)];
const v9 = (seq: number, sets: Uint8Array[]) => v9Packet({ uptime: 1000, secs: 1_700_000_000, seq, sourceId: 1 }, sets);

describe('FlowDecoder facade', () => {
  test('detects the protocol from the version field', () => {
    assert.equal(detectProtocol(new Uint8Array([0, 5, 0, 1])), 'netflow_v5');
    assert.equal(detectProtocol(new Uint8Array([0, 9])), 'netflow_v9');
    assert.equal(detectProtocol(new Uint8Array([0, 10, 0, 0])), 'ipfix');
    assert.equal(detectProtocol(new Uint8Array([0, 0, 0, 5, 0, 0, 0, 1])), 'sflow_v5');
    assert.equal(detectProtocol(new Uint8Array([0, 0, 0, 4])), 'unknown');
    assert.equal(detectProtocol(new Uint8Array([0])), 'unknown');
  });

  test('unknown versions and runts are counted per exporter, never thrown', () => {
    const d = new FlowDecoder();
    const out = new FlowBatch(4);
    assert.deepEqual(d.decode(new Uint8Array([0, 7, 1, 2]), '10.0.0.1', 0, out), { protocol: 'unknown', records: 0, errors: 1, error: 'bad_version' });
    assert.deepEqual(d.decode(new Uint8Array([]), '10.0.0.1', 0, out), { protocol: 'unknown', records: 0, errors: 1, error: 'too_short' });
    const s = d.exporterStats().find((x) => x.protocol === 'unknown')!;
    assert.deepEqual(s.errors, { bad_version: 1, too_short: 1 });
  });

  test('sFlow is recognised', () => {
    const d = new FlowDecoder();
    const res = d.decode(new Uint8Array([0, 0, 0, 5, 0, 0, 0, 1]), '10.0.0.1', 0, new FlowBatch(4));
    assert.equal(res.protocol, 'sflow_v5');
  });

  test('proto forces the decoder', () => {
    const d = new FlowDecoder();
    const pkt = v5Packet({ uptime: 1, secs: 1, seq: 0 }, []);
    const res = d.decode(pkt, '10.0.0.1', 0, new FlowBatch(4), undefined, 'ipfix');
    assert.equal(res.protocol, 'ipfix');
    assert.equal(res.error, 'bad_length'); // v5 bytes read as an IPFIX header: length field 0
  });

  test('error reasons are stable snake_case', () => {
    for (const r of DECODE_ERROR_REASONS) assert.match(r, /^[a-z][a-z0-9_]*$/);
    assert.equal(new Set(DECODE_ERROR_REASONS).size, DECODE_ERROR_REASONS.length);
  });

  test('exportTemplates/importTemplates carry templates and sampling to another decoder', () => {
    const a = new FlowDecoder();
    const out = new FlowBatch(8);
    a.decode(
      v9(1, [
        v9TemplateSet({ id: 256, fields: FIELDS }),
        v9OptionsTemplateSet(300, [f(1, 4)], [f(48, 1), f(34, 4)]),
        set(300, record([f(1, 4), f(48, 1), f(34, 4)], [0, 5, 100])),
      ]),
      '10.7.7.7',
      1000,
      out,
    );
    const state = a.exportTemplates();
    const json = JSON.parse(JSON.stringify(state));
    assert.equal(json.domains.length, 1);
    assert.deepEqual(json.domains[0].samplers, [{ id: 5, rate: 100 }]);
    assert.deepEqual(json.domains[0].templates.find((t: { id: number }) => t.id === 256).fields, [
      { pen: 0, id: 8, length: 4 },
      { pen: 0, id: 12, length: 4 },
      { pen: 0, id: 1, length: 4 },
      { pen: 0, id: 48, length: 1 },
    ]);

    const b = new FlowDecoder();
    let notified = 0;
    b.onTemplate = () => notified++;
    b.importTemplates(json);
    assert.equal(notified, 0);
    const res = b.decode(v9(2, [set(256, record(FIELDS, ['1.2.3.4', '5.6.7.8', 999, 5]))]), '10.7.7.7', 2000, out);
    assert.equal(res.records, 1);
    const r = row(out, out.length - 1);
    assert.equal(r.src_addr, '1.2.3.4');
    assert.equal(r.bytes, 999);
    assert.equal(r.sampling_rate, 100);
    assert.deepEqual(b.exportTemplates(), state);
  });

  test('importTemplates ignores garbage', () => {
    const d = new FlowDecoder();
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const junk: any[] = [null, {}, { domains: 5 }, { domains: [null, { exporter: 1 }, { exporter: 'x', protocol: 'ipfix', observation_domain: 1, templates: [{ raw: 'zz' }, { raw: '0100' }, null] }] }];
    for (const j of junk) d.importTemplates(j);
    assert.equal(d.exportTemplates().domains.length, 0);
  });

  test('random and mutated packets never throw', () => {
    const d = new FlowDecoder({ pendingMaxAgeMs: 10 });
    const out = new FlowBatch(64);
    const seeds = [
      v5Packet({ uptime: 1, secs: 1, seq: 0 }, [{ src: '1.1.1.1', dst: '2.2.2.2', packets: 1, bytes: 2, first: 0, last: 0 }]),
      v9(1, [v9TemplateSet({ id: 256, fields: FIELDS }), set(256, record(FIELDS, ['1.2.3.4', '5.6.7.8', 999, 5]))]),
      v9(1, [v9OptionsTemplateSet(300, [f(1, 4)], [f(48, 1), f(34, 4)]), set(300, record([f(1, 4), f(48, 1), f(34, 4)], [0, 5, 100]))]),
    ];
    let state = 12345;
    const rnd = () => {
      state = (state * 1103515245 + 12345) & 0x7fffffff;
      return state;
    };
    for (let i = 0; i < 20000; i++) {
      const base = seeds[i % seeds.length];
      const p = base.slice(0, rnd() % 8 === 0 ? rnd() % (base.length + 1) : base.length);
      const flips = 1 + (rnd() % 4);
      for (let k = 0; k < flips && p.length > 2; k++) p[2 + (rnd() % (p.length - 2))] = rnd() & 0xff;
      d.decode(p, `10.0.${i % 4}.1`, i, out, (b) => b.clear());
    }
    const stats = d.exporterStats();
    assert.ok(stats.length > 0);
    // the facade's safety net must never have been needed
    for (const s of stats) assert.equal(s.errors.internal_error, undefined, JSON.stringify(s));
    assert.ok(stats.some((s) => s.records > 0));
  });
});
