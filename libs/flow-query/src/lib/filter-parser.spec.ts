import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FilterNode } from './filter-ast';
import { parseFilter, ParseFilterOptions } from './filter-parser';
import { FilterSyntaxError } from './filter-syntax-error';

const V4 = (last: string): string => `00000000000000000000ffff${last}`;

/** The AST without positions, for compact expectations. */
function strip(n: FilterNode): unknown {
  return JSON.parse(JSON.stringify(n, (k, v) => (k === 'pos' ? undefined : v)));
}
const p = (text: string, opts?: ParseFilterOptions): unknown => strip(parseFilter(text, opts));

function syntaxError(text: string, opts?: ParseFilterOptions): FilterSyntaxError {
  try {
    parseFilter(text, opts);
  } catch (e) {
    assert.ok(e instanceof FilterSyntaxError, `expected FilterSyntaxError, got ${String(e)}`);
    assert.equal(e.message, `at ${e.position}: ${e.reason}`);
    return e;
  }
  assert.fail(`${JSON.stringify(text)} parsed`);
}

const OPS = ['=', '==', '<', '>', '<=', '>=', 'eq', 'lt', 'gt', 'le', 'ge'];
const TERM_START = ['(', 'not', '!', 'any', 'src', 'dst', 'ip', 'host', 'net', 'port', 'as', 'mask', 'mac', 'in', 'out', 'if', 'proto', 'tos', 'vlan',
  'flags', 'bytes', 'packets', 'inet', 'inet6', 'ipv4', 'ipv6', 'next', 'router', 'exporter', 'channel', 'profile'];

describe('parseFilter: terms', () => {
  test('ip / host with direction; ip alone means src or dst', () => {
    const host = { family: 4, length: 128, first: V4('0a010203'), last: V4('0a010203'), text: '10.1.2.3' };
    assert.deepEqual(p('ip 10.1.2.3'), { type: 'address', fields: ['src_addr', 'dst_addr'], match: 'any', prefixes: [host] });
    assert.deepEqual(p('src host 10.1.2.3'), { type: 'address', fields: ['src_addr'], match: 'any', prefixes: [host] });
    assert.deepEqual(p('dst ip 10.1.2.3'), { type: 'address', fields: ['dst_addr'], match: 'any', prefixes: [host] });
    assert.deepEqual(p('src and dst ip 10.1.2.3'), { type: 'address', fields: ['src_addr', 'dst_addr'], match: 'all', prefixes: [host] });
    assert.deepEqual(p('src or dst ip 10.1.2.3'), p('ip 10.1.2.3'));
    assert.deepEqual(p('dst && src ip 10.1.2.3'), p('src and dst ip 10.1.2.3'));
    const v6 = p('ip 2001:DB8::1') as { prefixes: unknown[] };
    assert.deepEqual(v6.prefixes, [{ family: 6, length: 128, first: '20010db8000000000000000000000001', last: '20010db8000000000000000000000001', text: '2001:db8::1' }]);
  });

  test('ip in [ list ], commas optional', () => {
    const n = p('src ip in [ 10.0.0.1, 10.0.0.2 ::1 ]') as { fields: string[]; prefixes: { text: string }[] };
    assert.deepEqual(n.fields, ['src_addr']);
    assert.deepEqual(n.prefixes.map((x) => x.text), ['10.0.0.1', '10.0.0.2', '::1']);
  });

  test('net: CIDR, netmask, short form, IPv6', () => {
    const eight = { family: 4, length: 104, first: V4('0a000000'), last: V4('0affffff'), text: '10.0.0.0/8' };
    assert.deepEqual(p('src net 10.0.0.0/8'), { type: 'address', fields: ['src_addr'], match: 'any', prefixes: [eight] });
    assert.deepEqual(p('src net 10.0.0.0 255.0.0.0'), p('src net 10.0.0.0/8'));
    assert.deepEqual(p('src net 10/8'), p('src net 10.0.0.0/8'));
    assert.deepEqual((p('net 10.1/16') as { prefixes: { text: string }[] }).prefixes[0].text, '10.1.0.0/16');
    assert.deepEqual((p('dst net 2001:db8::/32') as { prefixes: { first: string; last: string }[] }).prefixes[0], {
      family: 6, length: 32, first: '20010db8000000000000000000000000', last: '20010db8ffffffffffffffffffffffff', text: '2001:db8::/32',
    });
  });

  test('port, as, mask, mac with comparisons and lists', () => {
    assert.deepEqual(p('port 443'), { type: 'number', fields: ['src_port', 'dst_port'], match: 'any', op: 'eq', values: [443] });
    const ops: [string, string][] = [['=', 'eq'], ['==', 'eq'], ['eq', 'eq'], ['<', 'lt'], ['lt', 'lt'], ['>', 'gt'], ['gt', 'gt'], ['<=', 'le'], ['le', 'le'], ['>=', 'ge'], ['ge', 'ge']];
    for (const [text, op] of ops) {
      assert.deepEqual(p(`dst port ${text} 1024`), { type: 'number', fields: ['dst_port'], match: 'any', op, values: [1024] }, text);
    }
    assert.deepEqual(p('dst port>1024'), p('dst port > 1024'));
    assert.deepEqual(p('port in [ 80 443, 80 ]'), { type: 'number', fields: ['src_port', 'dst_port'], match: 'any', op: 'eq', values: [80, 443] });
    assert.deepEqual(p('src as 15169'), { type: 'number', fields: ['src_as'], match: 'any', op: 'eq', values: [15169] });
    assert.deepEqual(p('as >= 4294967295'), { type: 'number', fields: ['src_as', 'dst_as'], match: 'any', op: 'ge', values: [4294967295] });
    assert.deepEqual(p('dst mask 24'), { type: 'number', fields: ['dst_mask'], match: 'any', op: 'eq', values: [24] });
    assert.deepEqual(p('src mac 02:42:ac:11:00:02'), { type: 'number', fields: ['src_mac'], match: 'any', op: 'eq', values: [0x0242ac110002] });
  });

  test('interfaces, proto, tos, vlan', () => {
    assert.deepEqual(p('in if 3'), { type: 'number', fields: ['in_if'], match: 'any', op: 'eq', values: [3] });
    assert.deepEqual(p('out if 4'), { type: 'number', fields: ['out_if'], match: 'any', op: 'eq', values: [4] });
    assert.deepEqual(p('if 5'), { type: 'number', fields: ['in_if', 'out_if'], match: 'any', op: 'eq', values: [5] });
    const proto = (t: string): unknown => (p(t) as { values: number[] }).values;
    assert.deepEqual(proto('proto tcp'), [6]);
    assert.deepEqual(proto('proto UDP'), [17]);
    assert.deepEqual(proto('proto icmp'), [1]);
    assert.deepEqual(proto('proto icmp6'), [58]);
    assert.deepEqual(proto('proto gre'), [47]);
    assert.deepEqual(proto('proto esp'), [50]);
    assert.deepEqual(proto('proto 132'), [132]);
    assert.deepEqual(proto('proto in [tcp udp]'), [6, 17]);
    assert.deepEqual(p('tos 184'), { type: 'number', fields: ['tos'], match: 'any', op: 'eq', values: [184] });
    assert.deepEqual(p('vlan 100'), { type: 'number', fields: ['vlan'], match: 'any', op: 'eq', values: [100] });
  });

  test('bytes / packets with nfdump scaling (k = 1000)', () => {
    const v = (t: string): unknown => (p(t) as { values: number[] }).values[0];
    assert.equal(v('bytes > 1k'), 1000);
    assert.equal(v('bytes > 2M'), 2_000_000);
    assert.equal(v('packets < 3g'), 3_000_000_000);
    assert.equal(v('bytes 9007199254740991'), Number.MAX_SAFE_INTEGER);
    assert.deepEqual(p('packets >= 10'), { type: 'number', fields: ['packets'], match: 'any', op: 'ge', values: [10] });
  });

  test('flags: all listed bits set; X is all six', () => {
    assert.deepEqual(p('flags S'), { type: 'tcp_flags', mask: 2 });
    assert.deepEqual(p('flags SA'), { type: 'tcp_flags', mask: 18 });
    assert.deepEqual(p('flags uaprsf'), { type: 'tcp_flags', mask: 63 });
    assert.deepEqual(p('flags X'), { type: 'tcp_flags', mask: 63 });
    assert.deepEqual(p('flags EC'), { type: 'tcp_flags', mask: 192 });
  });

  test('ip version, any, next hop, exporter', () => {
    assert.deepEqual(p('inet'), { type: 'ip_version', version: 4 });
    assert.deepEqual(p('ipv4'), { type: 'ip_version', version: 4 });
    assert.deepEqual(p('INET6'), { type: 'ip_version', version: 6 });
    assert.deepEqual(p('ipv6'), { type: 'ip_version', version: 6 });
    assert.deepEqual(p('any'), { type: 'any' });
    assert.deepEqual((p('next ip 10.0.0.1') as { fields: string[] }).fields, ['next_hop']);
    assert.deepEqual((p('next net 10.0.0.0/8') as { fields: string[] }).fields, ['next_hop']);
    assert.deepEqual(p('exporter 192.0.2.1'), p('exporter ip 192.0.2.1'));
    assert.deepEqual(p('router ip 192.0.2.1'), p('exporter ip 192.0.2.1'));
    assert.deepEqual((p('exporter 192.0.2.0/24') as { fields: string[] }).fields, ['exporter_addr']);
    assert.deepEqual(p('exporter net 192.0.2.0/24'), p('exporter 192.0.2.0/24'));
  });

  test('keywords are case-insensitive; blank text is any', () => {
    assert.deepEqual(p('SRC IP 10.1.2.3 AND DST PORT 80'), p('src ip 10.1.2.3 and dst port 80'));
    assert.deepEqual(p('   '), { type: 'any' });
    assert.deepEqual(p(''), { type: 'any' });
  });
});

describe('parseFilter: boolean structure', () => {
  const A = { type: 'number', fields: ['src_port', 'dst_port'], match: 'any', op: 'eq', values: [1] };
  const B = { ...A, values: [2] };
  const C = { ...A, values: [3] };

  test('not binds tighter than and, and tighter than or', () => {
    assert.deepEqual(p('port 1 or port 2 and port 3'), { type: 'or', children: [A, { type: 'and', children: [B, C] }] });
    assert.deepEqual(p('port 1 and port 2 or port 3'), { type: 'or', children: [{ type: 'and', children: [A, B] }, C] });
    assert.deepEqual(p('not port 1 and port 2'), { type: 'and', children: [{ type: 'not', child: A }, B] });
    assert.deepEqual(p('not port 1 or port 2'), { type: 'or', children: [{ type: 'not', child: A }, B] });
    assert.deepEqual(p('! ! port 1'), { type: 'not', child: { type: 'not', child: A } });
  });

  test('parentheses override; && || ! are synonyms', () => {
    assert.deepEqual(p('(port 1 or port 2) and port 3'), { type: 'and', children: [{ type: 'or', children: [A, B] }, C] });
    assert.deepEqual(p('not (port 1 or port 2)'), { type: 'not', child: { type: 'or', children: [A, B] } });
    assert.deepEqual(p('port 1 || port 2 && !port 3'), p('port 1 or port 2 and not port 3'));
    assert.deepEqual(p('((port 1))'), A);
  });

  test('chains are flat and positions point at the first token', () => {
    const n = parseFilter('port 1 and port 2 and  port 3');
    assert.equal(n.type, 'and');
    assert.equal((n as { children: FilterNode[] }).children.length, 3);
    assert.deepEqual((n as { children: FilterNode[] }).children.map((c) => c.pos), [0, 11, 23]);
  });
});

describe('parseFilter: channel / profile references', () => {
  const refs: Record<string, string> = {
    'channel:web': 'port 80 or port 443',
    'profile:edge': 'exporter 192.0.2.1 and channel web',
    'channel:a': 'port 1 or channel b',
    'channel:b': 'channel a',
    'channel:self': 'channel self',
    'channel:broken': 'port 80 and',
  };
  const resolve = (kind: string, name: string): string | undefined => refs[`${kind}:${name}`];

  test('a reference keeps its name and holds the resolved AST', () => {
    const n = parseFilter('proto tcp and channel web', { resolve });
    assert.deepEqual(strip(n), {
      type: 'and',
      children: [
        { type: 'number', fields: ['protocol'], match: 'any', op: 'eq', values: [6] },
        { type: 'ref', kind: 'channel', name: 'web', filter: p('port 80 or port 443') },
      ],
    });
    const nested = p('profile edge', { resolve }) as { filter: { children: { type: string }[] } };
    assert.equal(nested.filter.children[1].type, 'ref');
  });

  test('cycles, unknown names, broken targets and a missing resolver are positioned errors', () => {
    const cyc = syntaxError('port 9 and channel a', { resolve });
    assert.equal(cyc.position, 19);
    assert.match(cyc.message, /^at 19: in channel 'a': at 18: in channel 'b': at 8: channel 'a' refers to itself \(channel a -> channel b -> channel a\)$/);
    assert.equal(syntaxError('channel self', { resolve }).position, 8);
    const unknown = syntaxError('not channel nope', { resolve });
    assert.equal(unknown.message, "at 12: unknown channel 'nope'");
    const broken = syntaxError('channel broken', { resolve });
    assert.equal(broken.message, "at 8: in channel 'broken': at 11: expected a filter term, found end of input");
    assert.deepEqual(broken.expected, TERM_START);
    assert.equal(syntaxError('channel web').message, "at 8: channel 'web' cannot be used here (no channels to resolve it against)");
    assert.equal(syntaxError('channel', { resolve }).message, 'at 7: expected a channel name, found end of input');
    const thrower = syntaxError('profile x', { resolve: () => { throw new Error('redis down'); } });
    assert.equal(thrower.message, "at 8: profile 'x' could not be resolved: redis down");
  });
});

describe('parseFilter: errors', () => {
  const cases: [string, number, string[], string, string][] = [
    ['src ip 10.1.2.3 and port abc', 25, [...OPS, 'in', '<port number>'], 'abc', "expected a port number, found 'abc'"],
    ['port 70000', 5, [...OPS, 'in', '<port number>'], '70000', "expected a port number (0-65535), found '70000'"],
    ['port > abc', 7, ['<port number>'], 'abc', "expected a port number, found 'abc'"],
    ['src ip', 6, ['in', '<IP address>'], 'end of input', 'expected an IP address, found end of input'],
    ['src ip 10.1.2.3/8', 7, ['in', '<IP address>'], '10.1.2.3/8', "expected an IP address (a network needs 'net'), found '10.1.2.3/8'"],
    ['src ip 1.2.3.256', 7, ['in', '<IP address>'], '1.2.3.256', "expected an IP address, found '1.2.3.256'"],
    ['src foo 1', 4, ['ip', 'host', 'net', 'port', 'as', 'mask', 'mac'], 'foo', "expected 'ip', 'host', 'net', 'port', 'as', 'mask' or 'mac', found 'foo'"],
    ['foo', 0, TERM_START, 'foo', "expected a filter term, found 'foo'"],
    ['port 80 port 443', 8, ['and', 'or', '&&', '||', 'end of input'], 'port', "expected 'and', 'or' or end of input, found 'port'"],
    ['(port 80', 8, [')', 'and', 'or', '&&', '||'], 'end of input', "expected ')', 'and' or 'or', found end of input"],
    ['port 80)', 7, ['and', 'or', '&&', '||', 'end of input'], ')', "expected 'and', 'or' or end of input, found ')'"],
    ['port 80 and', 11, TERM_START, 'end of input', 'expected a filter term, found end of input'],
    ['not', 3, TERM_START, 'end of input', 'expected a filter term, found end of input'],
    ['()', 1, TERM_START, ')', "expected a filter term, found ')'"],
    ['net 10.0.0.0/33', 4, ['<network>'], '10.0.0.0/33', "expected a prefix length of 0-32, found '10.0.0.0/33'"],
    ['net 2001:db8::/200', 4, ['<network>'], '2001:db8::/200', "expected a prefix length of 0-128, found '2001:db8::/200'"],
    ['net 10.0.0.0', 12, ['<netmask>'], 'end of input', 'expected a netmask such as 255.255.255.0 (or write a.b.c.d/len), found end of input'],
    ['net 10.0.0.0 255.0.255.0', 13, ['<netmask>'], '255.0.255.0', "expected a contiguous netmask such as 255.255.0.0, found '255.0.255.0'"],
    ['net 2001:db8::', 4, ['<network>'], '2001:db8::', "expected an IPv6 network with a prefix length (2001:db8::/32), found '2001:db8::'"],
    ['net foo', 4, ['<network>'], 'foo', "expected a network such as 10.0.0.0/8, 10.0.0.0 255.0.0.0 or 2001:db8::/32, found 'foo'"],
    ['port in 80', 8, ['['], '80', "expected '[', found '80'"],
    ['port in [ ]', 10, ['<port number>'], ']', "expected a port number, found ']'"],
    ['port in [ 80 x ]', 13, ['<port number>', ']'], 'x', "expected a port number, found 'x'"],
    ['port in [ 80', 12, ['<port number>', ']'], 'end of input', 'expected a port number, found end of input'],
    ['proto foo', 6, [...OPS, 'in', '<protocol>'], 'foo', "expected a protocol name or number, found 'foo'"],
    ['flags SYN', 6, ['<tcp flags>'], 'SYN', "expected TCP flags (letters of UAPRSFEC, or X for all), found 'SYN'"],
    ['bytes > 1q', 8, ['<byte count>'], '1q', "expected a byte count, found '1q'"],
    ['bytes > 9007199254740992', 8, ['<byte count>'], '9007199254740992', `expected a byte count (0-${Number.MAX_SAFE_INTEGER}, k/m/g/t = 10^3/10^6/10^9/10^12), found '9007199254740992'`],
    ['packets 10000000t', 8, [...OPS, 'in', '<packet count>'], '10000000t', `expected a packet count (0-${Number.MAX_SAFE_INTEGER}, k/m/g/t = 10^3/10^6/10^9/10^12), found '10000000t'`],
    ['in port 80', 3, ['if'], 'port', "expected 'if', found 'port'"],
    ['next 10.0.0.1', 5, ['ip', 'host', 'net'], '10.0.0.1', "expected 'ip', 'host' or 'net', found '10.0.0.1'"],
    ['router 1.2.3.4', 7, ['ip'], '1.2.3.4', "expected 'ip', found '1.2.3.4'"],
    ['exporter foo', 9, ['ip', 'host', 'net', '<IP address>', '<network>'], 'foo', "expected an IP address or network, found 'foo'"],
    ["port 80'; DROP TABLE flows", 7, ['and', 'or', '&&', '||', 'end of input'], "'", "expected 'and', 'or' or end of input, found '''"],
    ['port 80 & port 81', 8, ['and', 'or', '&&', '||', 'end of input'], '&', "expected 'and', 'or' or end of input, found '&'"],
    ['src mac 02:42:ac:11:00', 8, [...OPS, 'in', '<MAC address>'], '02:42:ac:11:00', "expected a MAC address, found '02:42:ac:11:00'"],
    ['tos 256', 4, [...OPS, 'in', '<tos>'], '256', "expected a ToS value (0-255), found '256'"],
    ['vlan -1', 5, [...OPS, 'in', '<vlan id>'], '-1', "expected a VLAN id, found '-1'"],
    ['ip 😀', 3, ['in', '<IP address>'], '😀', "expected an IP address, found '😀'"],
    ['port\u000080', 4, [...OPS, 'in', '<port number>'], '\u0000', "expected a port number, found '\\u0000'"],
  ];
  for (const [text, position, expected, found, reason] of cases) {
    test(JSON.stringify(text), () => {
      const e = syntaxError(text);
      assert.equal(e.position, position);
      assert.deepEqual(e.expected, expected);
      assert.equal(e.found, found);
      assert.equal(e.reason, reason);
      assert.equal(e.message, `at ${position}: ${reason}`);
      assert.deepEqual(e.toJSON(), { position, expected, found, message: `at ${position}: ${reason}` });
    });
  }

  test('non-string input is a syntax error, not a TypeError', () => {
    const e = syntaxError(42 as unknown as string);
    assert.equal(e.message, 'at 0: expected filter text, found number');
  });

  test('depth limit: 64 levels parse, 65 do not', () => {
    assert.equal(parseFilter(`${'('.repeat(64)}any${')'.repeat(64)}`).type, 'any');
    const e = syntaxError(`${'('.repeat(65)}any${')'.repeat(65)}`);
    assert.equal(e.position, 64);
    assert.equal(e.message, 'at 64: filter is nested more than 64 levels deep');
    assert.equal(syntaxError(`${'not '.repeat(65)}any`).position, 256);
    assert.equal(syntaxError('!'.repeat(10_000)).position, 64);
    assert.equal(syntaxError('(port 1)', { maxDepth: 0 }).position, 0);
  });

  test('length and size limits', () => {
    const long = `port 1${' '.repeat(16_380)}`;
    assert.equal(long.length, 16_386);
    const e = syntaxError(long);
    assert.equal(e.position, 16_384);
    assert.equal(e.message, 'at 16384: filter is longer than 16384 characters');
    assert.equal(parseFilter('port 1', { maxLength: 6 }).type, 'number');
    const many = Array.from({ length: 251 }, (_, i) => `port ${i}`).join(' or ');
    const c = syntaxError(many);
    assert.equal(c.message, `at ${many.lastIndexOf('port')}: filter has more than 500 comparisons`);
    assert.equal(parseFilter(Array.from({ length: 250 }, (_, i) => `port ${i}`).join(' or ')).type, 'or');
    const list = (n: number): string => `proto tcp and port in [ ${Array.from({ length: n }, (_, i) => i).join(' ')} ]`;
    assert.equal(parseFilter(list(2000)).type, 'and');
    assert.equal(syntaxError(list(2001)).message, 'at 22: filter has more than 4000 list values');
    assert.equal(syntaxError('port in [ 1 2 3 ]', { maxListValues: 5 }).position, 8);
    assert.equal(syntaxError('src net 10.0.0.0/8', { maxComparisons: 1 }).reason, 'filter has more than 1 comparisons');
  });
});
