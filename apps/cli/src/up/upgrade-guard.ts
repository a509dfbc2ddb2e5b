import { closeSync, existsSync, fsyncSync, openSync, readFileSync, readlinkSync, renameSync, symlinkSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The supervisor's half of the side-by-side upgrade protocol (the node's half, with the full description, is
 * apps/collector-node/src/upgrade/upgrade-state.ts; apps do not import each other, so the few lines of file
 * handling are repeated here).
 *
 * A node exiting with RESTART_EXIT_CODE is restarted at once from `<installRoot>/current`. While
 * `<installRoot>/upgrade-state.json` says phase 'restarting', the new process must mark it 'healthy' before
 * `deadline`; if it exits first (any other code) or the deadline passes, the supervisor points `current` back at
 * `previousTarget`, records phase 'rolled-back' with the reason and starts the previous version again.
 */
export const RESTART_EXIT_CODE = 75;
export const UPGRADE_STATE_FILE = 'upgrade-state.json';

export interface UpgradeState {
  jobId: string;
  from: string;
  to: string;
  previousTarget: string;
  newTarget: string;
  phase: 'restarting' | 'healthy' | 'rolled-back';
  deadline: number;
  detail?: string;
  at: number;
}

export function readUpgradeState(installRoot: string): UpgradeState | null {
  const f = join(installRoot, UPGRADE_STATE_FILE);
  if (!existsSync(f)) return null;
  try {
    return JSON.parse(readFileSync(f, 'utf8')) as UpgradeState;
  } catch {
    return null;
  }
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function writeState(installRoot: string, s: UpgradeState): void {
  const f = join(installRoot, UPGRADE_STATE_FILE);
  const tmp = `${f}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o644);
  try {
    writeSync(fd, JSON.stringify(s, null, 2));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, f);
  fsyncDir(installRoot);
}

function switchCurrent(installRoot: string, target: string): void {
  const link = join(installRoot, 'current');
  const tmp = join(installRoot, `.current.${process.pid}.tmp`);
  try {
    unlinkSync(tmp);
  } catch {
    /* absent */
  }
  symlinkSync(target, tmp);
  renameSync(tmp, link);
  fsyncDir(installRoot);
}

export function currentTarget(installRoot: string): string | null {
  try {
    return readlinkSync(join(installRoot, 'current'));
  } catch {
    return null;
  }
}

/** The upgrade in flight whose new version has not passed health yet, if any. */
export function pendingUpgrade(installRoot: string): UpgradeState | null {
  const s = readUpgradeState(installRoot);
  return s && s.phase === 'restarting' ? s : null;
}

/** Points `current` back at the previous version and records why. Returns the updated state. */
export function rollBack(installRoot: string, s: UpgradeState, detail: string): UpgradeState {
  switchCurrent(installRoot, s.previousTarget);
  const next: UpgradeState = { ...s, phase: 'rolled-back', detail, at: Date.now() };
  writeState(installRoot, next);
  return next;
}
