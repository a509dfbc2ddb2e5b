/** The module boundaries are rules that bind: each forbidden import below must be reported by `npm run lint`. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '@flowmesh/testing';

// Built by concatenation: the build's path-alias rewriter would otherwise rewrite these strings too.
const COMMON = ['@flowmesh', 'common'].join('/');
const decoderBans = ['@nestjs/common', 'ioredis', 'bullmq', '@clickhouse/client', 'prom-client', 'chdb', 'node:dgram', 'fs'];

// Probe files are real files (removed after): the boundary rule maps files to projects through the project graph.
const probes: Record<string, { file: string; code: string }> = {
  decoderImportsLib: { file: 'libs/flow-decoder/src/lib/probe-a', code: `import { Logger } from '${COMMON}';\nexport const x = Logger;\n` },
  libImportsApp: { file: 'libs/flow-gen/src/probe-b', code: "import * as m from '../../../apps/master/src/main';\nexport const y = m;\n" },
  appImportsLib: { file: 'apps/master/src/probe-c', code: `import { Logger } from '${COMMON}';\nexport const x = Logger;\n` },
  ...Object.fromEntries(
    decoderBans.map((pkg, i) => [`ban:${pkg}`, { file: `libs/flow-decoder/src/lib/probe-d${i}`, code: `import * as m from '${pkg}';\nexport const x = m;\n` }]),
  ),
};
const pathOf = (key: string) => join(repoRoot, `${probes[key].file}.${process.pid}.ts`);

describe('lint: module boundaries', () => {
  before(() => {
    for (const key of Object.keys(probes)) writeFileSync(pathOf(key), probes[key].code);
    // As `npm run lint` does: compute the project graph that @nx/enforce-module-boundaries reads.
    execFileSync(process.execPath, [join(repoRoot, 'node_modules', 'nx', 'bin', 'nx.js'), 'show', 'projects'], {
      cwd: repoRoot,
      env: { ...process.env, NX_DAEMON: 'false' },
      stdio: 'ignore',
    });
  });
  after(() => {
    for (const key of Object.keys(probes)) rmSync(pathOf(key), { force: true });
  });

  // The eslint CLI in its own process, exactly as `npm run lint` runs it.
  const lint = async (key: string) => {
    let out: string;
    try {
      out = execFileSync(process.execPath, [join(repoRoot, 'node_modules', 'eslint', 'bin', 'eslint.js'), '--format', 'json', pathOf(key)], {
        cwd: repoRoot,
        env: { ...process.env, NX_DAEMON: 'false' },
        encoding: 'utf8',
      });
    } catch (e) {
      out = (e as { stdout: string }).stdout;
    }
    const [result] = JSON.parse(out) as { messages: { ruleId: string; message: string }[] }[];
    return result.messages.map((m) => `${m.ruleId}: ${m.message}`);
  };

  test('flow-decoder may not import another project of the repo', async () => {
    const msgs = await lint('decoderImportsLib');
    assert.ok(msgs.some((m) => m.startsWith('@nx/enforce-module-boundaries')), msgs.join('\n'));
  });

  for (const pkg of decoderBans) {
    test(`flow-decoder may not import ${pkg}`, async () => {
      const msgs = await lint(`ban:${pkg}`);
      assert.ok(msgs.some((m) => m.startsWith('no-restricted-imports')), msgs.join('\n'));
    });
  }

  test('a library may not import an app', async () => {
    const msgs = await lint('libImportsApp');
    assert.ok(msgs.some((m) => m.startsWith('@nx/enforce-module-boundaries')), msgs.join('\n'));
  });

  test('an app may use a shared library (the rule is not simply "deny all")', async () => {
    assert.deepEqual(await lint('appImportsLib'), []);
  });
});
