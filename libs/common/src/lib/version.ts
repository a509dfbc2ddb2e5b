import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The repository (or install) root: the nearest directory above `from` holding nx.json. */
export function findRepoRoot(from: string = __dirname): string {
  let dir = from;
  for (;;) {
    if (existsSync(join(dir, 'nx.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`no nx.json above ${from}`);
    dir = up;
  }
}

let cached: string | undefined;
/** The software version of this build (root package.json, or FLOWMESH_VERSION_OVERRIDE for upgrade tests). */
export function softwareVersion(): string {
  if (process.env.FLOWMESH_VERSION_OVERRIDE) return process.env.FLOWMESH_VERSION_OVERRIDE;
  if (!cached) cached = (JSON.parse(readFileSync(join(findRepoRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  return cached;
}
