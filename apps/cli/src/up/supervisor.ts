import { ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, WriteStream } from 'node:fs';
import { join } from 'node:path';
import { Logger } from '@flowmesh/common';
import { pendingUpgrade, RESTART_EXIT_CODE, rollBack } from '@flowmesh/config-sync';

export interface ChildSpec {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** Restart when it exits on its own (not for one-shot helpers). */
  restart: boolean;
  /**
   * Side-by-side installs: `command` (node) runs `<installRoot>/current/bin/flowmesh.js` followed by `args`, so a
   * restart picks up the version `current` points at. Exit code 75 (RESTART_EXIT_CODE) restarts at once (not
   * counted as a failure), and an upgrade that does not pass health is rolled back (upgrade-state in @flowmesh/config-sync).
   */
  installRoot?: string;
}

interface Running {
  spec: ChildSpec;
  child?: ChildProcess;
  restarts: number[];
  log: WriteStream;
  startedAt: number;
  guard?: NodeJS.Timeout;
}

/**
 * Starts OS processes, keeps them running (restarts with a per-minute cap), and on stop sends SIGTERM to
 * each, in reverse start order, waiting for it to exit (SIGKILL after the grace period). Ends only the
 * processes it started, by their PID.
 */
export class Supervisor {
  private readonly running: Running[] = [];
  private stopping = false;

  constructor(
    private readonly logDir: string,
    private readonly log: Logger,
    private readonly maxRestartsPerMinute: number,
    private readonly onGiveUp: (name: string) => void,
  ) {
    mkdirSync(logDir, { recursive: true });
  }

  start(spec: ChildSpec): ChildProcess {
    const r: Running = { spec, restarts: [], startedAt: 0, log: createWriteStream(join(this.logDir, `${spec.name}.log`), { flags: 'a' }) };
    this.running.push(r);
    this.launch(r);
    return r.child!;
  }

  pids(): Record<string, number | undefined> {
    return Object.fromEntries(this.running.map((r) => [r.spec.name, r.child?.pid]));
  }

  private launch(r: Running): void {
    const args = r.spec.installRoot ? [join(r.spec.installRoot, 'current', 'bin', 'flowmesh.js'), ...r.spec.args] : r.spec.args;
    const child = spawn(r.spec.command, args, { env: r.spec.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    r.child = child;
    r.startedAt = Date.now();
    if (r.spec.installRoot && !r.guard) {
      r.guard = setInterval(() => this.checkDeadline(r), 250);
      r.guard.unref();
    }
    child.stdout?.pipe(r.log, { end: false });
    child.stderr?.pipe(r.log, { end: false });
    child.on('error', (e) => this.log.error('could not start process', { name: r.spec.name, error: e.message }));
    child.on('exit', (code, signal) => {
      if (this.stopping || r.child !== child) return;
      if (r.spec.installRoot && code === RESTART_EXIT_CODE) {
        this.log.info('process asked to be restarted', { name: r.spec.name, pid: child.pid });
        this.launch(r);
        return;
      }
      this.log.warn('process exited', { name: r.spec.name, pid: child.pid, code, signal });
      if (r.spec.installRoot) {
        const s = pendingUpgrade(r.spec.installRoot);
        if (s && r.startedAt >= s.at) {
          this.rollBackAndRestart(r, `version ${s.to} exited (code ${code}, signal ${signal}) before passing health`);
          return;
        }
      }
      if (!r.spec.restart) return;
      const now = Date.now();
      r.restarts = r.restarts.filter((t) => now - t < 60_000);
      if (r.restarts.length >= this.maxRestartsPerMinute) {
        this.log.error('process keeps exiting; giving up', { name: r.spec.name, log: join(this.logDir, `${r.spec.name}.log`) });
        this.onGiveUp(r.spec.name);
        return;
      }
      r.restarts.push(now);
      setTimeout(() => !this.stopping && this.launch(r), 1000).unref();
    });
  }

  /** Pending upgrade past its deadline: stop the new version, switch back, start the previous one. */
  private checkDeadline(r: Running): void {
    if (this.stopping || !r.spec.installRoot) return;
    const s = pendingUpgrade(r.spec.installRoot);
    if (!s || Date.now() <= s.deadline || r.startedAt < s.at) return;
    const child = r.child;
    const detail = `version ${s.to} not healthy within the deadline`;
    r.child = undefined;
    if (child && child.exitCode === null && child.signalCode === null) {
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.once('exit', () => {
        clearTimeout(timer);
        this.rollBackAndRestart(r, detail);
      });
      child.kill('SIGTERM');
    } else this.rollBackAndRestart(r, detail);
  }

  private rollBackAndRestart(r: Running, detail: string): void {
    const s = r.spec.installRoot ? pendingUpgrade(r.spec.installRoot) : null;
    if (!s || !r.spec.installRoot) return;
    rollBack(r.spec.installRoot, s, detail);
    this.log.error('upgrade rolled back', { name: r.spec.name, from: s.to, to: s.from, reason: detail });
    if (!this.stopping) this.launch(r);
  }

  async stop(graceMs = 15_000): Promise<void> {
    this.stopping = true;
    for (const r of this.running) if (r.guard) clearInterval(r.guard);
    for (const r of [...this.running].reverse()) {
      const child = r.child;
      if (child && child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      r.log.end();
    }
  }
}
