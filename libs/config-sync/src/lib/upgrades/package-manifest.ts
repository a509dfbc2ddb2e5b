import 'reflect-metadata';
import { createHash, KeyObject } from 'node:crypto';
import { IsIn, IsInt, IsISO8601, IsString, Matches, Max, Min } from 'class-validator';
import { canonicalJson } from '../desired-state/canonical-json';
import { signText, verifyText } from '../signing';

/**
 * A node package is a tar.gz of a built Flowmesh (what `flowmesh node` runs). The master describes it with a
 * manifest and signs the manifest with the same Ed25519 key that signs config versions; `type` keeps the two kinds
 * of signed text apart (a manifest can never verify as a config version or the other way round).
 */
export const PACKAGE_MANIFEST_TYPE = 'flowmesh-node-package';

/** Semantic version 2.0 (`1.2.3`, `1.3.0-rc.1`, `1.2.3+build.5`). */
export const SEMVER_PATTERN = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)(?:\.(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*))*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$/;

export class PackageManifest {
  @IsIn([PACKAGE_MANIFEST_TYPE])
  type: typeof PACKAGE_MANIFEST_TYPE;
  @IsString() @Matches(SEMVER_PATTERN, { message: 'must be a semantic version such as 1.2.3' })
  version: string;
  /** SHA-256 (hex) of the tar.gz. */
  @IsString() @Matches(/^[0-9a-f]{64}$/, { message: 'must be 64 lower-case hex chars' })
  sha256: string;
  /** Size of the tar.gz in bytes. */
  @IsInt() @Min(1) @Max(Number.MAX_SAFE_INTEGER)
  size: number;
  /** keyIdOf(master public key). */
  @IsString() @Matches(/^[0-9a-f]{16}$/, { message: 'must be 16 lower-case hex chars' })
  keyId: string;
  @IsISO8601()
  createdAt: string;
}

export class SignedPackageManifest extends PackageManifest {
  /** Ed25519 over canonicalJson(every other field), base64. */
  @IsString()
  signature: string;
}

export function manifestSignedText(m: PackageManifest | SignedPackageManifest): string {
  const { signature: _s, ...rest } = m as SignedPackageManifest;
  return canonicalJson(rest);
}

export function sha256Hex(data: Buffer | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Describes and signs a package the master holds. */
export function signPackageManifest(
  fields: { version: string; sha256: string; size: number; createdAt?: string },
  keys: { privateKey: KeyObject; keyId: string },
): SignedPackageManifest {
  if (!SEMVER_PATTERN.test(fields.version)) throw new Error(`version: must be a semantic version such as 1.2.3 (got ${JSON.stringify(fields.version)})`);
  const manifest: PackageManifest = {
    type: PACKAGE_MANIFEST_TYPE,
    version: fields.version,
    sha256: fields.sha256,
    size: fields.size,
    keyId: keys.keyId,
    createdAt: fields.createdAt ?? new Date().toISOString(),
  };
  return { ...manifest, signature: signText(manifestSignedText(manifest), keys.privateKey) };
}

/** null when the manifest is signed by `publicKey` and well formed; otherwise what is wrong. Never throws. */
export function manifestSignatureProblem(m: unknown, publicKey: KeyObject): string | null {
  if (typeof m !== 'object' || m === null) return 'manifest: must be an object';
  const s = m as SignedPackageManifest;
  if (s.type !== PACKAGE_MANIFEST_TYPE) return `manifest.type: must be ${PACKAGE_MANIFEST_TYPE}`;
  if (typeof s.version !== 'string' || !SEMVER_PATTERN.test(s.version)) return 'manifest.version: not a semantic version';
  if (typeof s.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(s.sha256)) return 'manifest.sha256: not a SHA-256';
  if (!Number.isSafeInteger(s.size) || s.size < 1) return 'manifest.size: not a positive integer';
  if (typeof s.signature !== 'string') return 'manifest: unsigned';
  if (!verifyText(manifestSignedText(s), s.signature, publicKey)) return `manifest: bad signature on version ${s.version}`;
  return null;
}

/** null when `data` is exactly the package the manifest describes (size and SHA-256). */
export function packageBytesProblem(m: PackageManifest, data: Buffer | Uint8Array): string | null {
  if (data.byteLength !== m.size) return `package: size ${data.byteLength} differs from the manifest's ${m.size}`;
  const digest = sha256Hex(data);
  if (digest !== m.sha256) return `package: sha256 ${digest} differs from the manifest's ${m.sha256}`;
  return null;
}

/** Both checks: the manifest's signature, then the bytes against it. */
export function verifyPackage(m: unknown, data: Buffer | Uint8Array, publicKey: KeyObject): string | null {
  return manifestSignatureProblem(m, publicKey) ?? packageBytesProblem(m as PackageManifest, data);
}

export interface SemVer {
  major: number;
  minor: number;
  patch: number;
  prerelease: Array<string | number>;
}

export function parseSemver(text: string): SemVer | null {
  const m = SEMVER_PATTERN.exec(typeof text === 'string' ? text : '');
  if (!m) return null;
  return {
    major: Number(m[1]),
    minor: Number(m[2]),
    patch: Number(m[3]),
    prerelease: m[4] ? m[4].split('.').map((p) => (/^\d+$/.test(p) ? Number(p) : p)) : [],
  };
}

/** Semver precedence: <0, 0, >0 (build metadata ignored). Throws on a malformed version. */
export function compareVersions(a: string, b: string): number {
  const x = parseSemver(a);
  const y = parseSemver(b);
  if (!x) throw new Error(`not a semantic version: ${JSON.stringify(a)}`);
  if (!y) throw new Error(`not a semantic version: ${JSON.stringify(b)}`);
  for (const k of ['major', 'minor', 'patch'] as const) if (x[k] !== y[k]) return x[k] < y[k] ? -1 : 1;
  if (!x.prerelease.length || !y.prerelease.length) return Math.sign(y.prerelease.length - x.prerelease.length);
  for (let i = 0; i < Math.max(x.prerelease.length, y.prerelease.length); i++) {
    const p = x.prerelease[i];
    const q = y.prerelease[i];
    if (p === undefined) return -1;
    if (q === undefined) return 1;
    if (p === q) continue;
    if (typeof p === 'number' && typeof q === 'number') return p < q ? -1 : 1;
    if (typeof p === 'number') return -1;
    if (typeof q === 'number') return 1;
    return p < q ? -1 : 1;
  }
  return 0;
}

export type UpgradeKind = 'upgrade' | 'same' | 'downgrade' | 'unknown-current';

/**
 * May a node running `current` install `target`? A downgrade only with `force`. The same version is allowed
 * (reinstall) only with `force`; otherwise it is a no-op for the caller to report as unchanged. A current version
 * that is not semver (a dev build) can be replaced only with `force`.
 */
export function upgradeDecision(current: string, target: string, force = false): { kind: UpgradeKind; allowed: boolean; reason: string } {
  if (!parseSemver(target)) return { kind: 'unknown-current', allowed: false, reason: `target ${JSON.stringify(target)} is not a semantic version` };
  if (!parseSemver(current)) {
    return { kind: 'unknown-current', allowed: force, reason: `current version ${JSON.stringify(current)} is not a semantic version${force ? '' : ' (use force)'}` };
  }
  const c = compareVersions(target, current);
  if (c > 0) return { kind: 'upgrade', allowed: true, reason: `${current} -> ${target}` };
  if (c === 0) return { kind: 'same', allowed: force, reason: `already running ${current}${force ? ' (reinstall forced)' : ''}` };
  return { kind: 'downgrade', allowed: force, reason: `${target} is older than ${current}${force ? ' (downgrade forced)' : ': downgrade refused without force'}` };
}

/** Where the master serves a version's tar.gz (nodes authenticate with their node token). */
export function packageDownloadPath(version: string): string {
  return `/api/v1/upgrades/packages/${encodeURIComponent(version)}/download`;
}
