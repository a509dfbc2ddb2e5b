import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAddress } from './address';
import { filterFields, FilterNode } from './filter-ast';
import { formatFilter } from './filter-format';
import { parseFilter } from './filter-parser';
import { compileFilterToPredicate, FlowRecordLike } from './filter-predicate';
import { compileFilterToSql } from './filter-sql';

const sql = (text: string): string => compileFilterToSql(parseFilter(text, { resolve: (_k, n) => (n === 'web' ? 'port 80 or port 443' : undefined) }));

describe('compileFilterToSql: snapshots', () => {
  const snapshots: [string, string][] = [
    ['any', '(1)'],
    ['src ip 10.1.2.3', "(src_addr = unhex('00000000000000000000ffff0a010203'))"],
    ['ip 2001:db8::1', "(src_addr = unhex('20010db8000000000000000000000001') OR dst_addr = unhex('20010db8000000000000000000000001'))"],
    ['src and dst ip in [10.0.0.1 10.0.0.2]',
      "(src_addr IN (unhex('00000000000000000000ffff0a000001'), unhex('00000000000000000000ffff0a000002')) AND dst_addr IN (unhex('00000000000000000000ffff0a000001'), unhex('00000000000000000000ffff0a000002')))"],
    ['src net 10.0.0.0/8 and dst port 443',
      "((src_addr >= unhex('00000000000000000000ffff0a000000') AND src_addr <= unhex('00000000000000000000ffff0affffff')) AND (dst_port = 443))"],
    ['net 2001:db8::/32',
      "((src_addr >= unhex('20010db8000000000000000000000000') AND src_addr <= unhex('20010db8ffffffffffffffffffffffff')) OR (dst_addr >= unhex('20010db8000000000000000000000000') AND dst_addr <= unhex('20010db8ffffffffffffffffffffffff')))"],
    ['not (port 80 or port 443) and proto tcp', '((NOT ((src_port = 80 OR dst_port = 80) OR (src_port = 443 OR dst_port = 443))) AND (protocol = 6))'],
    ['port in [53 123]', '(src_port IN (53, 123) OR dst_port IN (53, 123))'],
    ['bytes > 1m or packets <= 10', '((bytes > 1000000) OR (packets <= 10))'],
    ['flags SA', '(protocol = 6 AND bitAnd(tcp_flags, 18) = 18)'],
    ['inet6 and if 3', '((ip_version = 6) AND (in_if = 3 OR out_if = 3))'],
    ['exporter 192.0.2.1 and vlan 100 and tos 184', "((exporter_addr = unhex('00000000000000000000ffffc0000201')) AND (vlan = 100) AND (tos = 184))"],
    ['next ip ::1 or dst mac ff:ff:ff:ff:ff:ff', "((next_hop = unhex('00000000000000000000000000000001')) OR (dst_mac = 281474976710655))"],
    ['channel web and src as 15169', '(((src_port = 80 OR dst_port = 80) OR (src_port = 443 OR dst_port = 443)) AND (src_as = 15169))'],
  ];
  for (const [filter, expected] of snapshots) {
    test(filter, () => assert.equal(sql(filter), expected));
  }

  test('column mapping for a table alias; anything but an identifier is refused', () => {
    assert.equal(compileFilterToSql(parseFilter('port 80'), { column: (f) => `f.${f}` }), '(f.src_port = 80 OR f.dst_port = 80)');
    assert.throws(() => compileFilterToSql(parseFilter('port 80'), { column: () => 'x; DROP TABLE y' }), /not a plain identifier/);
  });

  test('a hand-built AST with values the parser would refuse is a programming error, not SQL', () => {
    const bad = (n: unknown): void => assert.throws(() => compileFilterToSql(n as FilterNode));
    bad({ type: 'number', fields: ['src_port'], match: 'any', op: 'eq', values: [70000], pos: 0 });
    bad({ type: 'number', fields: ['src_port'], match: 'any', op: 'eq', values: ["1; DROP TABLE x"], pos: 0 });
    bad({ type: 'number', fields: ['src_port'], match: 'any', op: 'eq', values: [1.5], pos: 0 });
    bad({ type: 'number', fields: ['src_port); DROP'], match: 'any', op: 'eq', values: [1], pos: 0 });
    bad({ type: 'number', fields: ['src_port'], match: 'any', op: 'like', values: [1], pos: 0 });
    bad({ type: 'address', fields: ['src_addr'], match: 'any', prefixes: [{ family: 4, length: 128, first: "') OR 1=1 --", last: 'x', text: '' }], pos: 0 });
    bad({ type: 'drop', pos: 0 });
  });
});

function row(over: Partial<Record<keyof FlowRecordLike, number | string>> = {}): FlowRecordLike {
  const addr = (v: number | string | undefined, d: string): Uint8Array => parseAddress(String(v ?? d))!.bytes;
  return {
    ip_version: 4, protocol: 6, tcp_flags: 0, src_port: 1000, dst_port: 80, tos: 0, bytes: 1500, packets: 3, in_if: 1, out_if: 2,
    src_as: 0, dst_as: 0, src_mask: 24, dst_mask: 24, vlan: 0, src_mac: 0, dst_mac: 0,
    ...(over as Record<string, number>),
    src_addr: addr(over.src_addr, '10.1.2.3'), dst_addr: addr(over.dst_addr, '192.168.1.1'),
    next_hop: addr(over.next_hop, '0.0.0.0'), exporter_addr: addr(over.exporter_addr, '192.0.2.1'),
  };
}

describe('compileFilterToPredicate', () => {
  const m = (filter: string, r: FlowRecordLike): boolean => compileFilterToPredicate(parseFilter(filter))(r);

  test('addresses and networks, v4 and v6', () => {
    assert.equal(m('src ip 10.1.2.3', row()), true);
    assert.equal(m('dst ip 10.1.2.3', row()), false);
    assert.equal(m('ip 192.168.1.1', row()), true);
    assert.equal(m('src and dst net 10.0.0.0/8', row()), false);
    assert.equal(m('src and dst net 10.0.0.0/8', row({ dst_addr: '10.9.9.9' })), true);
    assert.equal(m('net 0.0.0.0/0', row()), true);
    assert.equal(m('net 0.0.0.0/0', row({ src_addr: '2001:db8::1', dst_addr: '::1' })), false);
    assert.equal(m('src net 2001:db8::/32', row({ src_addr: '2001:db8:ffff::1' })), true);
    assert.equal(m('src net 2001:db8::/33', row({ src_addr: '2001:db8:ffff::1' })), false);
    assert.equal(m('exporter 192.0.2.0/24', row()), true);
  });

  test('numbers, flags, version', () => {
    assert.equal(m('port 80', row()), true);
    assert.equal(m('src port 80', row()), false);
    assert.equal(m('src and dst port > 79', row()), true);
    assert.equal(m('src and dst port > 80', row()), false);
    assert.equal(m('bytes >= 1k', row()), true);
    assert.equal(m('bytes > 1500 or packets < 3', row()), false);
    assert.equal(m('port in [ 1 2 80 ]', row()), true);
  });

  test('flags need TCP and every listed bit', () => {
    assert.equal(m('flags SA', row({ tcp_flags: 0x12 })), true);
    assert.equal(m('flags SA', row({ tcp_flags: 0x02 })), false);
    assert.equal(m('flags SA', row({ tcp_flags: 0x12, protocol: 17 })), false);
    assert.equal(m('inet and not inet6', row()), true);
  });
});

describe('formatFilter and filterFields', () => {
  test('canonical text that parses back to the same canonical text', () => {
    const cases: [string, string][] = [
      ['SRC IP 10.1.2.3 && !PORT 22', 'src ip 10.1.2.3 and not port 22'],
      ['(port 1 or port 2) and not (port 3 and port 4)', '(port 1 or port 2) and not (port 3 and port 4)'],
      ['src and dst net 10.1/16', 'src and dst net 10.1.0.0/16'],
      ['net 10.0.0.0 255.255.0.0', 'net 10.0.0.0/16'],
      ['router ip 192.0.2.1', 'exporter ip 192.0.2.1'],
      ['flags SA', 'flags AS'],
      ['proto 6 or proto 200', 'proto tcp or proto 200'],
      ['bytes > 1k', 'bytes > 1000'],
      ['ip in [ 10.0.0.1, ::1 ]', 'ip in [ 10.0.0.1 ::1 ]'],
      ['in if 3 and out if 4 and if 5', 'in if 3 and out if 4 and if 5'],
      ['src mac 02-42-AC-11-00-02', 'src mac 02:42:ac:11:00:02'],
    ];
    for (const [input, canonical] of cases) {
      const text = formatFilter(parseFilter(input));
      assert.equal(text, canonical, input);
      assert.equal(formatFilter(parseFilter(text)), canonical, input);
    }
  });

  test('filterFields lists the columns a filter reads', () => {
    assert.deepEqual(filterFields(parseFilter('src net 10.0.0.0/8 and (flags S or inet6)')), ['ip_version', 'protocol', 'src_addr', 'tcp_flags']);
    assert.deepEqual(filterFields(parseFilter('any')), []);
  });
});
