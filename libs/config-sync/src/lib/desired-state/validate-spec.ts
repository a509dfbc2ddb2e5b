import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';
import { ConfigError } from '@flowmesh/common';
import { NODE_ID_PATTERN } from '../node-registry.dto';
import { ConfigSpec, KEYED_SECTIONS, KeyedSection } from './desired-state.dto';

export type ScopeKind = 'global' | 'group' | 'node';
export interface ParsedScope {
  kind: ScopeKind;
  /** Group name or node id; '' for global. */
  name: string;
}

/** 'global' | 'group:<name>' | 'node:<id>' (group names follow the node id rules). */
export function parseScope(scope: string): ParsedScope {
  if (scope === 'global') return { kind: 'global', name: '' };
  const m = /^(group|node):(.+)$/.exec(typeof scope === 'string' ? scope : '');
  if (!m || !NODE_ID_PATTERN.test(m[2])) {
    throw new ConfigError([`scope: must be "global", "group:<name>" or "node:<id>" with 1-63 chars of a-z, 0-9, _ . - (got ${JSON.stringify(scope)})`]);
  }
  return { kind: m[1] as ScopeKind, name: m[2] };
}

export const scopeOf = {
  global: 'global',
  group: (name: string): string => `group:${name}`,
  node: (id: string): string => `node:${id}`,
} as const;

function isPlain(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** class-validator errors as `path: message (got value)`, with list items as `exporters[2].address`. */
export function flattenSpecErrors(errors: ValidationError[], parent = ''): string[] {
  const out: string[] = [];
  for (const e of errors) {
    const path = /^\d+$/.test(e.property) ? `${parent}[${e.property}]` : parent ? `${parent}.${e.property}` : e.property;
    for (const [rule, msg] of Object.entries(e.constraints ?? {})) {
      if (rule === 'whitelistValidation') out.push(`${path}: unknown key`);
      else if (rule === 'unknownValue') out.push(`${path}: must be an object`);
      else out.push(`${path}: ${msg.replace(new RegExp(`^(each value in )?${e.property}\\s*`), '')} (got ${JSON.stringify(e.value)})`);
    }
    out.push(...flattenSpecErrors(e.children ?? [], path));
  }
  return out;
}

function duplicateKeys(plain: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const [section, key] of Object.entries(KEYED_SECTIONS) as [KeyedSection, string][]) {
    const list = plain[section];
    if (!Array.isArray(list)) continue;
    const seen = new Map<unknown, number>();
    list.forEach((item, i) => {
      if (!isPlain(item)) return;
      const k = item[key];
      if (typeof k !== 'string') return;
      if (seen.has(k)) out.push(`${section}[${i}].${key}: duplicate key, already used by ${section}[${seen.get(k)}] (got ${JSON.stringify(k)})`);
      else seen.set(k, i);
    });
  }
  const profiles = plain.profiles;
  if (Array.isArray(profiles)) {
    profiles.forEach((p, i) => {
      if (!isPlain(p) || !Array.isArray(p.channels)) return;
      const seen = new Map<unknown, number>();
      p.channels.forEach((c, j) => {
        if (!isPlain(c) || typeof c.name !== 'string') return;
        if (seen.has(c.name)) out.push(`profiles[${i}].channels[${j}].name: duplicate channel name (got ${JSON.stringify(c.name)})`);
        else seen.set(c.name, j);
      });
    });
  }
  return out;
}

/** Every problem in a scope document, each naming its path; [] when valid. Never throws. */
export function specProblems(plain: unknown): string[] {
  if (!isPlain(plain)) return [`spec: must be an object (got ${JSON.stringify(plain)?.slice(0, 80)})`];
  try {
    const instance = plainToInstance(ConfigSpec, plain);
    const errors = validateSync(instance, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true });
    const problems = flattenSpecErrors(errors);
    return problems.length ? problems : duplicateKeys(plain);
  } catch (e) {
    return [`spec: cannot be validated: ${(e as Error).message}`];
  }
}

/**
 * Validates a scope document (or an effective config). Throws ConfigError listing every problem,
 * e.g. `exporters[2].address: must be an IP address or CIDR (got "x")`. Returns the plain object unchanged.
 */
export function validateSpec(plain: unknown): ConfigSpec {
  const problems = specProblems(plain);
  if (problems.length) throw new ConfigError(problems);
  return plain as ConfigSpec;
}
