import { BadRequestException, ConflictException, Injectable, NotFoundException, PayloadTooLargeException } from '@nestjs/common';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Logger } from '@flowmesh/common';
import {
  compareVersions, manifestSignatureProblem, SEMVER_PATTERN, signPackageManifest, SignedPackageManifest, writeFileAtomic,
} from '@flowmesh/config-sync';
import { MasterConfig } from '../config/master.config';
import { ControlPlaneService } from '../control-plane/control-plane.service';

const GZIP_MAGIC = [0x1f, 0x8b];

/**
 * Node packages on the master's disk: `${dataDir}/master/packages/<version>/{flowmesh-node-<version>.tar.gz,
 * manifest.json}`. The manifest {version, sha256, size} is signed with the master's Ed25519 key when the package
 * is added; versions are immutable (the same bytes again are accepted, different bytes are 409).
 */
@Injectable()
export class PackageStore {
  readonly dir: string;
  private readonly log = new Logger('master.packages');

  constructor(
    private readonly config: MasterConfig,
    private readonly cp: ControlPlaneService,
  ) {
    this.dir = resolve(config.dataDir, 'master', 'packages');
  }

  /** Stores a tar.gz read from `source` as `version`. */
  async add(version: string, source: Readable): Promise<{ created: boolean; manifest: SignedPackageManifest }> {
    if (typeof version !== 'string' || !SEMVER_PATTERN.test(version)) {
      throw new BadRequestException([`version: must be a semantic version such as 1.2.3 (got ${JSON.stringify(version)})`]);
    }
    mkdirSync(this.dir, { recursive: true, mode: 0o755 });
    const tmp = join(this.dir, `.upload-${randomBytes(6).toString('hex')}`);
    const hash = createHash('sha256');
    const max = this.config.upgrades.maxPackageBytes;
    let size = 0;
    let head: Buffer = Buffer.alloc(0);
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length;
        if (size > max) return done(new PayloadTooLargeException(`package: larger than upgrades.maxPackageBytes (${max})`));
        if (head.length < 2) head = Buffer.concat([head, chunk.subarray(0, 2)]);
        hash.update(chunk);
        done(null, chunk);
      },
    });
    try {
      await pipeline(source, meter, createWriteStream(tmp, { mode: 0o644 }));
      if (size === 0) throw new BadRequestException(['body: empty package']);
      if (head[0] !== GZIP_MAGIC[0] || head[1] !== GZIP_MAGIC[1]) throw new BadRequestException(['body: not a gzip file (a node package is a .tar.gz)']);
      const sha256 = hash.digest('hex');
      const existing = this.get(version);
      if (existing) {
        if (existing.sha256 === sha256 && existing.size === size) return { created: false, manifest: existing };
        throw new ConflictException(`package ${version} exists with different content (sha256 ${existing.sha256}); versions are immutable`);
      }
      const vdir = join(this.dir, version);
      mkdirSync(vdir, { recursive: true, mode: 0o755 });
      renameSync(tmp, join(vdir, this.fileName(version)));
      const manifest = signPackageManifest({ version, sha256, size }, this.cp.keys);
      writeFileAtomic(join(vdir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
      this.log.info('package added', { version, sha256, size });
      return { created: true, manifest };
    } finally {
      rmSync(tmp, { force: true });
    }
  }

  /** Registers a tar.gz that is already on the master's disk (it is copied into the store). */
  async addFromPath(version: string, path: string): Promise<{ created: boolean; manifest: SignedPackageManifest }> {
    let st;
    try {
      st = statSync(path);
    } catch (e) {
      throw new BadRequestException([`path: cannot read ${JSON.stringify(path)}: ${(e as Error).message}`]);
    }
    if (!st.isFile()) throw new BadRequestException([`path: ${JSON.stringify(path)} is not a file`]);
    return this.add(version, createReadStream(path));
  }

  /** Every package, newest version first. A manifest whose signature does not verify is left out (and logged). */
  list(): SignedPackageManifest[] {
    if (!existsSync(this.dir)) return [];
    const out: SignedPackageManifest[] = [];
    for (const name of readdirSync(this.dir)) {
      if (!SEMVER_PATTERN.test(name)) continue;
      const m = this.get(name);
      if (m) out.push(m);
    }
    return out.sort((a, b) => compareVersions(b.version, a.version));
  }

  get(version: string): SignedPackageManifest | null {
    if (!SEMVER_PATTERN.test(version)) return null;
    const file = join(this.dir, version, 'manifest.json');
    if (!existsSync(file)) return null;
    const m = JSON.parse(readFileSync(file, 'utf8')) as SignedPackageManifest;
    const problem = manifestSignatureProblem(m, this.cp.keys.publicKey);
    if (problem || m.version !== version) {
      this.log.warn('package manifest refused', { version, problem: problem ?? 'version mismatch' });
      return null;
    }
    return m;
  }

  /** The package file and its manifest; 404 when absent. */
  open(version: string): { manifest: SignedPackageManifest; file: string } {
    const manifest = this.get(version);
    if (!manifest) throw new NotFoundException(`no package ${JSON.stringify(version)}`);
    return { manifest, file: join(this.dir, version, this.fileName(version)) };
  }

  private fileName(version: string): string {
    return `flowmesh-node-${version}.tar.gz`;
  }
}
