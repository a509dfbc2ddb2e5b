import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IncarnationSource } from './batch-ids';

describe('IncarnationSource', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flowmesh-ids-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('unix seconds, strictly increasing, persisted across restarts and clock steps back', () => {
    const t = 1_800_000_000_000;
    const a = new IncarnationSource(dir);
    assert.equal(a.next(t), 1_800_000_000);
    assert.equal(a.next(t), 1_800_000_001, 'two spawns in one second differ');
    const b = new IncarnationSource(dir);
    assert.equal(b.next(t - 3_600_000), 1_800_000_002, 'a clock stepped back never reuses an incarnation');
    assert.equal(b.next(t + 60_000), 1_800_000_060);
  });
});
