import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { FlowBatch } from '@flowmesh/flow-decoder';
import { readNativeBlock } from '../testing/native-reader';
import { encodeNative, nativeBlockBytes } from './native';
import { encodeRowBinary, ROW_BINARY_ROW_BYTES } from './row-binary';
import { RAW_COLUMNS } from './schema';

function sample(): FlowBatch {
  const b = new FlowBatch(4);
  const rows = [
    { t: 1_700_000_000_999, bytes: 2 ** 40 + 7, mac: 0xfeedfacecafe, port: 65535, addr: 10 },
    { t: -5, bytes: -1, mac: Number.NaN, port: 0, addr: 11 },
    { t: 2 ** 33 * 1000, bytes: 2 ** 53, mac: 0, port: 443, addr: 12 },
  ];
  for (const r of rows) {
    const i = b.next();
    b.time_received[i] = r.t;
    b.flow_start[i] = r.t - 1000;
    b.flow_end[i] = r.t;
    b.bytes[i] = r.bytes;
    b.packets[i] = 3;
    b.src_mac[i] = r.mac;
    b.dst_port[i] = r.port;
    b.in_if[i] = 0xfffffffe;
    b.src_addr.set([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 192, 0, 2, r.addr], i * 16);
    b.vlan[i] = 4095;
  }
  return b;
}

describe('Native block encoder', () => {
  test('every column in table order with its type; values equal the RowBinary encoding of the same batch', () => {
    const b = sample();
    const id = '0123456789abcdef';
    const out = encodeNative(b, id);
    assert.equal(out.length, nativeBlockBytes(3));
    const { rows, columns } = readNativeBlock(out);
    assert.equal(rows, 3);
    assert.deepEqual([...columns.values()].map((c) => [c.name, c.type]), RAW_COLUMNS.map((c) => [c.name, c.type]));
    // The two encoders share no code: the same values, transposed, prove both.
    const rb = encodeRowBinary(b, id);
    let off = 0;
    for (const c of columns.values()) {
      for (let i = 0; i < rows; i++) {
        const fromNative = c.data.subarray(i * c.width, (i + 1) * c.width);
        const fromRowBinary = rb.subarray(i * ROW_BINARY_ROW_BYTES + off, i * ROW_BINARY_ROW_BYTES + off + c.width);
        assert.deepEqual(fromNative, fromRowBinary, `${c.name} row ${i}`);
      }
      off += c.width;
    }
    assert.equal(off, ROW_BINARY_ROW_BYTES);
  });

  test('clamps: times to [0, 2^32) seconds, counters negative/NaN to 0, exact up to 2^53', () => {
    const { columns } = readNativeBlock(encodeNative(sample(), '0000000000000001'));
    const t = columns.get('time_received')!.data;
    assert.deepEqual([t.readUInt32LE(0), t.readUInt32LE(4), t.readUInt32LE(8)], [1_700_000_000, 0, 0xffffffff]);
    const by = columns.get('bytes')!.data;
    assert.deepEqual([by.readBigUInt64LE(0), by.readBigUInt64LE(8), by.readBigUInt64LE(16)], [2n ** 40n + 7n, 0n, 2n ** 53n]);
    const mac = columns.get('src_mac')!.data;
    assert.deepEqual([mac.readBigUInt64LE(0), mac.readBigUInt64LE(8)], [0xfeedfacecafen, 0n]);
    assert.equal(columns.get('batch_id')!.data.readBigUInt64LE(16), 1n);
  });

  test('an empty batch is a block of zero rows; a bad batch id throws', () => {
    const { rows, columns } = readNativeBlock(encodeNative(new FlowBatch(1), 'ffffffffffffffff'));
    assert.equal(rows, 0);
    assert.equal(columns.size, RAW_COLUMNS.length);
    for (const id of ['', '0123', 'XYZXYZXYZXYZXYZX', '0123456789ABCDEF']) assert.throws(() => encodeNative(new FlowBatch(1), id), /invalid batch id/);
  });

  test('the row count is a VarUInt: 300 rows take two bytes', () => {
    const b = new FlowBatch(300);
    for (let i = 0; i < 300; i++) b.dst_port[b.next()] = i;
    const out = encodeNative(b, '0000000000000002');
    assert.deepEqual([...out.subarray(0, 3)], [RAW_COLUMNS.length, 0xac, 0x02]);
    assert.equal(readNativeBlock(out).columns.get('dst_port')!.data.readUInt16LE(299 * 2), 299);
  });
});
