import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { HttpException } from '@nestjs/common';
import { MasterConfig } from '../config/master.config';
import { QueryGate } from './query-gate';

describe('QueryGate', () => {
  test('query.maxConcurrency slots; beyond them 429; a slot is released once however often release is called', () => {
    const config = new MasterConfig();
    config.query.maxConcurrency = 2;
    const gate = new QueryGate(config);
    const a = gate.enter();
    const b = gate.enter();
    assert.throws(() => gate.enter(), (e: unknown) => e instanceof HttpException && e.getStatus() === 429 && /query\.maxConcurrency=2/.test(JSON.stringify(e.getResponse())));
    a();
    a();
    assert.equal(gate.inFlight, 1, 'a double release frees one slot only');
    const c = gate.enter();
    assert.throws(() => gate.enter(), HttpException);
    b();
    c();
    assert.equal(gate.inFlight, 0);
  });
});
