import { createHash } from 'node:crypto';
import { KEYED_SECTIONS } from './desired-state.dto';

/**
 * JSON with object keys sorted at every level and `undefined` members left out, so equal values give equal
 * text whatever the key order they were built with. Array order is kept (it is meaningful).
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) return 'null';
    return value === undefined ? 'null' : JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const keys = Object.keys(value as object)
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
}

/** SHA-256 (hex) of the canonical JSON. */
export function hashJson(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

export interface DiffEntry {
  /** e.g. `listeners.netflow.port`, `exporters[address=10.0.0.1].name`, `reports[name=daily].recipients[0]`. */
  path: string;
  from?: unknown;
  to?: unknown;
}

export interface ConfigDiff {
  added: DiffEntry[];
  removed: DiffEntry[];
  changed: DiffEntry[];
}

function isPlain(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Structured difference from `a` to `b`. Objects are compared key by key; the keyed sections at the top level
 * (exporters, profiles, alertRules, reports) are matched by their key; other arrays by index.
 */
export function diffJson(a: unknown, b: unknown): ConfigDiff {
  const out: ConfigDiff = { added: [], removed: [], changed: [] };
  walk(a, b, '', out, true);
  return out;
}

function walk(a: unknown, b: unknown, path: string, out: ConfigDiff, top: boolean): void {
  if (canonicalJson(a) === canonicalJson(b)) return;
  if (isPlain(a) && isPlain(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const k of keys) {
      const p = path ? `${path}.${k}` : k;
      const keyField = top ? (KEYED_SECTIONS as Record<string, string>)[k] : undefined;
      if (a[k] === undefined && b[k] !== undefined) out.added.push({ path: p, to: b[k] });
      else if (a[k] !== undefined && b[k] === undefined) out.removed.push({ path: p, from: a[k] });
      else if (keyField && Array.isArray(a[k]) && Array.isArray(b[k])) walkKeyed(a[k] as unknown[], b[k] as unknown[], p, keyField, out);
      else walk(a[k], b[k], p, out, false);
    }
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const n = Math.max(a.length, b.length);
    for (let i = 0; i < n; i++) {
      const p = `${path}[${i}]`;
      if (i >= a.length) out.added.push({ path: p, to: b[i] });
      else if (i >= b.length) out.removed.push({ path: p, from: a[i] });
      else walk(a[i], b[i], p, out, false);
    }
    return;
  }
  out.changed.push({ path, from: a, to: b });
}

function walkKeyed(a: unknown[], b: unknown[], path: string, key: string, out: ConfigDiff): void {
  const keyOf = (item: unknown, i: number): string => (isPlain(item) && typeof item[key] === 'string' ? `${key}=${item[key] as string}` : `#${i}`);
  const am = new Map(a.map((item, i) => [keyOf(item, i), item]));
  const bm = new Map(b.map((item, i) => [keyOf(item, i), item]));
  for (const [k, item] of am) {
    const p = `${path}[${k}]`;
    if (!bm.has(k)) out.removed.push({ path: p, from: item });
    else walk(item, bm.get(k), p, out, false);
  }
  for (const [k, item] of bm) if (!am.has(k)) out.added.push({ path: `${path}[${k}]`, to: item });
}
