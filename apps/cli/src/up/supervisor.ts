import { ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, WriteStream } from 'node:fs';
import { join } from 'node:path';
import { Logger } from '@flowmesh/common';

export interface ChildSpec {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** Restart when it exits on its own (not for one-shot helpers). */
  restart: boolean;
}

interface Running {
  spec: ChildSpec;
  child?: ChildProcess;
  restarts: number[];
  log: WriteStream;
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
    const r: Running = { spec, restarts: [], log: createWriteStream(join(this.logDir, `${spec.name}.log`), { flags: 'a' }) };
    this.running.push(r);
    this.launch(r);
    return r.child!;
  }

  pids(): Record<string, number | undefined> {
    return Object.fromEntries(this.running.map((r) => [r.spec.name, r.child?.pid]));
  }

  private launch(r: Running): void {
    const child = spawn(r.spec.command, r.spec.args, { env: r.spec.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    r.child = child;
    child.stdout?.pipe(r.log, { end: false });
    child.stderr?.pipe(r.log, { end: false });
    child.on('error', (e) => this.log.error('could not start process', { name: r.spec.name, error: e.message }));
    child.on('exit', (code, signal) => {
      if (this.stopping) return;
      this.log.warn('process exited', { name: r.spec.name, pid: child.pid, code, signal });
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

  async stop(graceMs = 15_000): Promise<void> {
    this.stopping = true;
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
