import { isIP } from 'node:net';
import { FilterSyntaxError, parseFilter } from '@flowmesh/flow-query';

/** Returns an error message for a bad filter, or null when it is acceptable. */
export type FilterValidator = (filter: string) => string | null | undefined;

export const MAX_FILTER_LENGTH = 4096;

const basicFilterCheck: FilterValidator = (f) => {
  if (f.trim().length === 0) return 'must be a non-empty filter';
  if (f.length > MAX_FILTER_LENGTH) return `must be at most ${MAX_FILTER_LENGTH} characters`;
  return null;
};

/**
 * nfdump filter syntax (libs/flow-query), the same parser the query API uses. `channel`/`profile`
 * references are checked for syntax only here: they are resolved where the whole document is known.
 */
export const nfdumpFilterValidator: FilterValidator = (f) => {
  try {
    parseFilter(f, { resolve: () => 'any' });
    return null;
  } catch (e) {
    if (e instanceof FilterSyntaxError) return `not a valid filter: ${e.message}`;
    throw e;
  }
};

let filterValidator: FilterValidator = nfdumpFilterValidator;

/**
 * Replaces the check applied to every `profiles[].channels[].filter` and `alertRules[].filter`.
 * Pass `null` to restore the default (nfdump syntax). The same validator must be used on the master and
 * on the nodes.
 */
export function setFilterValidator(fn: FilterValidator | null): void {
  filterValidator = fn ?? nfdumpFilterValidator;
}

export function filterError(value: unknown): string | null {
  if (typeof value !== 'string') return 'must be a string';
  const base = basicFilterCheck(value);
  if (base) return base;
  try {
    return filterValidator(value) ?? null;
  } catch (e) {
    return `filter validator failed: ${(e as Error).message}`;
  }
}

/** An IPv4/IPv6 address or a CIDR block (host bits may be set). */
export function isIpOrCidr(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  const slash = value.indexOf('/');
  if (slash < 0) return isIP(value) !== 0;
  const ip = value.slice(0, slash);
  const prefix = value.slice(slash + 1);
  const family = isIP(ip);
  if (family === 0 || !/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const CRON_FIELDS: { name: string; min: number; max: number; names?: string[] }[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTHS },
  { name: 'day of week', min: 0, max: 7, names: DAYS },
];
const CRON_MACROS = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);

/** Syntax check of a 5-field cron expression (or an @macro). Returns an error message or null. */
export function cronError(value: unknown): string | null {
  if (typeof value !== 'string') return 'must be a cron expression string';
  const text = value.trim();
  if (text.startsWith('@')) return CRON_MACROS.has(text) ? null : `unknown cron macro ${text}`;
  const parts = text.split(/\s+/);
  if (parts.length !== 5) return `must have 5 fields (minute hour day-of-month month day-of-week), found ${parts.length}`;
  for (let i = 0; i < 5; i++) {
    const f = CRON_FIELDS[i];
    const num = (t: string): number | null => {
      if (/^\d{1,2}$/.test(t)) return Number(t);
      const idx = f.names?.indexOf(t.toLowerCase()) ?? -1;
      if (idx >= 0) return idx + (f.name === 'month' ? 1 : 0);
      return null;
    };
    for (const item of parts[i].split(',')) {
      const m = /^([^/]+)(?:\/(\d{1,2}))?$/.exec(item);
      if (!m) return `${f.name} field: bad item "${item}"`;
      if (m[2] !== undefined && Number(m[2]) === 0) return `${f.name} field: step must be positive in "${item}"`;
      if (m[1] === '*') continue;
      const range = m[1].split('-');
      if (range.length > 2) return `${f.name} field: bad range "${item}"`;
      const vals = range.map(num);
      for (let k = 0; k < vals.length; k++) {
        const v = vals[k];
        if (v === null || v < f.min || v > f.max) return `${f.name} field: "${range[k]}" is not in ${f.min}-${f.max}`;
      }
      if (vals.length === 2 && (vals[0] as number) > (vals[1] as number)) return `${f.name} field: range "${item}" is reversed`;
    }
  }
  return null;
}
