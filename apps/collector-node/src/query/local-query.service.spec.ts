import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { AGGREGATE_DIMENSIONS, AggregateDimension } from './local-query.dto';
import { keyExpr, timeRange } from './local-query.service';

describe('local query SQL pieces', () => {
  test('[from, to) in ms maps to whole DateTime seconds', () => {
    assert.equal(timeRange(1500, 3000), 'time_received >= toDateTime(2) AND time_received < toDateTime(3)');
    assert.equal(timeRange(2000, 2001), 'time_received >= toDateTime(2) AND time_received < toDateTime(3)');
    assert.equal(timeRange(0, 8.64e15), 'time_received >= toDateTime(0)');
  });

  test('every allowed dimension has a key expression; anything else is refused', () => {
    for (const d of AGGREGATE_DIMENSIONS) assert.match(keyExpr(d), new RegExp(`^(hex|toString)\\(${d}\\)$`));
    assert.throws(() => keyExpr('bytes) FROM system.users --' as AggregateDimension), /not a dimension/);
  });
});
