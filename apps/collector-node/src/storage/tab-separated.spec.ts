import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseTabSeparated } from './tab-separated';

describe('parseTabSeparated', () => {
  test('rows, then totals after the empty line', () => {
    assert.deepEqual(parseTabSeparated('7\t7\n5\t5\n\n0\t12\n'), { rows: [['7', '7'], ['5', '5']], totals: ['0', '12'] });
  });
  test('an empty result WITH TOTALS is the totals alone', () => {
    assert.deepEqual(parseTabSeparated('\n0\t0\n'), { rows: [], totals: ['0', '0'] });
  });
  test('no totals, escapes undone', () => {
    assert.deepEqual(parseTabSeparated('a\\tb\tc\\\\d\\ne\n1\t2\n'), { rows: [['a\tb', 'c\\d\ne'], ['1', '2']] });
    assert.deepEqual(parseTabSeparated(''), { rows: [] });
  });
});
