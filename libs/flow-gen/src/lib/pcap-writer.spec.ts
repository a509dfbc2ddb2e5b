import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PcapWriter } from './pcap-writer';

/** One's-complement sum over a region folds to 0xffff when its checksum is right. */
function sum(parts: Uint8Array[]): number {
  let s = 0;
  for (const b of parts) {
    for (let i = 0; i < b.length; i += 2) s += (b[i] << 8) | (b[i + 1] ?? 0);
  }
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return s;
}

describe('PcapWriter', () => {
  test('classic pcap: header, record lengths and times, Ethernet/IPv4/UDP with valid checksums', () => {
    const w = new PcapWriter({ startTimeMs: 1_700_000_000_000, intervalUs: 250, dstPort: 4739 });
    w.add(Buffer.from('abc')).add({ payload: Buffer.alloc(100, 1), tsMs: 1_700_000_000_123.5, srcPort: 5 });
    const b = w.toBuffer();
    assert.equal(b.readUInt32LE(0), 0xa1b2c3d4);
    assert.equal(b.readUInt32LE(20), 1); // Ethernet
    let o = 24;
    const frames: Buffer[] = [];
    const stamps: Array<[number, number]> = [];
    while (o < b.length) {
      stamps.push([b.readUInt32LE(o), b.readUInt32LE(o + 4)]);
      const len = b.readUInt32LE(o + 8);
      assert.equal(b.readUInt32LE(o + 12), len);
      frames.push(b.subarray(o + 16, o + 16 + len));
      o += 16 + len;
    }
    assert.equal(o, b.length);
    assert.deepEqual(stamps, [[1_700_000_000, 0], [1_700_000_000, 123_500]]);
    const f = frames[0];
    assert.equal(f.readUInt16BE(12), 0x0800);
    assert.equal(sum([f.subarray(14, 34)]), 0xffff, 'IPv4 header checksum');
    assert.equal(f.readUInt16BE(16), 20 + 8 + 3);
    assert.equal(f.readUInt16BE(36), 4739);
    const udp = f.subarray(34);
    const pseudo = Buffer.from([...f.subarray(26, 34), 0, 17, 0, udp.length]);
    assert.equal(sum([pseudo, udp]), 0xffff, 'UDP checksum');
    assert.equal(frames[1].readUInt16BE(34), 5);
    assert.equal(frames[1].length, 14 + 20 + 8 + 100);
  });

  test('IPv6 frames carry the addresses and a valid UDP checksum', () => {
    const b = new PcapWriter({ src: '::1', dst: '2001:db8::a:b', dstPort: 6343 }).add(Buffer.from('xyz!')).toBuffer();
    const f = b.subarray(40);
    assert.equal(f.readUInt16BE(12), 0x86dd);
    assert.equal(f[14 + 6], 17);
    assert.deepEqual([...f.subarray(22, 38)], [...Array(15).fill(0), 1]);
    assert.equal(f.subarray(38, 54).toString('hex'), '20010db80000000000000000000a000b');
    const udp = f.subarray(54);
    const pseudo = Buffer.concat([f.subarray(22, 54), Buffer.from([0, 0, 0, udp.length, 0, 0, 0, 17])]);
    assert.equal(sum([pseudo, udp]), 0xffff);
  });

  test('refuses mixed families, bad addresses and oversize payloads', () => {
    assert.throws(() => new PcapWriter({ src: '::1' }).add(Buffer.from('x')), RangeError);
    assert.throws(() => new PcapWriter({ dst: 'nope' }).add(Buffer.from('x')), RangeError);
    assert.throws(() => new PcapWriter().add(Buffer.alloc(70_000)), RangeError);
  });
});
