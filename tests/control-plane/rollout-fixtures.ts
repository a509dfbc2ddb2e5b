// Node packages built from this build's compiled output, shared by upgrade.int-spec.ts and rollout-e2e.int-spec.ts:
// a package dir holds bin/, dist/{apps,libs}, package.json with `version`, nx.json, node_modules -> the repo's.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '@flowmesh/testing';
import { buildDir } from './control-plane.int-fixture';

/** Stages a package dir for `version`; `broken`: the node main exits at once with code 3. */
export function stage(dir: string, version: string, broken = false): void {
  mkdirSync(join(dir, 'bin'), { recursive: true });
  cpSync(join(repoRoot, 'bin', 'flowmesh.js'), join(dir, 'bin', 'flowmesh.js'));
  for (const sub of ['apps', 'libs']) cpSync(join(buildDir, sub), join(dir, 'dist', sub), { recursive: true, filter: (src) => !src.includes('.int-spec') && !src.endsWith('.spec.js') });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'flowmesh', version, private: true }));
  writeFileSync(join(dir, 'nx.json'), '{}');
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'));
  if (broken) writeFileSync(join(dir, 'dist', 'apps', 'collector-node', 'src', 'main.js'), 'process.stderr.write("broken build\\n"); process.exit(3);\n');
}

/** tar.gz of `dir`'s contents written to `out`; returns the bytes. */
export function tarGz(dir: string, out: string): Buffer {
  execFileSync('tar', ['-czf', out, '-C', dir, '.']);
  return readFileSync(out);
}

/** Installs the package `tarball` as `<root>/versions/<version>` with `current` pointing at it (what an installer does). */
export function installFirst(root: string, version: string, tarball: string): void {
  mkdirSync(join(root, 'versions', version), { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', join(root, 'versions', version)]);
  symlinkSync(join('versions', version), join(root, 'current'));
}
