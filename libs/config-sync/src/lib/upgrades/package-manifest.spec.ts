import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateSigningKeyPair } from '../signing';
import {
  compareVersions, manifestSignatureProblem, packageDownloadPath, sha256Hex, signPackageManifest, upgradeDecision, verifyPackage,
} from './package-manifest';

describe('package manifest', () => {
  const keys = generateSigningKeyPair();
  const data = Buffer.from('pretend this is a tar.gz');
  const manifest = signPackageManifest({ version: '1.2.3', sha256: sha256Hex(data), size: data.length }, keys);

  test('a signed manifest and its bytes verify with the public key', () => {
    assert.equal(manifest.keyId, keys.keyId);
    assert.equal(verifyPackage(manifest, data, keys.publicKey), null);
  });

  test('tampered manifest, bytes or a foreign key are refused with the reason', () => {
    assert.match(manifestSignatureProblem({ ...manifest, version: '1.2.4' }, keys.publicKey) ?? '', /bad signature/);
    assert.match(manifestSignatureProblem({ ...manifest, size: data.length + 1 }, keys.publicKey) ?? '', /bad signature/);
    assert.match(manifestSignatureProblem(manifest, generateSigningKeyPair().publicKey) ?? '', /bad signature/);
    assert.match(manifestSignatureProblem({ ...manifest, type: 'other' }, keys.publicKey) ?? '', /^manifest\.type/);
    assert.match(manifestSignatureProblem(null, keys.publicKey) ?? '', /must be an object/);
    const tampered = Buffer.from(data);
    tampered[0] ^= 1;
    assert.match(verifyPackage(manifest, tampered, keys.publicKey) ?? '', /sha256/);
    assert.match(verifyPackage(manifest, Buffer.concat([data, Buffer.from('x')]), keys.publicKey) ?? '', /size/);
    assert.throws(() => signPackageManifest({ version: 'v1', sha256: 'a'.repeat(64), size: 1 }, keys), /semantic version/);
  });

  test('semver precedence', () => {
    const ordered = ['0.9.9', '1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0', '1.0.1', '1.10.0', '2.0.0'];
    for (let i = 0; i + 1 < ordered.length; i++) {
      assert.equal(compareVersions(ordered[i], ordered[i + 1]), -1, `${ordered[i]} < ${ordered[i + 1]}`);
      assert.equal(compareVersions(ordered[i + 1], ordered[i]), 1);
    }
    assert.equal(compareVersions('1.0.0+a', '1.0.0+b'), 0);
    assert.throws(() => compareVersions('1.0', '1.0.0'), /not a semantic version/);
  });

  test('no downgrade unless forced', () => {
    assert.deepEqual(upgradeDecision('1.0.0', '1.1.0'), { kind: 'upgrade', allowed: true, reason: '1.0.0 -> 1.1.0' });
    assert.equal(upgradeDecision('1.1.0', '1.0.0').allowed, false);
    assert.match(upgradeDecision('1.1.0', '1.0.0').reason, /downgrade refused/);
    assert.equal(upgradeDecision('1.1.0', '1.0.0', true).allowed, true);
    assert.equal(upgradeDecision('1.1.0', '1.1.0').kind, 'same');
    assert.equal(upgradeDecision('1.1.0', '1.1.0').allowed, false);
    assert.equal(upgradeDecision('dev', '1.1.0').allowed, false);
    assert.equal(upgradeDecision('dev', '1.1.0', true).allowed, true);
    assert.equal(packageDownloadPath('1.2.3+b.1'), '/api/v1/upgrades/packages/1.2.3%2Bb.1/download');
  });
});
