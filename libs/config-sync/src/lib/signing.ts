import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, KeyObject, sign, verify } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-file';

/** The master's Ed25519 key pair that signs every config version. */
export interface SigningKeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** First 16 hex chars of the SHA-256 of the public key (SPKI DER); recorded in each signed version. */
  keyId: string;
}

export const SIGNING_KEY_FILE = 'config-signing.key';
export const SIGNING_PUBLIC_KEY_FILE = 'config-signing.pub';

export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
}

export function publicKeyPem(publicKey: KeyObject): string {
  return publicKey.export({ type: 'spki', format: 'pem' }).toString();
}

/** Accepts a KeyObject or SPKI PEM text; refuses anything but Ed25519. */
export function toPublicKey(key: KeyObject | string): KeyObject {
  const k = typeof key === 'string' ? createPublicKey(key) : key.type === 'private' ? createPublicKey(key) : key;
  if (k.asymmetricKeyType !== 'ed25519') throw new Error(`public key must be Ed25519 (got ${k.asymmetricKeyType})`);
  return k;
}

export function generateSigningKeyPair(): SigningKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey, publicKey, keyId: keyIdOf(publicKey) };
}

/**
 * Loads `config-signing.key` (PKCS#8 PEM, mode 0600) from `dir`, or creates the pair there (with
 * `config-signing.pub`, SPKI PEM, to hand to nodes) when it does not exist yet.
 */
export function loadOrCreateSigningKeyPair(dir: string): SigningKeyPair {
  const keyFile = join(dir, SIGNING_KEY_FILE);
  if (existsSync(keyFile)) {
    const privateKey = createPrivateKey(readFileSync(keyFile));
    if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error(`${keyFile}: not an Ed25519 private key`);
    const publicKey = createPublicKey(privateKey);
    return { privateKey, publicKey, keyId: keyIdOf(publicKey) };
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const pair = generateSigningKeyPair();
  writeFileAtomic(keyFile, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 0o600);
  writeFileAtomic(join(dir, SIGNING_PUBLIC_KEY_FILE), publicKeyPem(pair.publicKey), 0o644);
  return pair;
}

/** Reads an SPKI PEM public key file (e.g. the master's config-signing.pub copied to a node). */
export function loadPublicKey(file: string): KeyObject {
  return toPublicKey(readFileSync(file, 'utf8'));
}

export function signText(text: string, privateKey: KeyObject): string {
  return sign(null, Buffer.from(text), privateKey).toString('base64');
}

export function verifyText(text: string, signature: string, publicKey: KeyObject): boolean {
  try {
    return verify(null, Buffer.from(text), publicKey, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}
