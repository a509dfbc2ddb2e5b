import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIpToBytes16 } from './addr';
import { DIRECTION, FlowBatch, FLOW_TYPE } from './flow-batch';
import { extraFieldKey, extraFieldValue, flowRecordAt, flowRecordToJson, msToIso } from './flow-record';

function batchWithOneRow(): FlowBatch {
  const b = new FlowBatch(4);
  b.next();
  const i = b.next();
  b.time_received[i] = Date.UTC(2026, 0, 15, 12, 0, 1, 234);
  b.flow_start[i] = Date.UTC(2026, 0, 15, 12, 0, 0, 5);
  b.flow_end[i] = Date.UTC(2026, 0, 15, 12, 0, 1, 0);
  parseIpToBytes16('192.0.2.7', b.exporter_addr, i * 16);
  b.observation_domain[i] = 4294967295;
  b.flow_type[i] = FLOW_TYPE.ipfix;
  b.sampling_rate[i] = 100;
  b.ip_version[i] = 6;
  parseIpToBytes16('2001:db8:0:0:1:0:0:1', b.src_addr, i * 16);
  parseIpToBytes16('2001:db8::2', b.dst_addr, i * 16);
  parseIpToBytes16('fe80::1', b.next_hop, i * 16);
  b.src_port[i] = 65535;
  b.dst_port[i] = 0x0300 + 3;
  b.protocol[i] = 58;
  b.tcp_flags[i] = 0x12;
  b.tos[i] = 0xb8;
  b.bytes[i] = 2 ** 53;
  b.packets[i] = 7;
  b.in_if[i] = 4294967295;
  b.out_if[i] = 9;
  b.src_as[i] = 4200000000;
  b.dst_as[i] = 65001;
  b.src_mask[i] = 48;
  b.dst_mask[i] = 128;
  b.direction[i] = DIRECTION.egress;
  b.vlan[i] = 4094;
  b.src_mac[i] = 0x0a0b0c0d0e0f;
  b.dst_mac[i] = 0xffffffffffff;
  b.extra[i] = [
    { pen: 0, id: 96, value: new Uint8Array([0x68, 0x69]) },
    { pen: 0, id: 130, value: 0xc0000201 },
    { pen: 0, id: 131, value: new Uint8Array(16).fill(0).map((_, k) => (k === 0 ? 0x20 : k === 15 ? 1 : 0)) },
    { pen: 0, id: 414, value: 0x020000000001 },
    { pen: 0, id: 999, value: 5 },
    { pen: 29305, id: 1, value: 123456 },
    { pen: 9, id: 12235, value: 'text' },
  ];
  return b;
}

describe('record view', () => {
  test('flowRecordAt: every canonical field, text addresses (RFC 5952) and MACs, numbers elsewhere', () => {
    const b = batchWithOneRow();
    const r = flowRecordAt(b, 1);
    assert.deepEqual(r, {
      time_received: Date.UTC(2026, 0, 15, 12, 0, 1, 234),
      flow_start: Date.UTC(2026, 0, 15, 12, 0, 0, 5),
      flow_end: Date.UTC(2026, 0, 15, 12, 0, 1, 0),
      exporter_addr: '192.0.2.7',
      observation_domain: 4294967295,
      flow_type: 10,
      sampling_rate: 100,
      ip_version: 6,
      src_addr: '2001:db8::1:0:0:1',
      dst_addr: '2001:db8::2',
      src_port: 65535,
      dst_port: 771,
      protocol: 58,
      tcp_flags: 0x12,
      tos: 0xb8,
      bytes: 2 ** 53,
      packets: 7,
      in_if: 4294967295,
      out_if: 9,
      src_as: 4200000000,
      dst_as: 65001,
      next_hop: 'fe80::1',
      src_mask: 48,
      dst_mask: 128,
      direction: 2,
      vlan: 4094,
      src_mac: '0a:0b:0c:0d:0e:0f',
      dst_mac: 'ff:ff:ff:ff:ff:ff',
      extra: b.extra[1],
    });
    // a zeroed row: unspecified addresses, an empty extra list
    const z = flowRecordAt(b, 0);
    assert.equal(z.src_addr, '::');
    assert.equal(z.src_mac, '00:00:00:00:00:00');
    assert.deepEqual(z.extra, []);
  });

  test('flowRecordAt refuses rows outside the batch', () => {
    const b = batchWithOneRow();
    assert.throws(() => flowRecordAt(b, 2), RangeError);
    assert.throws(() => flowRecordAt(b, -1), RangeError);
    assert.throws(() => flowRecordAt(b, 0.5), RangeError);
  });

  test('flowRecordToJson: ISO 8601 UTC times with ms, names for flow_type/direction, extra by name', () => {
    const j = flowRecordToJson(flowRecordAt(batchWithOneRow(), 1));
    assert.equal(j.time_received, '2026-01-15T12:00:01.234Z');
    assert.equal(j.flow_start, '2026-01-15T12:00:00.005Z');
    assert.equal(j.flow_end, '2026-01-15T12:00:01.000Z');
    assert.equal(j.flow_type, 'ipfix');
    assert.equal(j.direction, 'egress');
    assert.equal(j.bytes, 2 ** 53);
    assert.equal(j.src_addr, '2001:db8::1:0:0:1');
    assert.equal(j.src_mac, '0a:0b:0c:0d:0e:0f');
    assert.deepEqual(j.extra, {
      applicationName: '6869',
      exporterIPv4Address: '192.0.2.1',
      exporterIPv6Address: '2000::1',
      ie414: '02:00:00:00:00:01',
      ie999: 5,
      '29305.1': 123456,
      '9.12235': 'text',
    });
    // the JSON round-trips: plain data only
    assert.deepEqual(JSON.parse(JSON.stringify(j)), j);
    // field order is the canonical order
    assert.deepEqual(Object.keys(j).slice(0, 4), ['time_received', 'flow_start', 'flow_end', 'exporter_addr']);
  });

  test('a record without extra fields has no "extra" key; unknown enum values print as numbers', () => {
    const b = new FlowBatch(1);
    const i = b.next();
    b.flow_type[i] = 77;
    b.direction[i] = 9;
    const j = flowRecordToJson(flowRecordAt(b, i));
    assert.equal('extra' in j, false);
    assert.equal(j.flow_type, 77);
    assert.equal(j.direction, 9);
    assert.equal(j.time_received, '1970-01-01T00:00:00.000Z');
  });

  test('helpers: keys, values, out-of-range times', () => {
    assert.equal(extraFieldKey({ pen: 0, id: 32, value: 0 }), 'icmpTypeCodeIPv4');
    assert.equal(extraFieldKey({ pen: 0, id: 4242, value: 0 }), 'ie4242');
    assert.equal(extraFieldKey({ pen: 6871, id: 3, value: 0 }), '6871.3');
    assert.equal(extraFieldValue({ pen: 0, id: 8, value: 0x0a000001 }), '10.0.0.1');
    // an enterprise field with an IANA id is not reinterpreted as an address
    assert.equal(extraFieldValue({ pen: 1, id: 8, value: 0x0a000001 }), 0x0a000001);
    assert.equal(extraFieldValue({ pen: 1, id: 8, value: new Uint8Array([0, 255]) }), '00ff');
    assert.equal(msToIso(NaN), 'NaN');
    assert.equal(msToIso(9e15), '9000000000000000');
  });
});
