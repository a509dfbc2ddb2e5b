import 'reflect-metadata';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Type } from 'class-transformer';
import { IsBoolean, IsInt, IsOptional, IsString, Max, Min, ValidateNested } from 'class-validator';
import { ConfigError, dumpConfig, envToObject, loadConfig } from './config-loader';

class Http {
  @IsString()
  host = '127.0.0.1';
  @IsInt() @Min(1) @Max(65535)
  port = 9100;
}

class Sample {
  @IsString()
  id = 'a';
  @IsBoolean()
  verbose = false;
  @IsOptional() @IsInt()
  limit?: number;
  @ValidateNested() @Type(() => Http)
  http = new Http();
}

const problems = (fn: () => unknown): string[] => {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.problems;
  }
  assert.fail('expected a ConfigError');
};

describe('loadConfig', () => {
  test('defaults come from the class', () => {
    const c = loadConfig(Sample);
    assert.equal(c.id, 'a');
    assert.equal(c.http.port, 9100);
  });

  test('file < environment < --set, with text turned into numbers and booleans by the class', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const file = join(dir, 'c.yaml');
    writeFileSync(file, 'id: from-file\nhttp:\n  port: 1000\n  host: 10.0.0.1\n');
    const c = loadConfig(Sample, {
      file,
      env: { APP_HTTP__PORT: '2000', APP_VERBOSE: 'true', APP_LIMIT: '7', OTHER_X: 'ignored' },
      envPrefix: 'APP_',
      overrides: ['http.port=3000'],
    });
    assert.deepEqual([c.id, c.http.host, c.http.port, c.verbose, c.limit], ['from-file', '10.0.0.1', 3000, true, 7]);
  });

  test('unknown keys are errors that name the key, nested ones with their path', () => {
    assert.deepEqual(problems(() => loadConfig(Sample, { overrides: { htp: 1, http: { prot: 2 } } })).sort(), ['htp: unknown key', 'http.prot: unknown key']);
  });

  test('a bad value names the key, the rule and the value', () => {
    const p = problems(() => loadConfig(Sample, { overrides: ['http.port=70000'] }));
    assert.deepEqual(p, ['http.port: must not be greater than 65535 (got 70000)']);
    const q = problems(() => loadConfig(Sample, { overrides: ['http.port=eighty'] }));
    assert.ok(q.some((m) => m.startsWith('http.port: ') && m.includes('"eighty"')), q.join('\n'));
  });

  test('a broken file names the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const file = join(dir, 'c.json');
    writeFileSync(file, '{ "id": ');
    assert.match(problems(() => loadConfig(Sample, { file }))[0], /c\.json: not valid JSON/);
    assert.match(problems(() => loadConfig(Sample, { file: join(dir, 'missing.json') }))[0], /missing\.json: ENOENT/);
  });

  test('--set without "=" is refused', () => {
    assert.match(problems(() => loadConfig(Sample, { overrides: ['http.port'] }))[0], /expected key\.path=value/);
  });

  test('environment names map to camelCase paths', () => {
    assert.deepEqual(envToObject({ P_QUERY__TIMEOUT_MS: '5', P_ID: 'x' }, 'P_'), { query: { timeoutMs: '5' }, id: 'x' });
  });

  test('--dump masks secrets, also inside URLs', () => {
    const text = dumpConfig({ redis: { url: 'redis://app:s3cret@10.0.0.1:6379' }, clickhouse: { password: 'pw', username: 'u' }, tokens: [{ sha256: 'ab' }] });
    assert.ok(!text.includes('s3cret') && !text.includes('"pw"'), text);
    assert.match(text, /redis:\/\/app:\*{8}@10\.0\.0\.1:6379/);
    assert.match(text, /"username": "u"/);
  });
});
