import { ConfigSpec, EffectiveConfig, KEYED_SECTIONS, KeyedSection } from './desired-state.dto';

type Plain = Record<string, unknown>;

function isPlain(v: unknown): v is Plain {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

function mergeObjects(wider: Plain, narrower: Plain): Plain {
  const out: Plain = { ...wider };
  for (const [k, v] of Object.entries(narrower)) {
    if (v === undefined) continue;
    out[k] = isPlain(v) && isPlain(out[k]) ? mergeObjects(out[k] as Plain, v) : clone(v);
  }
  return out;
}

function mergeKeyed(wider: Plain[], narrower: Plain[], key: string): Plain[] {
  const out = wider.map((item) => clone(item));
  for (const item of narrower) {
    const i = out.findIndex((w) => w[key] === item[key]);
    if (i >= 0) out[i] = clone(item);
    else out.push(clone(item));
  }
  return out;
}

function dropDeleted(list: Plain[]): Plain[] {
  return list.filter((item) => item.deleted !== true);
}

/**
 * Merges scope documents, wider first: global, then group, then node (narrower wins).
 * - Objects (`listeners`, `storage`, `storage.retention`, ...) merge key by key.
 * - Keyed lists (`exporters` by address, `profiles`/`alertRules`/`reports` by name) merge by key: a narrower item
 *   replaces the wider item with the same key as a whole (it is not merged field by field); new keys are appended
 *   after the inherited ones; an item `{<key>, deleted: true}` removes the inherited item and is itself dropped.
 * - Other values (and plain lists such as `recipients` or `channels`) are replaced.
 * The inputs are expected to be valid (validateSpec); they are not modified.
 */
export function effectiveConfig(docs: { global?: ConfigSpec | null; group?: ConfigSpec | null; node?: ConfigSpec | null }): EffectiveConfig {
  let out: Plain = {};
  for (const doc of [docs.global, docs.group, docs.node]) {
    if (!doc) continue;
    for (const [section, value] of Object.entries(doc as Plain)) {
      if (value === undefined) continue;
      const key = (KEYED_SECTIONS as Record<string, string>)[section];
      if (key && Array.isArray(value)) {
        const wider = Array.isArray(out[section]) ? (out[section] as Plain[]) : [];
        out[section] = dropDeleted(mergeKeyed(wider, value as Plain[], key));
      } else if (isPlain(value) && isPlain(out[section])) {
        out = { ...out, [section]: mergeObjects(out[section] as Plain, value) };
      } else {
        out[section] = clone(value);
      }
    }
  }
  for (const section of Object.keys(KEYED_SECTIONS) as KeyedSection[]) {
    if (Array.isArray(out[section])) out[section] = dropDeleted(out[section] as Plain[]);
  }
  return out as EffectiveConfig;
}
