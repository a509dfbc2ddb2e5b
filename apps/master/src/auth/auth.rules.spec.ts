import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { authorOf, bearerToken, forbiddenReason, isOpenPath, principalForToken, sha256Hex } from './auth.rules';

describe('auth rules', () => {
  const tables = {
    tokens: [
      { name: 'alice', role: 'admin' as const, sha256: sha256Hex('a-token') },
      { name: 'victor', role: 'viewer' as const, sha256: sha256Hex('v-token') },
    ],
    nodeTokens: [{ node: 'n1', sha256: sha256Hex('n-token') }],
  };

  test('bearer header parsing', () => {
    assert.equal(bearerToken('Bearer abc'), 'abc');
    assert.equal(bearerToken('bearer  abc '), 'abc');
    assert.equal(bearerToken('Basic abc'), null);
    assert.equal(bearerToken(undefined), null);
    assert.equal(bearerToken('Bearer a b'), null);
  });

  test('tokens are looked up by hash; unknown tokens are null', () => {
    assert.deepEqual(principalForToken('a-token', tables), { kind: 'user', name: 'alice', role: 'admin' });
    assert.deepEqual(principalForToken('v-token', tables), { kind: 'user', name: 'victor', role: 'viewer' });
    assert.deepEqual(principalForToken('n-token', tables), { kind: 'node', node: 'n1' });
    assert.equal(principalForToken('nope', tables), null);
    assert.equal(principalForToken(sha256Hex('a-token'), tables), null, 'the hash itself is not a token');
  });

  test('roles: admin everything, viewer GET + query POST, node only node routes', () => {
    const admin = { kind: 'user' as const, name: 'a', role: 'admin' as const };
    const viewer = { kind: 'user' as const, name: 'v', role: 'viewer' as const };
    const node = { kind: 'node' as const, node: 'n1' };
    assert.equal(forbiddenReason(admin, 'DELETE', '/api/v1/config/global/exporters/x', false), null);
    assert.equal(forbiddenReason(viewer, 'GET', '/api/v1/config/global', false), null);
    assert.equal(forbiddenReason(viewer, 'POST', '/api/v1/query', false), null);
    assert.equal(forbiddenReason(viewer, 'POST', '/api/v2/query/export', false), null);
    assert.match(forbiddenReason(viewer, 'POST', '/api/v1/nodes/n1/jobs', false) ?? '', /viewer may not POST/);
    assert.match(forbiddenReason(viewer, 'PUT', '/api/v1/config/global', false) ?? '', /admin only/);
    assert.match(forbiddenReason(viewer, 'POST', '/api/v1/queryx', false) ?? '', /viewer/);
    assert.equal(forbiddenReason(node, 'GET', '/api/v1/upgrades/packages/1.0.0/download', true), null);
    assert.match(forbiddenReason(node, 'GET', '/api/v1/config/global', false) ?? '', /node token/);
    assert.equal(forbiddenReason({ kind: 'anonymous' }, 'PUT', '/api/v1/config/global', false), null);
  });

  test('open paths and authors', () => {
    for (const p of ['/healthz', '/readyz', '/metrics', '/api/docs', '/api/docs/', '/api/docs-json']) assert.ok(isOpenPath(p), p);
    for (const p of ['/api/v1/config', '/healthzz', '/api/docsx']) assert.ok(!isOpenPath(p), p);
    assert.equal(authorOf({ kind: 'user', name: 'alice', role: 'admin' }), 'alice');
    assert.equal(authorOf({ kind: 'anonymous' }), 'anonymous');
    assert.equal(authorOf(undefined), 'anonymous');
  });
});
