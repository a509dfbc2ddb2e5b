/**
 * ICMP type/code IEs (32, 139, 176-179) go to dst_port as type * 256 + code (the v5/sFlow
 * convention) when the template has no IE 11; with IE 11 they stay in `extra`. Checked on the
 * interpreter and on the generated decoder (codegen after 3 data sets), for v9 and IPFIX.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FlowBatch } from '../flow-batch';
import { FlowDecoder } from '../flow-decoder';
import { f, ipfixMessage, ipfixTemplateSet, record, set, v9Packet, v9TemplateSet, type Field, type Value } from '../../testing/packets';
import { rows, type Row } from '../../testing/rows';

function decodeBoth(proto: 'v9' | 'ipfix', fields: Field[], values: Value[]): { interp: Row; fast: Row } {
  const d = new FlowDecoder({ codegenAfterSets: 2 });
  const out = new FlowBatch(16);
  const tmpl = proto === 'v9' ? v9TemplateSet({ id: 300, fields }) : ipfixTemplateSet({ id: 300, fields });
  const data = set(300, record(fields, values));
  const pkt = (seq: number, sets: Uint8Array[]): Uint8Array =>
    proto === 'v9'
      ? v9Packet({ uptime: 1000, secs: 1_700_000_000, seq, sourceId: 1 }, sets)
      : ipfixMessage({ exportTime: 1_700_000_000, seq, odid: 1 }, sets);
  d.decode(pkt(0, [tmpl, data]), '192.0.2.1', 1, out); // interpreted (1st set)
  for (let i = 1; i < 4; i++) d.decode(pkt(i, [data]), '192.0.2.1', 1, out); // 2nd+ set: generated
  const r = rows(out);
  assert.equal(r.length, 4);
  return { interp: r[0], fast: r[3] };
}

describe('ICMP type/code into dst_port', () => {
  for (const proto of ['v9', 'ipfix'] as const) {
    test(`${proto}: icmpTypeCodeIPv4 (32) without IE 11 -> dst_port, not extra`, () => {
      const fields = [f(8, 4), f(12, 4), f(4, 1), f(32, 2), f(1, 4)];
      const { interp, fast } = decodeBoth(proto, fields, ['10.0.0.1', '10.0.0.2', 1, 0x0303, 100]);
      for (const r of [interp, fast]) {
        assert.equal(r.dst_port, 0x0303);
        assert.equal(r.src_port, 0);
        assert.deepEqual(r.extra, []);
      }
      assert.deepEqual(fast, interp);
    });

    test(`${proto}: icmpTypeCodeIPv6 (139) and the split type/code IEs (176-179)`, () => {
      const v6 = decodeBoth(proto, [f(27, 16), f(28, 16), f(4, 1), f(139, 2)], ['2001:db8::1', '2001:db8::2', 58, 128 * 256]);
      assert.equal(v6.interp.dst_port, 128 * 256);
      assert.deepEqual(v6.fast, v6.interp);
      const split4 = decodeBoth(proto, [f(8, 4), f(12, 4), f(4, 1), f(177, 1), f(176, 1)], ['10.0.0.1', '10.0.0.2', 1, 4, 3]);
      assert.equal(split4.interp.dst_port, 3 * 256 + 4);
      assert.deepEqual(split4.fast, split4.interp);
      const split6 = decodeBoth(proto, [f(27, 16), f(28, 16), f(4, 1), f(178, 1), f(179, 1)], ['2001:db8::1', '2001:db8::2', 58, 1, 4]);
      assert.equal(split6.interp.dst_port, 1 * 256 + 4);
      assert.deepEqual(split6.interp.extra, []);
      assert.deepEqual(split6.fast, split6.interp);
    });

    test(`${proto}: with IE 11 in the template, dst_port is IE 11 and the ICMP IE stays in extra`, () => {
      const fields = [f(8, 4), f(12, 4), f(4, 1), f(11, 2), f(32, 2)];
      const { interp, fast } = decodeBoth(proto, fields, ['10.0.0.1', '10.0.0.2', 1, 0, 0x0800]);
      assert.equal(interp.dst_port, 0);
      assert.deepEqual(interp.extra, [{ pen: 0, id: 32, value: 0x0800 }]);
      assert.deepEqual(fast, interp);
    });
  }

  test('an enterprise field with id 32 is not ICMP', () => {
    const { interp, fast } = decodeBoth('ipfix', [f(8, 4), f(12, 4), f(32, 2, 9)], ['10.0.0.1', '10.0.0.2', 0x0800]);
    assert.equal(interp.dst_port, 0);
    assert.deepEqual(interp.extra, [{ pen: 9, id: 32, value: 0x0800 }]);
    assert.deepEqual(fast, interp);
  });
});
