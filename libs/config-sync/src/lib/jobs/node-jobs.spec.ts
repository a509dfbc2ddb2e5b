import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateSigningKeyPair } from '../signing';
import { signPackageManifest } from '../upgrades/package-manifest';
import { nodeJobId, nodeJobOptions, nodeJobProblems, nodeQueueName } from './node-jobs';

describe('node jobs contract', () => {
  test('queue names are per node, without ":" and refuse bad ids', () => {
    assert.equal(nodeQueueName('edge-1'), 'flowmesh-node-edge-1');
    assert.throws(() => nodeQueueName('Bad:Id'), /node id/);
  });

  test('job ids are stable over key order and change with node, payload and idempotency key', () => {
    const a = nodeJobId('n1', 'flush', { reason: 'x', extra: 1 });
    assert.match(a, /^flush\.[0-9a-f]{32}$/);
    assert.equal(nodeJobId('n1', 'flush', { extra: 1, reason: 'x' }), a);
    assert.notEqual(nodeJobId('n2', 'flush', { reason: 'x', extra: 1 }), a);
    assert.notEqual(nodeJobId('n1', 'flush', { reason: 'y', extra: 1 }), a);
    assert.notEqual(nodeJobId('n1', 'flush', { reason: 'x', extra: 1 }, 'k1'), a);
    assert.equal(nodeJobId('n1', 'flush', { reason: 'x', extra: 1 }, 'k1'), nodeJobId('n1', 'flush', { extra: 1, reason: 'x' }, 'k1'));
  });

  test('payloads are validated per type with paths', () => {
    assert.deepEqual(nodeJobProblems('reload', {}), []);
    assert.deepEqual(nodeJobProblems('flush', { reason: 'end of day' }), []);
    assert.match(nodeJobProblems('explode', {})[0], /^type: must be one of reload, flush, run-report-part, upgrade/);
    assert.match(nodeJobProblems('flush', { bogus: 1 })[0], /^payload\.bogus: unknown key/);
    assert.match(nodeJobProblems('flush', [])[0], /^payload: must be an object/);
    const rr = nodeJobProblems('run-report-part', { report: 'daily', runId: 'r1', from: 10, to: 5, query: {} });
    assert.match(rr[0], /^payload\.from: must be before to/);
    assert.ok(nodeJobProblems('run-report-part', { report: 'daily', runId: 'r:1', from: 1, to: 5, query: {} }).some((p) => p.startsWith('payload.runId: ')));
    const keys = generateSigningKeyPair();
    const manifest = signPackageManifest({ version: '1.2.3', sha256: 'a'.repeat(64), size: 10 }, keys);
    assert.deepEqual(nodeJobProblems('upgrade', { version: '1.2.3', manifest, downloadPath: '/api/v1/upgrades/packages/1.2.3/download' }), []);
    const bad = nodeJobProblems('upgrade', { version: '1.2.3', manifest: { ...manifest, sha256: 'x' }, downloadPath: '/etc/passwd' });
    assert.ok(bad.some((p) => p.startsWith('payload.manifest.sha256: ')), bad.join('\n'));
    assert.ok(bad.some((p) => p.startsWith('payload.downloadPath: ')), bad.join('\n'));
  });

  test('retries: exponential backoff; upgrades run once', () => {
    assert.deepEqual(nodeJobOptions('flush'), { attempts: 5, backoff: { type: 'exponential', delay: 1000 } });
    assert.equal(nodeJobOptions('upgrade', 5).attempts, 1);
  });
});
