import { execFile } from 'node:child_process';
import type { KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Health, Logger } from '@flowmesh/common';
import {
  manifestSignatureProblem, packageBytesProblem, SignedPackageManifest, upgradeDecision, UpgradeFailureReason, UpgradeJobPayload, UpgradeJobResult,
} from '@flowmesh/config-sync';
import { currentTarget, readUpgradeState, RESTART_EXIT_CODE, switchCurrent, UpgradeState, writeUpgradeState } from '@flowmesh/config-sync';

const run = promisify(execFile);

/** An upgrade that must not be retried; the message starts with `<reason>: `. */
export class UpgradeRefusedError extends Error {
  constructor(
    readonly reason: UpgradeFailureReason,
    detail: string,
  ) {
    super(`${reason}: ${detail}`);
  }
}

export interface UpgradeServiceOptions {
  installRoot?: string;
  /** The running software version. */
  version: string;
  /** The master's key (manifests are signed with the config-signing key); null = none known yet. */
  masterKey: () => KeyObject | null;
  /** Base URL of the master's API (the job's downloadPath is relative to it). */
  masterUrl?: string;
  /** Bearer token of this node. */
  nodeToken?: () => string | undefined;
  healthDeadlineMs: number;
  maxPackageBytes: number;
  /** This node's readiness (the new version must report non-error). */
  readiness: () => Health;
  /** Stops the node and exits with RESTART_EXIT_CODE (the supervisor restarts it from `current`). */
  requestRestart: (exitCode: number) => void;
  logger: Logger;
}

/** What the job handler should do after `run`. */
export type UpgradeStep = { done: UpgradeJobResult } | { restart: true };

/**
 * Installs a signed node package side by side and restarts into it (see upgrade-state.ts in @flowmesh/config-sync for the protocol with
 * the supervisor). `run` is idempotent per job id: a job delivered again after the restart finds the state file
 * and finishes (healthy → result; rolled back → UpgradeRefusedError('rolled-back')).
 */
export class UpgradeService {
  private restarting = false;

  constructor(private readonly o: UpgradeServiceOptions) {}

  /** True once this process asked to be restarted (a job seen again before the exit is only put back). */
  get restartRequested(): boolean {
    return this.restarting;
  }

  async run(jobId: string, p: UpgradeJobPayload): Promise<UpgradeStep> {
    if (this.restarting) return { restart: true };
    const root = this.o.installRoot ? resolve(this.o.installRoot) : undefined;
    const state = root ? readUpgradeState(root) : null;
    if (root && state && state.jobId === jobId) return this.resume(root, state);

    const decision = upgradeDecision(this.o.version, p.version, p.force === true);
    if (decision.kind === 'same' && !decision.allowed) return { done: { status: 'unchanged', version: p.version, previousVersion: this.o.version } };
    if (!decision.allowed) throw new UpgradeRefusedError(decision.kind === 'downgrade' ? 'downgrade' : 'install', decision.reason);

    const key = this.o.masterKey();
    if (!key) throw new UpgradeRefusedError('signature', 'no master public key configured or pinned on this node');
    const problem = manifestSignatureProblem(p.manifest, key);
    if (problem) throw new UpgradeRefusedError('signature', problem);
    if (p.manifest.version !== p.version) throw new UpgradeRefusedError('signature', `manifest is for ${p.manifest.version}, the job asks for ${p.version}`);
    if (p.manifest.size > this.o.maxPackageBytes) throw new UpgradeRefusedError('download', `package of ${p.manifest.size} bytes exceeds controlPlane.upgrade.maxPackageBytes`);
    if (!root) throw new UpgradeRefusedError('install', 'controlPlane.upgrade.installRoot is not set on this node');
    const previousTarget = currentTarget(root);
    if (!previousTarget) throw new UpgradeRefusedError('install', `${join(root, 'current')} is not a symlink to an installed version`);

    const data = await this.download(p);
    const bad = packageBytesProblem(p.manifest, data);
    if (bad) throw new UpgradeRefusedError('checksum', bad);
    const newTarget = await this.install(root, p.manifest, data);

    const deadline = Date.now() + (p.healthDeadlineMs ?? this.o.healthDeadlineMs);
    writeUpgradeState(root, { jobId, from: this.o.version, to: p.version, previousTarget, newTarget, phase: 'restarting', deadline, at: Date.now() });
    switchCurrent(root, newTarget);
    this.o.logger.info('upgrade installed; restarting into it', { from: this.o.version, to: p.version, deadline: new Date(deadline).toISOString() });
    return { restart: true };
  }

  /** After run() returned {restart}: the job has been put back; stop and let the supervisor start `current`. */
  restart(): void {
    if (this.restarting) return;
    this.restarting = true;
    this.o.requestRestart(RESTART_EXIT_CODE);
  }

  private async resume(root: string, s: UpgradeState): Promise<UpgradeStep> {
    if (s.phase === 'rolled-back' || this.o.version !== s.to) {
      const why = s.detail ?? `version ${s.to} did not come up (running ${this.o.version})`;
      throw new UpgradeRefusedError('rolled-back', why);
    }
    if (s.phase === 'healthy') return { done: { status: 'upgraded', version: s.to, previousVersion: s.from } };
    // We are the new version: pass health before the deadline or hand back to the supervisor.
    while (Date.now() < s.deadline) {
      if (this.o.readiness().status !== 'error') {
        writeUpgradeState(root, { ...s, phase: 'healthy', at: Date.now() });
        this.o.logger.info('upgrade healthy', { from: s.from, to: s.to });
        return { done: { status: 'upgraded', version: s.to, previousVersion: s.from } };
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    const h = this.o.readiness();
    writeUpgradeState(root, { ...s, detail: `version ${s.to} not healthy within the deadline: ${h.reason ?? h.status}`, at: Date.now() });
    this.o.logger.error('upgrade not healthy in time; exiting so the supervisor rolls back', { to: s.to, reason: h.reason });
    this.restarting = true;
    this.o.requestRestart(1);
    return { restart: true };
  }

  private async download(p: UpgradeJobPayload): Promise<Buffer> {
    if (!this.o.masterUrl) throw new UpgradeRefusedError('download', 'controlPlane.masterUrl is not set on this node');
    const url = new URL(p.downloadPath, this.o.masterUrl).toString();
    const token = this.o.nodeToken?.();
    let res: Response;
    try {
      res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(300_000) });
    } catch (e) {
      throw new UpgradeRefusedError('download', `${url}: ${(e as Error).message}`);
    }
    if (!res.ok) throw new UpgradeRefusedError('download', `${url}: HTTP ${res.status}`);
    const len = Number(res.headers.get('content-length') ?? '0');
    if (len > this.o.maxPackageBytes) throw new UpgradeRefusedError('download', `${url}: ${len} bytes exceeds the limit`);
    const buf = Buffer.from(await res.arrayBuffer());
    if (buf.length > this.o.maxPackageBytes) throw new UpgradeRefusedError('download', `${url}: ${buf.length} bytes exceeds the limit`);
    return buf;
  }

  /** Extracts into versions/<version> (via a temp dir renamed into place); returns the relative target. */
  private async install(root: string, m: SignedPackageManifest, data: Buffer): Promise<string> {
    const versions = join(root, 'versions');
    const rel = join('versions', m.version);
    const dir = join(root, rel);
    const marker = join(dir, '.flowmesh-package.sha256');
    if (existsSync(marker) && readFileSync(marker, 'utf8').trim() === m.sha256) return rel;
    mkdirSync(versions, { recursive: true });
    const tmp = join(versions, `.tmp-${m.version}-${process.pid}`);
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp);
    const pkg = join(versions, `.pkg-${m.version}-${process.pid}.tar.gz`);
    try {
      writeFileSync(pkg, data);
      await run('tar', ['-xzf', pkg, '-C', tmp, '--no-same-owner'], { timeout: 300_000 });
      if (!existsSync(join(tmp, 'bin', 'flowmesh.js'))) throw new Error('package has no bin/flowmesh.js at its top level');
      const pj = JSON.parse(readFileSync(join(tmp, 'package.json'), 'utf8')) as { version?: string };
      if (pj.version !== m.version) throw new Error(`package.json says ${pj.version}, the manifest ${m.version}`);
      writeFileSync(join(tmp, '.flowmesh-package.sha256'), m.sha256);
      if (currentTarget(root) === rel) throw new Error(`${rel} is the running version`);
      rmSync(dir, { recursive: true, force: true });
      renameSync(tmp, dir);
    } catch (e) {
      rmSync(tmp, { recursive: true, force: true });
      throw new UpgradeRefusedError('install', (e as Error).message);
    } finally {
      rmSync(pkg, { force: true });
    }
    return rel;
  }
}
