import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTimeSpec, timeSpecProblem } from './time-spec';

const NOW = Date.parse('2024-05-01T12:00:00Z');

describe('parseTimeSpec', () => {
  test('relative times count back from now', () => {
    assert.equal(parseTimeSpec('-1h', NOW), NOW - 3_600_000);
    assert.equal(parseTimeSpec('-15m', NOW), NOW - 15 * 60_000);
    assert.equal(parseTimeSpec('-2d', NOW), NOW - 2 * 86_400_000);
    assert.equal(parseTimeSpec('-30s', NOW), NOW - 30_000);
    assert.equal(parseTimeSpec('-1w', NOW), NOW - 7 * 86_400_000);
    assert.equal(parseTimeSpec('-1h30m', NOW), NOW - 90 * 60_000);
  });

  test("'now' is now", () => {
    assert.equal(parseTimeSpec('now', NOW), NOW);
  });

  test('ISO-8601 with a zone is absolute', () => {
    assert.equal(parseTimeSpec('2024-05-01T10:00:00Z', NOW), Date.parse('2024-05-01T10:00:00Z'));
    assert.equal(parseTimeSpec('2024-05-01T10:00:00.250+02:00', NOW), Date.parse('2024-05-01T08:00:00.250Z'));
    assert.equal(parseTimeSpec('2024-05-01', NOW), Date.parse('2024-05-01T00:00:00Z'));
  });

  test('a date-time without a zone is refused, not read in local time', () => {
    assert.match(timeSpecProblem('2024-05-01T10:00:00') ?? '', /time zone/);
    assert.throws(() => parseTimeSpec('2024-05-01T10:00', NOW), /time zone/);
  });

  test('anything else is refused with a hint', () => {
    for (const bad of ['', '1h', '+1h', '-1y', '-h', 'yesterday', '-1.5h', '2024-13-01T00:00:00Z', 'now-1h', ' -1h', 42, null]) {
      assert.match(timeSpecProblem(bad) ?? 'accepted', /must be an ISO-8601 time/, `accepted ${JSON.stringify(bad)}`);
    }
  });
});
