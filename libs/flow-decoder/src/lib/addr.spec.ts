import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { bytes16ToIpText, ipv4ToBytes16, macToText, parseIpToBytes16 } from './addr';

function roundTrip(text: string): string {
  const b = new Uint8Array(20);
  assert.equal(parseIpToBytes16(text, b, 2), true, text);
  return bytes16ToIpText(b, 2);
}

describe('addr', () => {
  test('ipv4ToBytes16 writes ::ffff:a.b.c.d at the offset', () => {
    const b = new Uint8Array(18).fill(7);
    ipv4ToBytes16(0xc0a80001, b, 1);
    assert.deepEqual([...b], [7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 168, 0, 1, 7]);
    assert.equal(bytes16ToIpText(b, 1), '192.168.0.1');
  });

  test('IPv4 text round-trips, bad IPv4 text is refused and leaves out untouched', () => {
    assert.equal(roundTrip('10.1.2.3'), '10.1.2.3');
    assert.equal(roundTrip('255.255.255.255'), '255.255.255.255');
    assert.equal(roundTrip('::ffff:1.2.3.4'), '1.2.3.4');
    const b = new Uint8Array(16).fill(9);
    for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1..2.3', 'a.b.c.d', '1.2.3.4 ', '1234.1.1.1']) {
      assert.equal(parseIpToBytes16(bad, b, 0), false, bad);
    }
    assert.ok(b.every((x) => x === 9));
  });

  test('IPv6 text is printed in RFC 5952 form', () => {
    assert.equal(roundTrip('::1'), '::1');
    assert.equal(roundTrip('::'), '::');
    assert.equal(roundTrip('2001:DB8:0:0:0:0:0:1'), '2001:db8::1');
    assert.equal(roundTrip('2001:db8:0:0:1:0:0:1'), '2001:db8::1:0:0:1'); // first of equal runs
    assert.equal(roundTrip('2001:db8:0:1:1:1:1:1'), '2001:db8:0:1:1:1:1:1'); // single 0 not compressed
    assert.equal(roundTrip('fe80::1%eth0'), 'fe80::1');
    assert.equal(roundTrip('64:ff9b::192.0.2.33'), '64:ff9b::c000:221');
    assert.equal(roundTrip('1:2:3:4:5:6:7::'), '1:2:3:4:5:6:7:0');
  });

  test('malformed IPv6 text is refused', () => {
    const b = new Uint8Array(16);
    for (const bad of [':1', '1:', '1:::2', '1::2::3', '1:2:3:4:5:6:7:8:9', '12345::', 'g::1', '1:2:3:4:5:6:7', '::1.2.3']) {
      assert.equal(parseIpToBytes16(bad, b, 0), false, bad);
    }
  });

  test('macToText formats 48-bit numbers', () => {
    assert.equal(macToText(0x0a0b0c0d0e0f), '0a:0b:0c:0d:0e:0f');
    assert.equal(macToText(0xffffffffffff), 'ff:ff:ff:ff:ff:ff');
    assert.equal(macToText(0), '00:00:00:00:00:00');
  });
});
