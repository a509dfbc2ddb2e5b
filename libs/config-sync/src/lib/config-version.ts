import type { KeyObject } from 'node:crypto';
import { ConfigSpec, EffectiveConfig } from './desired-state/desired-state.dto';
import { canonicalJson, hashJson } from './desired-state/canonical-json';
import { effectiveConfig } from './desired-state/effective-config';
import { signText, verifyText } from './signing';

/** One stored, signed version of a scope's document. Never rewritten once stored. */
export interface ConfigVersion {
  scope: string;
  /** 1, 2, 3... per scope. */
  version: number;
  /** Cluster-wide revision this version was stored at. */
  revision: number;
  /** SHA-256 of canonicalJson(spec). */
  hash: string;
  spec: ConfigSpec;
  author: string;
  comment: string;
  /** ISO 8601. */
  at: string;
  /** Which key signed it (see keyIdOf). */
  keyId: string;
  /** Ed25519 over canonicalJson of every other field, base64. */
  signature: string;
}

export type ConfigVersionSummary = Omit<ConfigVersion, 'spec' | 'signature'>;

export interface ConfigSource {
  scope: string;
  version: number;
  revision: number;
  hash: string;
}

/** What one node should run: the merge of its scopes' latest versions. */
export interface DesiredState {
  /** Highest revision among the sources; 0 when no scope applies to the node. */
  revision: number;
  /** SHA-256 of canonicalJson(config); '' when no scope applies. */
  hash: string;
  config: EffectiveConfig;
  /** Wider first: global, group, node (only those that exist). */
  sources: ConfigSource[];
}

export function signedText(v: Omit<ConfigVersion, 'signature'> | ConfigVersion): string {
  const { signature: _omit, ...rest } = v as ConfigVersion;
  return canonicalJson(rest);
}

export function signVersion(v: Omit<ConfigVersion, 'signature'>, privateKey: KeyObject): ConfigVersion {
  return { ...v, signature: signText(signedText(v), privateKey) };
}

/** null when the version is intact and signed by `publicKey`; otherwise what is wrong. */
export function versionSignatureProblem(v: ConfigVersion, publicKey: KeyObject): string | null {
  if (typeof v !== 'object' || v === null || typeof v.signature !== 'string') return 'unsigned';
  if (!verifyText(signedText(v), v.signature, publicKey)) return `bad signature on ${v.scope} version ${v.version}`;
  if (hashJson(v.spec) !== v.hash) return `hash mismatch on ${v.scope} version ${v.version}`;
  return null;
}

export function parseVersion(text: string | null | undefined): ConfigVersion | null {
  if (!text) return null;
  try {
    const v = JSON.parse(text) as ConfigVersion;
    return typeof v === 'object' && v !== null && typeof v.scope === 'string' && Number.isInteger(v.version) ? v : null;
  } catch {
    return null;
  }
}

/** Merges the latest versions of global, group and node scopes (any may be missing). Specs must be valid. */
export function resolveDesired(global: ConfigVersion | null, group: ConfigVersion | null, node: ConfigVersion | null): DesiredState {
  const present = [global, group, node].filter((v): v is ConfigVersion => v !== null);
  if (!present.length) return { revision: 0, hash: '', config: {}, sources: [] };
  const config = effectiveConfig({ global: global?.spec, group: group?.spec, node: node?.spec });
  return {
    revision: Math.max(...present.map((v) => v.revision)),
    hash: hashJson(config),
    config,
    sources: present.map((v) => ({ scope: v.scope, version: v.version, revision: v.revision, hash: v.hash })),
  };
}

export function summarize(v: ConfigVersion): ConfigVersionSummary {
  const { spec: _s, signature: _g, ...rest } = v;
  return rest;
}
