/**
 * Equivalence: for ~300 random filters from the grammar, `SELECT count() ... WHERE <compiled SQL>` in
 * REAL engines equals the TypeScript predicate's count over the same 3000 deterministic random flows,
 * in chDB (ClickHouse 26.x) and in a throwaway ClickHouse 18.16 server (skipped, with the reason
 * printed, only when clickhouse-server is not installed). Each filter's canonical text (formatFilter)
 * must compile to SQL with the same count too.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Session } from 'chdb';
import { formatFilter } from './filter-format';
import { parseFilter } from './filter-parser';
import { compileFilterToPredicate } from './filter-predicate';
import { compileFilterToSql } from './filter-sql';
import { FLOWS_DDL, insertStatements, randomFilter, randomFlows, Rng, testResolver, TestFlow } from '../test-support/flow-fixtures';
import { ClickHouseServer, findClickHouseServer, startClickHouseServer } from '@flowmesh/testing';

const ROWS = 3000;
const FILTERS = 300;
const rows: TestFlow[] = randomFlows(ROWS, 20240501);

interface Case {
  text: string;
  canonical: string;
  sql: string;
  canonicalSql: string;
  expected: number;
}

function buildCases(): Case[] {
  const rng = new Rng(7);
  const cases: Case[] = [];
  for (let i = 0; i < FILTERS; i++) {
    const text = randomFilter(rng);
    const ast = parseFilter(text, { resolve: testResolver });
    const canonical = formatFilter(ast);
    const canonicalAst = parseFilter(canonical, { resolve: testResolver });
    assert.equal(formatFilter(canonicalAst), canonical, `formatFilter is not idempotent for ${text}`);
    const pred = compileFilterToPredicate(ast);
    const expected = rows.filter(pred).length;
    assert.equal(rows.filter(compileFilterToPredicate(canonicalAst)).length, expected, `canonical form changes the meaning of ${text}: ${canonical}`);
    cases.push({ text, canonical, sql: compileFilterToSql(ast), canonicalSql: compileFilterToSql(canonicalAst), expected });
  }
  return cases;
}

const cases = buildCases();

test('the random filters are not trivial: most select some but not all flows', () => {
  const partial = cases.filter((c) => c.expected > 0 && c.expected < ROWS).length;
  const none = cases.filter((c) => c.expected === 0).length;
  assert.ok(partial >= FILTERS * 0.5, `only ${partial} of ${FILTERS} filters select a strict subset`);
  assert.ok(none >= 5, `only ${none} filters select nothing`);
  assert.ok(new Set(cases.map((c) => c.expected)).size > 80, 'too few distinct counts');
});

describe('chDB (ClickHouse 26.x): SQL count == predicate count', () => {
  let session: Session;
  before(() => {
    session = new Session();
    session.query('CREATE DATABASE IF NOT EXISTS flowmesh');
    session.query(FLOWS_DDL);
    for (const sql of insertStatements(rows)) session.query(sql);
    assert.equal(Number(session.query('SELECT count() FROM flowmesh.flows', 'CSV').trim()), ROWS);
  });
  after(() => session?.close());

  test(`${FILTERS} random filters`, () => {
    const mismatches: string[] = [];
    for (const c of cases) {
      const got = Number(session.query(`SELECT count() FROM flowmesh.flows WHERE ${c.sql}`, 'CSV').trim());
      const gotCanonical = Number(session.query(`SELECT count() FROM flowmesh.flows WHERE ${c.canonicalSql}`, 'CSV').trim());
      if (got !== c.expected || gotCanonical !== c.expected) mismatches.push(`${c.text}\n  sql=${got} canonical=${gotCanonical} predicate=${c.expected}\n  ${c.sql}`);
    }
    assert.deepEqual(mismatches, []);
  });
});

describe('ClickHouse 18.16 server: SQL count == predicate count', () => {
  const { path: binary, searched } = findClickHouseServer();
  const skip = binary ? false : `clickhouse-server not installed (looked in ${searched.join(', ')}); apt-get install -y clickhouse-server`;
  if (skip) console.log(`SKIPPED ClickHouse 18.16 equivalence: ${skip}`);
  let ch: ClickHouseServer | undefined;

  before(async () => {
    if (!binary) return;
    ch = await startClickHouseServer({ binary });
    await ch.query('CREATE DATABASE IF NOT EXISTS flowmesh');
    await ch.query(FLOWS_DDL);
    for (const sql of insertStatements(rows)) await ch.query(sql);
  });
  after(async () => ch?.stop());

  test(`${FILTERS} random filters, run as a readonly user`, { skip }, async () => {
    assert.match(ch!.version, /^18\.16\./);
    assert.equal(Number((await ch!.query('SELECT count() FROM flowmesh.flows', 'reader')).trim()), ROWS);
    await assert.rejects(ch!.query('INSERT INTO flowmesh.flows (src_port) VALUES (1)', 'reader'), /readonly/i);
    const mismatches: string[] = [];
    for (const c of cases) {
      const got = Number((await ch!.query(`SELECT count() FROM flowmesh.flows WHERE ${c.sql}`, 'reader')).trim());
      if (got !== c.expected) mismatches.push(`${c.text}\n  sql=${got} predicate=${c.expected}\n  ${c.sql}`);
    }
    assert.deepEqual(mismatches, []);
  });
});
