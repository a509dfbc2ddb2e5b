/**
 * Short fuzz pass over the decoder's public API (~12 s on 2 workers), run as the fuzzer CLI process
 * (benchmarks/fuzz/fuzz.ts, beside this build's output): no exception may escape, no input may take
 * > 100 ms. Findings are saved to tmp/fuzz-crashes/. FUZZ_SEED=n replays another sequence.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const FUZZ_JS = path.join(__dirname, '../../benchmarks/fuzz/fuzz.js');

function repoRoot(): string {
  let dir = __dirname;
  while (!existsSync(path.join(dir, 'nx.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('repo root not found');
    dir = up;
  }
  return dir;
}

interface Finding {
  target: string;
  error: string;
  file: string;
}
interface Report {
  inputs: Record<string, number>;
  crashes: Finding[];
  hangs: Finding[];
  workerRestarts: number;
}

function fuzz(args: string[]): Promise<{ code: number; report: Report; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [FUZZ_JS, ...args], { maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err && typeof err.code === 'number' ? err.code : err ? -1 : 0;
      try {
        resolve({ code, report: JSON.parse(stdout) as Report, stderr });
      } catch {
        reject(new Error(`fuzz exited ${code}: ${stderr}`));
      }
    });
  });
}

describe('decoder fuzzing', () => {
  test('short pass: 0 crashes, 0 hangs, every target exercised', { timeout: 120_000 }, async () => {
    const seed = process.env.FUZZ_SEED ?? '1';
    const out = path.join(repoRoot(), 'tmp/fuzz-crashes');
    const { code, report } = await fuzz(['--seconds', '12', '--workers', '2', '--seed', seed, '--out', out]);
    const detail = JSON.stringify({ seed, crashes: report.crashes, hangs: report.hangs }, null, 1);
    assert.equal(report.crashes.length, 0, detail);
    assert.equal(report.hangs.length, 0, detail);
    assert.equal(code, 0);
    for (const [target, n] of Object.entries(report.inputs)) assert.ok(n > 2000, `${target}: only ${n} inputs`);
  });

  test('the harness catches a planted crash and a planted hang, and saves the inputs', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fuzz-selftest-'));
    try {
      const crash = await fuzz(['--seconds', '1.5', '--workers', '1', '--seed', '3', '--out', dir, '--self-test', 'crash']);
      assert.equal(crash.code, 1);
      assert.ok(crash.report.crashes.length >= 1);
      assert.match(crash.report.crashes[0].error, /planted self-test crash/);
      assert.equal(crash.report.crashes[0].target, 'sflow_v5');
      assert.ok(existsSync(crash.report.crashes[0].file));
      const hang = await fuzz(['--seconds', '4', '--workers', '1', '--seed', '4', '--out', dir, '--self-test', 'hang']);
      assert.equal(hang.code, 1);
      assert.ok(hang.report.hangs.length >= 1, JSON.stringify(hang.report));
      assert.equal(hang.report.hangs[0].target, 'sflow_v5');
      assert.ok(hang.report.workerRestarts >= 1);
      assert.ok(readdirSync(dir).some((f) => f.includes('-hang-')));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
