import { closeSync, existsSync, fsyncSync, openSync, readFileSync, readlinkSync, renameSync, symlinkSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * The side-by-side install layout and the hand-over between the node and its supervisor.
 *
 *   <installRoot>/versions/<version>/   one extracted package each (bin/flowmesh.js, dist/, package.json, nx.json)
 *   <installRoot>/current -> versions/<version>   what the supervisor starts (switched atomically with rename)
 *   <installRoot>/upgrade-state.json    present while an upgrade is in flight (format below)
 *
 * The node switches `current`, writes the state with phase 'restarting' and exits with RESTART_EXIT_CODE. The
 * supervisor (`flowmesh up`'s Supervisor) restarts it from `current` at once. The new process marks the state 'healthy' when its
 * readiness is ok; if instead it exits (any code but 75) or the deadline passes first, the supervisor switches
 * `current` back to `previousTarget`, sets phase 'rolled-back' with the reason, and restarts the old version,
 * whose job handler then fails the job with `rolled-back: <reason>`.
 */
export const RESTART_EXIT_CODE = 75;
export const UPGRADE_STATE_FILE = 'upgrade-state.json';

export interface UpgradeState {
  jobId: string;
  from: string;
  to: string;
  /** Symlink targets of `current` before and after the switch (relative: 'versions/<v>'). */
  previousTarget: string;
  newTarget: string;
  phase: 'restarting' | 'healthy' | 'rolled-back';
  /** Epoch ms by which the new version must be healthy. */
  deadline: number;
  /** Why it was rolled back. */
  detail?: string;
  at: number;
}

export function statePath(installRoot: string): string {
  return join(installRoot, UPGRADE_STATE_FILE);
}

export function readUpgradeState(installRoot: string): UpgradeState | null {
  const f = statePath(installRoot);
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

export function writeUpgradeState(installRoot: string, s: UpgradeState): void {
  const f = statePath(installRoot);
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

export function clearUpgradeState(installRoot: string): void {
  try {
    unlinkSync(statePath(installRoot));
  } catch {
    /* absent */
  }
}

/** The `current` symlink's target as written (e.g. 'versions/1.2.3'), or null. */
export function currentTarget(installRoot: string): string | null {
  try {
    return readlinkSync(join(installRoot, 'current'));
  } catch {
    return null;
  }
}

/** Points `current` at `target` atomically (a new symlink renamed over the old one). */
export function switchCurrent(installRoot: string, target: string): void {
  const link = join(installRoot, 'current');
  const tmp = join(dirname(link), `.${basename(link)}.${process.pid}.tmp`);
  try {
    unlinkSync(tmp);
  } catch {
    /* absent */
  }
  symlinkSync(target, tmp);
  renameSync(tmp, link);
  fsyncDir(installRoot);
}

/** The upgrade in flight whose new version has not passed health yet, if any (the supervisor's check). */
export function pendingUpgrade(installRoot: string): UpgradeState | null {
  const s = readUpgradeState(installRoot);
  return s && s.phase === 'restarting' ? s : null;
}

/** Points `current` back at the previous version and records why (the supervisor's side). Returns the new state. */
export function rollBack(installRoot: string, s: UpgradeState, detail: string): UpgradeState {
  switchCurrent(installRoot, s.previousTarget);
  const next: UpgradeState = { ...s, phase: 'rolled-back', detail, at: Date.now() };
  writeUpgradeState(installRoot, next);
  return next;
}
