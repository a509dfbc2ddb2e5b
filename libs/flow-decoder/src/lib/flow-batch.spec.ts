import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FlowBatch } from './flow-batch';
import { flowRecordAt } from './flow-record';

describe('FlowBatch', () => {
  test('copyRow copies every column (a column missing from it would show here)', () => {
    const b = new FlowBatch(4);
    b.next();
    const r = b.next();
    // Every typed-array column gets a distinct non-zero value in row r; addresses get distinct bytes.
    let v = 1;
    for (const [name, col] of Object.entries(b)) {
      if (!ArrayBuffer.isView(col)) continue;
      const arr = col as unknown as { length: number; [i: number]: number };
      const width = arr.length / b.capacity;
      for (let k = 0; k < width; k++) arr[r * width + k] = (v++ % 250) + 1;
      assert.ok(width === 1 || width === 16, name);
    }
    b.extra[r] = [{ pen: 32473, id: 1, value: 7 }];
    const to = b.next();
    b.copyRow(r, to);
    assert.deepEqual(flowRecordAt(b, to), flowRecordAt(b, r));
    for (const [name, col] of Object.entries(b)) {
      if (!ArrayBuffer.isView(col)) continue;
      const arr = col as unknown as { length: number; [i: number]: number };
      const width = arr.length / b.capacity;
      for (let k = 0; k < width; k++) assert.equal(arr[to * width + k], arr[r * width + k], `${name}[${k}]`);
    }
  });
});
