import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';
import { parse as parseYaml } from 'yaml';

export type ClassOf<T> = new () => T;

/** A configuration that cannot be used: every problem names the key (dotted path) and what is wrong. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

export interface ConfigSources {
  /** Path to a JSON or YAML file (optional). */
  file?: string;
  /** Environment, usually process.env. Variables `${envPrefix}A__B_C` set key `a.bC`. */
  env?: Record<string, string | undefined>;
  envPrefix?: string;
  /** Highest precedence: `key.path=value` strings (from `--set`) or an object. */
  overrides?: string[] | Record<string, unknown>;
  /** Applied after defaults, before the file (e.g. what the master last published). */
  base?: Record<string, unknown>;
}

type Plain = Record<string, unknown>;

function isPlain(v: unknown): v is Plain {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function deepMerge(target: Plain, source: Plain): Plain {
  const out: Plain = { ...target };
  for (const [k, v] of Object.entries(source)) {
    out[k] = isPlain(v) && isPlain(out[k]) ? deepMerge(out[k] as Plain, v) : v;
  }
  return out;
}

function setPath(obj: Plain, path: string[], value: unknown): void {
  let cur = obj;
  for (const key of path.slice(0, -1)) {
    if (!isPlain(cur[key])) cur[key] = {};
    cur = cur[key] as Plain;
  }
  cur[path[path.length - 1]] = value;
}

function scalar(text: string): unknown {
  const t = text.trim();
  if (t.startsWith('[') || t.startsWith('{')) {
    try {
      return JSON.parse(t);
    } catch {
      return text;
    }
  }
  return text;
}

const camel = (s: string) => s.toLowerCase().replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());

export function envToObject(env: Record<string, string | undefined>, prefix: string): Plain {
  const out: Plain = {};
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(prefix) || value === undefined) continue;
    const path = name.slice(prefix.length).split('__').map(camel);
    setPath(out, path, scalar(value));
  }
  return out;
}

export function overridesToObject(overrides: string[]): Plain {
  const out: Plain = {};
  for (const item of overrides) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new ConfigError([`--set ${item}: expected key.path=value`]);
    setPath(out, item.slice(0, eq).split('.'), scalar(item.slice(eq + 1)));
  }
  return out;
}

export function readConfigFile(file: string): Plain {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError([`config file ${file}: ${(e as Error).message}`]);
  }
  let parsed: unknown;
  try {
    parsed = /\.ya?ml$/i.test(file) ? parseYaml(text) : JSON.parse(text);
  } catch (e) {
    throw new ConfigError([`config file ${file}: not valid ${/\.ya?ml$/i.test(file) ? 'YAML' : 'JSON'}: ${(e as Error).message}`]);
  }
  if (parsed == null) return {};
  if (!isPlain(parsed)) throw new ConfigError([`config file ${file}: the top level must be an object`]);
  return parsed;
}

export function flattenValidationErrors(errors: ValidationError[], parent = ''): string[] {
  const out: string[] = [];
  for (const e of errors) {
    const path = parent ? `${parent}.${e.property}` : e.property;
    for (const [rule, msg] of Object.entries(e.constraints ?? {})) {
      if (rule === 'whitelistValidation') out.push(`${path}: unknown key`);
      else out.push(`${path}: ${msg.replace(new RegExp(`^${e.property}\\s*`), '')} (got ${JSON.stringify(e.value)})`);
    }
    out.push(...flattenValidationErrors(e.children ?? [], path));
  }
  return out;
}

/**
 * Text from the environment or `--set` becomes a number or boolean where the config class says so: by the
 * property's default value, else by its declared type (decorator metadata). Anything else stays as given,
 * so validation reports it against the key.
 */
function coerceScalars(target: object | undefined, plain: Plain): Plain {
  if (!target) return plain;
  const out: Plain = {};
  for (const [key, value] of Object.entries(plain)) {
    const current = (target as Record<string, unknown>)[key];
    const declared = Reflect.getMetadata?.('design:type', target, key) as unknown;
    const kind = current !== undefined && current !== null ? typeof current : declared === Number ? 'number' : declared === Boolean ? 'boolean' : undefined;
    if (typeof value === 'string' && kind === 'number' && /^\s*-?\d+(\.\d+)?\s*$/.test(value)) out[key] = Number(value);
    else if (typeof value === 'string' && kind === 'boolean' && /^(true|false)$/i.test(value.trim())) out[key] = value.trim().toLowerCase() === 'true';
    else if (isPlain(value) && typeof current === 'object' && current !== null && !Array.isArray(current)) out[key] = coerceScalars(current, value);
    else out[key] = value;
  }
  return out;
}

/** Validates a plain object into an instance of `cls`; unknown keys are errors. */
export function validateConfig<T extends object>(cls: ClassOf<T>, plain: Plain): T {
  plain = coerceScalars(new cls(), plain);
  const instance = plainToInstance(cls, plain, { enableImplicitConversion: true, exposeDefaultValues: true });
  const errors = validateSync(instance, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true });
  if (errors.length) throw new ConfigError(flattenValidationErrors(errors));
  return instance;
}

/** Defaults (the class) → base → file → environment → overrides, then validation. */
export function loadConfig<T extends object>(cls: ClassOf<T>, sources: ConfigSources = {}): T {
  let plain: Plain = {};
  if (sources.base) plain = deepMerge(plain, sources.base);
  if (sources.file) plain = deepMerge(plain, readConfigFile(sources.file));
  if (sources.env && sources.envPrefix) plain = deepMerge(plain, envToObject(sources.env, sources.envPrefix));
  if (sources.overrides) {
    const o = Array.isArray(sources.overrides) ? overridesToObject(sources.overrides) : sources.overrides;
    plain = deepMerge(plain, o);
  }
  return validateConfig(cls, plain);
}

const SECRET_KEY = /(password|secret|token|privateKey)$/i;

/** The effective configuration as plain JSON (for `--dump`), secrets masked (also inside URLs). */
export function dumpConfig(config: object): string {
  return JSON.stringify(
    config,
    (key, value: unknown) => {
      if (typeof value === 'string' && SECRET_KEY.test(key) && value !== '') return '********';
      if (typeof value === 'string' && /^[a-z][a-z0-9+.-]*:\/\/[^/@]*:[^/@]*@/i.test(value)) return value.replace(/\/\/([^/:@]*):[^/@]*@/, '//$1:********@');
      return value;
    },
    2,
  );
}
