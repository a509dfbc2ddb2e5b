import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { FlowBatch, parseIpToBytes16 } from '@flowmesh/flow-decoder';
import { encodeRowBinary, ROW_BINARY_ROW_BYTES } from './row-binary';
import { RAW_COLUMNS } from './schema';

const WIDTH: Record<string, number> = { DateTime: 4, 'FixedString(16)': 16, UInt8: 1, UInt16: 2, UInt32: 4, UInt64: 8 };

describe('RowBinary encoder', () => {
  test('row width matches the schema columns', () => {
    assert.equal(ROW_BINARY_ROW_BYTES, RAW_COLUMNS.reduce((n, c) => n + WIDTH[c.type], 0));
    assert.equal(ROW_BINARY_ROW_BYTES, 154);
    assert.equal(RAW_COLUMNS[RAW_COLUMNS.length - 1].name, 'batch_id');
  });

  test('one known row, byte for byte', () => {
    const b = new FlowBatch(4);
    const i = b.next();
    b.time_received[i] = 1_700_000_000_999; // -> 1700000000 = 0x6553f100
    b.flow_start[i] = 1_699_999_990_000; // -> 0x6553f0f6
    b.flow_end[i] = 1_699_999_999_000; // -> 0x6553f0ff
    parseIpToBytes16('192.0.2.1', b.exporter_addr, 0);
    b.observation_domain[i] = 0x01020304;
    b.flow_type[i] = 9;
    b.sampling_rate[i] = 1000;
    b.ip_version[i] = 4;
    parseIpToBytes16('10.0.0.1', b.src_addr, 0);
    parseIpToBytes16('2001:db8::1', b.dst_addr, 0);
    b.src_port[i] = 443;
    b.dst_port[i] = 51000;
    b.protocol[i] = 6;
    b.tcp_flags[i] = 0x1b;
    b.tos[i] = 0xb8;
    b.bytes[i] = 2 ** 32 + 5; // crosses the 32-bit halves
    b.packets[i] = 7;
    b.in_if[i] = 10;
    b.out_if[i] = 20;
    b.src_as[i] = 64500;
    b.dst_as[i] = 4200000000;
    parseIpToBytes16('::', b.next_hop, 0);
    b.src_mask[i] = 24;
    b.dst_mask[i] = 64;
    b.direction[i] = 1;
    b.vlan[i] = 100;
    b.src_mac[i] = 0x0242ac110002;
    b.dst_mac[i] = 0xffffffffffff;

    const expected = [
      '00f15365', // time_received
      'f6f05365', // flow_start
      'fff05365', // flow_end
      '00000000000000000000ffffc0000201', // exporter_addr ::ffff:192.0.2.1
      '04030201', // observation_domain
      '09', // flow_type
      'e8030000', // sampling_rate 1000
      '04', // ip_version
      '00000000000000000000ffff0a000001', // src_addr
      '20010db8000000000000000000000001', // dst_addr
      'bb01', // src_port 443
      '38c7', // dst_port 51000
      '06', // protocol
      '1b', // tcp_flags
      'b8', // tos
      '0500000001000000', // bytes 2^32+5
      '0700000000000000', // packets
      '0a000000', // in_if
      '14000000', // out_if
      'f4fb0000', // src_as 64500
      '00ea56fa', // dst_as 4200000000
      '00000000000000000000000000000000', // next_hop ::
      '18', // src_mask
      '40', // dst_mask
      '01', // direction
      '6400', // vlan
      '020011ac42020000', // src_mac
      'ffffffffffff0000', // dst_mac
      'efcdab8967452301', // batch_id 0123456789abcdef
    ].join('');
    assert.equal(encodeRowBinary(b, '0123456789abcdef').toString('hex'), expected);
  });

  test('rows follow each other; out-of-range values are clamped, not wrapped', () => {
    const b = new FlowBatch(3);
    b.next();
    const j = b.next();
    b.time_received[j] = -5; // before 1970
    b.flow_end[j] = 2 ** 40 * 1000; // after 2106
    b.bytes[j] = -1;
    b.packets[j] = Number.NaN;
    const out = encodeRowBinary(b, 'ffffffff00000001');
    assert.equal(out.length, 2 * ROW_BINARY_ROW_BYTES);
    assert.equal(out.readBigUInt64LE(ROW_BINARY_ROW_BYTES - 8), 0xffffffff00000001n, 'every row carries the batch id');
    assert.equal(out.readBigUInt64LE(2 * ROW_BINARY_ROW_BYTES - 8), 0xffffffff00000001n);
    const r = out.subarray(ROW_BINARY_ROW_BYTES);
    assert.equal(r.readUInt32LE(0), 0);
    assert.equal(r.readUInt32LE(8), 0xffffffff);
    const bytesAt = 12 + 16 + 4 + 1 + 4 + 1 + 32 + 2 + 2 + 3;
    assert.equal(r.readBigUInt64LE(bytesAt), 0n);
    assert.equal(r.readBigUInt64LE(bytesAt + 8), 0n);
  });

  test('an empty batch encodes to nothing', () => {
    assert.equal(encodeRowBinary(new FlowBatch(1), '0000000000000000').length, 0);
  });

  test('a batch id that is not 16 lowercase hex digits is refused', () => {
    for (const id of ['', '123', '0123456789ABCDEF', '0123456789abcdef0', "0123456789abcde'", '-123456789abcdef']) {
      assert.throws(() => encodeRowBinary(new FlowBatch(1), id), /invalid batch id/, id);
    }
  });
});
