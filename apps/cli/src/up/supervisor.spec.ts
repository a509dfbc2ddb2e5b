import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@flowmesh/common';
import { Supervisor } from './supervisor';
import { readUpgradeState, RESTART_EXIT_CODE, UPGRADE_STATE_FILE } from '@flowmesh/config-sync';

const log = new Logger('test', 'error');

/**
 * versions/<v>/bin/flowmesh.js: records "<v> <args>" in runs.txt, then runs `body`. `node` mimics the node's
 * upgrade: when `<root>/trigger` names a version it writes the pending state, switches `current` and exits 75.
 */
function version(root: string, v: string, body: string): void {
  mkdirSync(join(root, 'versions', v, 'bin'), { recursive: true });
  const r = JSON.stringify(root);
  writeFileSync(
    join(root, 'versions', v, 'bin', 'flowmesh.js'),
    `const fs = require('fs'), path = require('path'), root = ${r};
fs.appendFileSync(path.join(root, 'runs.txt'), ${JSON.stringify(v)} + ' ' + process.argv.slice(2).join(',') + '\\n');
const node = () => setInterval(() => {
  const t = path.join(root, 'trigger');
  if (!fs.existsSync(t)) return;
  const [to, deadlineMs] = fs.readFileSync(t, 'utf8').split(' ');
  fs.unlinkSync(t);
  const at = Date.now();
  fs.writeFileSync(path.join(root, ${JSON.stringify(UPGRADE_STATE_FILE)}), JSON.stringify({ jobId: 'j1', from: ${JSON.stringify(v)}, to, previousTarget: 'versions/${v}', newTarget: 'versions/' + to, phase: 'restarting', deadline: at + Number(deadlineMs), at }));
  fs.symlinkSync('versions/' + to, path.join(root, '.cur'));
  fs.renameSync(path.join(root, '.cur'), path.join(root, 'current'));
  process.exit(${RESTART_EXIT_CODE});
}, 20);
${body}
`,
  );
}

function runs(root: string): string[] {
  try {
    return readFileSync(join(root, 'runs.txt'), 'utf8').trim().split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

async function until(what: string, fn: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (fn()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out: ${what}`);
}

async function withRoot(fn: (root: string, sup: Supervisor) => Promise<void>): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'sup-'));
  const sup = new Supervisor(join(root, 'logs'), log, 5, () => undefined);
  try {
    await fn(root, sup);
  } finally {
    await sup.stop(2000);
    rmSync(root, { recursive: true, force: true });
  }
}

describe('supervisor with an install root', () => {
  test('exit 75 restarts at once from the new `current`; a version that marks itself healthy stays', async () => {
    await withRoot(async (root, sup) => {
      version(root, 'A', 'node();');
      version(root, 'B', `fs.writeFileSync(path.join(root, ${JSON.stringify(UPGRADE_STATE_FILE)}), JSON.stringify({ ...JSON.parse(fs.readFileSync(path.join(root, ${JSON.stringify(UPGRADE_STATE_FILE)}), 'utf8')), phase: 'healthy' })); node();`);
      symlinkSync(join('versions', 'A'), join(root, 'current'));
      sup.start({ name: 'node-1', command: process.execPath, args: ['node', '--set', 'id=n1'], installRoot: root, restart: true });
      await until('A runs', () => runs(root).length === 1);
      const t0 = Date.now();
      writeFileSync(join(root, 'trigger'), 'B 5000');
      await until('B runs', () => runs(root).length === 2);
      assert.ok(Date.now() - t0 < 900, 'restarted at once, not after the 1 s crash back-off');
      assert.deepEqual(runs(root), ['A node,--set,id=n1', 'B node,--set,id=n1']);
      await until('B healthy', () => readUpgradeState(root)?.phase === 'healthy');
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(readlinkSync(join(root, 'current')), join('versions', 'B'));
      assert.equal(runs(root).length, 2);
    });
  });

  test('a new version that exits before passing health is rolled back and the previous one restarted', async () => {
    await withRoot(async (root, sup) => {
      version(root, 'A', 'node();');
      version(root, 'B', 'process.exit(3);');
      symlinkSync(join('versions', 'A'), join(root, 'current'));
      sup.start({ name: 'node-1', command: process.execPath, args: ['node'], installRoot: root, restart: true });
      await until('A runs', () => runs(root).length === 1);
      writeFileSync(join(root, 'trigger'), 'B 30000');
      await until('rolled back', () => readUpgradeState(root)?.phase === 'rolled-back');
      assert.equal(readUpgradeState(root)!.detail, 'version B exited (code 3, signal null) before passing health');
      assert.equal(readlinkSync(join(root, 'current')), join('versions', 'A'));
      await until('A runs again', () => runs(root).length === 3);
      assert.deepEqual(runs(root), ['A node', 'B node', 'A node']);
    });
  });

  test('a new version that is not healthy by the deadline is stopped and rolled back', async () => {
    await withRoot(async (root, sup) => {
      version(root, 'A', 'node();');
      version(root, 'B', 'setInterval(() => undefined, 1000);');
      symlinkSync(join('versions', 'A'), join(root, 'current'));
      sup.start({ name: 'node-1', command: process.execPath, args: ['node'], installRoot: root, restart: true });
      await until('A runs', () => runs(root).length === 1);
      writeFileSync(join(root, 'trigger'), 'B 800');
      await until('rolled back after the deadline', () => readUpgradeState(root)?.phase === 'rolled-back');
      assert.equal(readUpgradeState(root)!.detail, 'version B not healthy within the deadline');
      assert.equal(readlinkSync(join(root, 'current')), join('versions', 'A'));
      await until('A runs again', () => runs(root).length === 3);
      assert.deepEqual(runs(root), ['A node', 'B node', 'A node']);
    });
  });
});
