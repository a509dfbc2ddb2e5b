import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { bytesToHex, formatAddress, formatMac, netmaskLength, parseAddress, parseIPv6, parseMac, parseNetwork } from './address';

describe('addresses', () => {
  test('IPv4 maps into ::ffff:0:0/96 and formats back as dotted quad', () => {
    const a = parseAddress('10.1.2.3');
    assert.equal(a?.family, 4);
    assert.equal(bytesToHex(a!.bytes), '00000000000000000000ffff0a010203');
    assert.equal(formatAddress(a!.bytes), '10.1.2.3');
    assert.equal(bytesToHex(parseAddress('::ffff:10.1.2.3')!.bytes), '00000000000000000000ffff0a010203');
  });

  test('IPv6 forms, RFC 5952 output', () => {
    const cases: [string, string, string][] = [
      ['2001:db8::1', '20010db8000000000000000000000001', '2001:db8::1'],
      ['2001:DB8:0:0:0:0:0:1', '20010db8000000000000000000000001', '2001:db8::1'],
      ['::', '00000000000000000000000000000000', '::'],
      ['::1', '00000000000000000000000000000001', '::1'],
      ['1::', '00010000000000000000000000000000', '1::'],
      ['2001:db8:0:1:1:1:1:1', '20010db8000000010001000100010001', '2001:db8:0:1:1:1:1:1'],
      ['2001:0:0:1:0:0:0:1', '20010000000000010000000000000001', '2001:0:0:1::1'],
      ['1:2:3:4:5:6:7::', '00010002000300040005000600070000', '1:2:3:4:5:6:7:0'],
      ['64:ff9b::192.0.2.33', '0064ff9b0000000000000000c0000221', '64:ff9b::c000:221'],
    ];
    for (const [text, hex, formatted] of cases) {
      const a = parseAddress(text);
      assert.ok(a, text);
      assert.equal(bytesToHex(a.bytes), hex, text);
      assert.equal(formatAddress(a.bytes), formatted, text);
    }
  });

  test('rejects malformed addresses', () => {
    for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1.2.3.-4', ':::', '1::2::3', '1:2:3:4:5:6:7:8:9', '12345::', 'g::1',
      '1.2.3.4::', '::1%eth0', 'fe80::1/64', ' 1.2.3.4', '1:2:3:4:5:6:7:8::', '1:2:3:4:5:6:7']) {
      assert.equal(parseAddress(bad), undefined, JSON.stringify(bad));
    }
    assert.equal(parseIPv6('::ffff:1.2.3'), undefined);
  });

  test('networks: CIDR, short forms, host bits cleared, lengths in the 128-bit space', () => {
    const n = parseNetwork('10.1.2.3/8')!;
    assert.deepEqual(n, { family: 4, length: 104, first: '00000000000000000000ffff0a000000', last: '00000000000000000000ffff0affffff', text: '10.0.0.0/8' });
    assert.equal(parseNetwork('172.16/12')!.text, '172.16.0.0/12');
    assert.equal(parseNetwork('10/8')!.text, '10.0.0.0/8');
    const all4 = parseNetwork('0.0.0.0/0')!;
    assert.equal(all4.first, '00000000000000000000ffff00000000');
    assert.equal(all4.last, '00000000000000000000ffffffffffff');
    const v6 = parseNetwork('2001:db8::/33')!;
    assert.equal(v6.first, '20010db8000000000000000000000000');
    assert.equal(v6.last, '20010db87fffffffffffffffffffffff');
    assert.equal(parseNetwork('::/0')!.last, 'ffffffffffffffffffffffffffffffff');
    assert.equal(parseNetwork('10.1.2.3/32')!.text, '10.1.2.3');
    // IPv6 spellings inside ::ffff:0:0/96 are IPv4 prefixes (same bytes, same text).
    assert.deepEqual(parseNetwork('::ffff:10.0.0.0/104'), parseNetwork('10.0.0.0/8'));
    assert.deepEqual(parseNetwork('::ffff:0:1/112'), parseNetwork('0.0.0.0/16'));
    assert.equal(parseNetwork('::ffff:0:0/95')!.family, 6);
    for (const bad of ['10.0.0.0/33', '10.0.0.0', '10.0.0.0/', '10.0.0.0/08', '2001:db8::/129', '1.2.3.4.5/8', '10.0.0.0/8/8', 'x/8']) {
      assert.equal(parseNetwork(bad), undefined, bad);
    }
  });

  test('netmasks must be contiguous', () => {
    assert.equal(netmaskLength('255.255.255.0'), 24);
    assert.equal(netmaskLength('255.255.240.0'), 20);
    assert.equal(netmaskLength('0.0.0.0'), 0);
    assert.equal(netmaskLength('255.255.255.255'), 32);
    assert.equal(netmaskLength('255.0.255.0'), undefined);
    assert.equal(netmaskLength('0.255.255.255'), undefined);
  });

  test('MACs are the 48-bit big-endian number the schema stores', () => {
    assert.equal(parseMac('02:42:ac:11:00:02'), 0x0242ac110002);
    assert.equal(parseMac('FF-FF-FF-FF-FF-FF'), 0xffffffffffff);
    assert.equal(parseMac('02:42:ac:11:00'), undefined);
    assert.equal(parseMac('02:42-ac:11:00:02'), undefined);
    assert.equal(formatMac(0x0242ac110002), '02:42:ac:11:00:02');
  });
});
