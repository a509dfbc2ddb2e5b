/**
 * Hostile and random input: every string either raises FilterSyntaxError (with a position inside the
 * text) or parses to an AST whose SQL has no literal but 32-hex-digit addresses and integers, stays
 * under ClickHouse's 256 KiB max_query_size, runs in chDB, and counts what the predicate counts.
 * Never another exception, never SQL that fails. The hostile list and a sample of the rest run on a
 * ClickHouse 18.16 server too (when installed).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Session } from 'chdb';
import { FilterNode } from './filter-ast';
import { parseFilter } from './filter-parser';
import { compileFilterToPredicate } from './filter-predicate';
import { compileFilterToSql } from './filter-sql';
import { FilterSyntaxError } from './filter-syntax-error';
import { FLOWS_DDL, insertStatements, mutateFilter, randomFilter, randomFlows, randomSoup, Rng, testResolver } from '../test-support/flow-fixtures';
import { ClickHouseServer, findClickHouseServer, startClickHouseServer } from '@flowmesh/testing';

const rows = randomFlows(500, 99);
const MAX_QUERY_SIZE = 262_144;

const v4 = (i: number): string => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
const nest = (n: number, inner: string): string => `${'('.repeat(n)}${inner}${')'.repeat(n)}`;
const orChain = (n: number): string => {
  let s = 'port 0';
  for (let i = 1; i < n; i++) s = `(port ${i} or ${s})`;
  return s;
};
const refs = (n: number): string => Array.from({ length: n }, () => 'channel web-internal').join(' or ');
const nets = (n: number): string => Array.from({ length: n }, (_, i) => `net ${v4(i * 256)}/24`).join(' or ');
const v6nets = (n: number): string => Array.from({ length: n }, (_, i) => `src and dst net 2001:db8:${i.toString(16)}::/48`).join(' or ');
const portList = (n: number): string => `port in [ ${Array.from({ length: n }, (_, i) => i).join(' ')} ]`;

/** Inputs exactly at a limit (must parse, and their SQL must run) and just past it (must not parse). */
const AT_LIMIT = [
  nest(64, 'any'), `${'not '.repeat(64)}port 80`, `${'!'.repeat(64)}any`, orChain(64), `${'any or '.repeat(499)}any`, nets(125), v6nets(125), refs(62),
  portList(2000), `ip in [ ${Array.from({ length: 1000 }, (_, i) => v4(i)).join(' ')} ]`, `port 1 ${'or port 1 '.repeat(249)}`,
  `any ${' '.repeat(16_380)}`,
];
const PAST_LIMIT = [
  nest(65, 'any'), `${'not '.repeat(65)}port 80`, `${'!'.repeat(65)}any`, orChain(66), `${'any or '.repeat(500)}any`, nets(126), v6nets(126), refs(63),
  portList(2001), `ip in [ ${Array.from({ length: 2001 }, (_, i) => v4(i)).join(' ')} ]`, `port 1 ${'or port 1 '.repeat(250)}`,
  `any ${' '.repeat(16_381)}`,
];

function hostileInputs(): string[] {
  return [
    "'; DROP TABLE flowmesh.flows; --",
    "port 80'; DROP TABLE flowmesh.flows; --",
    "src ip 1.2.3.4' OR 1=1 --",
    "channel x' OR '1'='1",
    'channel ../../etc/passwd',
    "profile web'",
    'port 80 -- comment',
    'port 80 /* c */',
    'port 80; SELECT 1',
    'port {p:UInt16}',
    'port 0x50',
    'port 1e3',
    'port -1',
    'port 99999999999999999999999999',
    'bytes > 18446744073709551616',
    'bytes > 9007199254740992',
    'bytes > 9007199254740991',
    'bytes 9007199254740991k',
    'packets < 10000000000000t',
    'ip 1.2.3.4%eth0',
    'ip ::ffff:1.2.3.4',
    'ip \u0000',
    'port\u00a080',
    'port ８０',
    'İP 1.2.3.4',
    'src ip 10.0.0.1 and \u202e port 80',
    '\\',
    "\\'",
    '"port 80"',
    '`port` 80',
    'net 0.0.0.0/0 and net ::/0',
    'net 255.255.255.255/32 or net ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128',
    'src and dst net ::/0',
    'as 4294967295 and as 4294967296',
    'mac ff:ff:ff:ff:ff:ff',
    nest(4_998, 'any'),
    '!'.repeat(10_000),
    '('.repeat(10_000),
    ')'.repeat(10_000),
    'a'.repeat(10_000),
    `port ${'9'.repeat(9_995)}`,
    `ip ${'1.'.repeat(4_998)}1`,
    "'".repeat(10_000),
    '😀'.repeat(5_000),
    refs(600),
    'x'.repeat(20_000),
    ...AT_LIMIT,
    ...PAST_LIMIT,
  ];
}

interface Outcome {
  text: string;
  ast?: FilterNode;
  sql?: string;
  expected?: number;
}

/** Parses, compiles and checks one input; throws (failing the test) on anything but the two allowed outcomes. */
function examine(text: string): Outcome {
  let ast: FilterNode;
  try {
    ast = parseFilter(text, { resolve: testResolver });
  } catch (e) {
    if (!(e instanceof FilterSyntaxError)) throw new Error(`non-syntax error for ${JSON.stringify(text.slice(0, 200))}: ${String(e)}`);
    assert.ok(Number.isInteger(e.position) && e.position >= 0 && e.position <= text.length, `position ${e.position} outside the text`);
    assert.ok(e.message.startsWith(`at ${e.position}: `));
    assert.ok(Array.isArray(e.expected) && typeof e.found === 'string');
    return { text };
  }
  const sql = compileFilterToSql(ast);
  assert.ok(sql.length < MAX_QUERY_SIZE - 1000, `SQL of ${sql.length} chars for ${JSON.stringify(text.slice(0, 100))}`);
  const literals = sql.match(/'[^']*'/g) ?? [];
  for (const lit of literals) assert.match(lit, /^'[0-9a-f]{32}'$/, `unexpected literal ${lit}`);
  assert.match(sql.replace(/'[0-9a-f]{32}'/g, ''), /^[A-Za-z0-9_ (),=<>]*$/, 'SQL has characters the compiler never writes');
  const expected = rows.filter(compileFilterToPredicate(ast)).length;
  return { text, ast, sql, expected };
}

function generatedInputs(): string[] {
  const rng = new Rng(1234);
  const out: string[] = [];
  for (let i = 0; i < 1500; i++) out.push(randomSoup(rng));
  for (let i = 0; i < 2500; i++) out.push(mutateFilter(rng, randomFilter(rng)));
  return out;
}

describe('hostile and random filters', () => {
  let session: Session;
  const hostile = hostileInputs().map(examine);
  const generated = generatedInputs().map(examine);

  before(() => {
    session = new Session();
    session.query('CREATE DATABASE IF NOT EXISTS flowmesh');
    session.query(FLOWS_DDL);
    for (const sql of insertStatements(rows)) session.query(sql);
  });
  after(() => session?.close());

  const runAll = (outcomes: Outcome[]): string[] => {
    const failures: string[] = [];
    for (const o of outcomes) {
      if (!o.sql) continue;
      try {
        const got = Number(session.query(`SELECT count() FROM flowmesh.flows WHERE ${o.sql}`, 'CSV').trim());
        if (got !== o.expected) failures.push(`${JSON.stringify(o.text.slice(0, 120))}: chDB ${got} != predicate ${o.expected}`);
      } catch (e) {
        failures.push(`${JSON.stringify(o.text.slice(0, 120))}: chDB refused the SQL: ${String(e).slice(0, 300)}`);
      }
    }
    return failures;
  };

  test('hostile inputs: syntax error or SQL that runs and agrees', () => {
    const parsed = hostile.filter((o) => o.sql);
    console.log(`hostile: ${hostile.length} inputs, ${parsed.length} parsed, ${hostile.length - parsed.length} syntax errors`);
    // The limits are exact: inputs right at them parse, inputs just past them do not.
    const byText = new Map(hostile.map((o) => [o.text, o]));
    AT_LIMIT.forEach((t, i) => assert.ok(byText.get(t)?.sql, `AT_LIMIT[${i}] did not parse`));
    PAST_LIMIT.forEach((t, i) => assert.ok(!byText.get(t)?.sql, `PAST_LIMIT[${i}] parsed`));
    assert.ok(!hostile.some((o) => o.sql && /DROP/.test(o.text)));
    assert.deepEqual(runAll(hostile), []);
  });

  test('4000 random and mutated filters: syntax error or SQL that runs and agrees', () => {
    const parsed = generated.filter((o) => o.sql);
    console.log(`generated: ${generated.length} inputs, ${parsed.length} parsed, ${generated.length - parsed.length} syntax errors`);
    assert.ok(parsed.length > 500 && generated.length - parsed.length > 1500, 'the fuzz mix no longer exercises both outcomes');
    assert.deepEqual(runAll(generated), []);
  });

  test('the largest SQL the limits allow (every limit reached at once) stays under max_query_size and runs', () => {
    const big: Record<string, string> = {
      'channel:hosts': `src ip in [ ${Array.from({ length: 1333 }, (_, i) => v4(i)).join(' ')} ]`,
      'channel:nets': Array.from({ length: 62 }, (_, i) => `net 2001:db8:${i.toString(16)}::/48`).join(' or '),
    };
    const text = `${nest(60, 'channel hosts or channel hosts or channel hosts')} or channel nets or channel nets`;
    const ast = parseFilter(text, { resolve: (k, n) => big[`${k}:${n}`] });
    assert.throws(() => parseFilter(`${text} or port 1`, { resolve: (k, n) => big[`${k}:${n}`] }), /more than 500 comparisons/);
    const sql = compileFilterToSql(ast);
    console.log(`largest SQL: ${sql.length} characters`);
    assert.ok(sql.length > 200_000 && sql.length < MAX_QUERY_SIZE - 1000, `${sql.length}`);
    const expected = rows.filter(compileFilterToPredicate(ast)).length;
    assert.deepEqual(runAll([{ text, ast, sql, expected }]), []);
  });

  describe('on ClickHouse 18.16', () => {
    const { path: binary, searched } = findClickHouseServer();
    const skip = binary ? false : `clickhouse-server not installed (looked in ${searched.join(', ')})`;
    if (skip) console.log(`SKIPPED ClickHouse 18.16 fuzz: ${skip}`);
    let ch: ClickHouseServer | undefined;
    before(async () => {
      if (!binary) return;
      ch = await startClickHouseServer({ binary });
      await ch.query('CREATE DATABASE IF NOT EXISTS flowmesh');
      await ch.query(FLOWS_DDL);
      for (const sql of insertStatements(rows)) await ch.query(sql);
    });
    after(async () => ch?.stop());

    test('hostile inputs and 300 of the parsed random ones run and agree', { skip }, async () => {
      const sample = [...hostile, ...generated.filter((o) => o.sql).slice(0, 300)];
      const failures: string[] = [];
      for (const o of sample) {
        if (!o.sql) continue;
        try {
          const got = Number((await ch!.query(`SELECT count() FROM flowmesh.flows WHERE ${o.sql}`, 'reader')).trim());
          if (got !== o.expected) failures.push(`${JSON.stringify(o.text.slice(0, 120))}: 18.16 ${got} != predicate ${o.expected}`);
        } catch (e) {
          failures.push(`${JSON.stringify(o.text.slice(0, 120))}: 18.16 refused the SQL: ${String(e).slice(0, 300)}`);
        }
      }
      assert.deepEqual(failures, []);
    });
  });
});
