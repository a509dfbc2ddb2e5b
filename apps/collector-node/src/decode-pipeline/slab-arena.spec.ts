import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { SlabArena } from './slab-arena';

describe('SlabArena', () => {
  test('fills a slab front to back, announces each slab once, reuses a slab once all its batches are released', () => {
    const announced: number[] = [];
    const a = new SlabArena(100, (slab, sab) => {
      assert.equal(sab.byteLength, 100);
      announced.push(slab);
    });
    const x = a.alloc(30);
    const y = a.alloc(30);
    assert.deepEqual([x.slab, x.offset, y.slab, y.offset], [0, 0, 0, 32], 'bump allocation, 8-byte aligned');
    x.bytes.fill(1);
    y.bytes.fill(2);
    const z = a.alloc(50); // does not fit what is left of slab 0
    assert.deepEqual([z.slab, z.offset], [1, 0]);
    assert.deepEqual(announced, [0, 1]);
    assert.equal(y.bytes[0], 2, 'a live allocation is never handed out again');
    a.release(x.slab);
    const w = a.alloc(60); // slab 0 still holds y
    assert.equal(w.slab, 2);
    a.release(y.slab);
    const v = a.alloc(60); // slab 1 holds z; slab 0 is free again
    assert.deepEqual([v.slab, v.offset], [0, 0]);
    assert.deepEqual(announced, [0, 1, 2], 'no new slab while a free one fits');
    assert.deepEqual(a.size, { slabs: 3, bytes: 300, live: 3 });
  });

  test('the current slab restarts at its front when everything in it was released', () => {
    const a = new SlabArena(100, () => undefined);
    for (let k = 0; k < 50; k++) {
      const x = a.alloc(90);
      assert.deepEqual([x.slab, x.offset], [0, 0]);
      a.release(x.slab);
    }
    assert.equal(a.size.slabs, 1, 'steady state: memory does not grow');
  });

  test('an allocation larger than a slab gets its own slab; a double release is a programming error', () => {
    const a = new SlabArena(100, () => undefined);
    const big = a.alloc(250);
    assert.equal(big.bytes.length, 250);
    assert.equal(a.size.bytes, 250);
    a.release(big.slab);
    assert.throws(() => a.release(big.slab), /released more often than allocated/);
  });
});
