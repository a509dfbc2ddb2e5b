import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import nx from '@nx/eslint-plugin';

const frameworkAndIo = [
  '@nestjs/*', 'ioredis', 'bullmq', '@clickhouse/*', 'prom-client', 'chdb', 'express',
  'fs', 'node:fs', 'fs/promises', 'node:fs/promises', 'dgram', 'node:dgram', 'net', 'node:net',
  'http', 'node:http', 'child_process', 'node:child_process',
];

export default tseslint.config(
  { ignores: ['**/node_modules/**', 'dist/**', '.nx/**', 'tmp/**', 'data/**', 'benchmarks/results/**', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@nx/enforce-module-boundaries': ['error', {
        enforceBuildableLibDependency: false,
        allow: [],
        banTransitiveDependencies: false,
        depConstraints: [
          { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
          { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
          { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:lib', 'type:e2e'] },
          { sourceTag: 'type:bench', onlyDependOnLibsWithTags: ['type:lib', 'type:bench'] },
          { sourceTag: 'scope:decoder', onlyDependOnLibsWithTags: ['scope:decoder'] },
          { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared', 'scope:decoder'] },
          { sourceTag: 'scope:collector', onlyDependOnLibsWithTags: ['scope:collector', 'scope:shared', 'scope:decoder'] },
          { sourceTag: 'scope:master', onlyDependOnLibsWithTags: ['scope:master', 'scope:shared', 'scope:decoder'] },
          { sourceTag: 'scope:cli', onlyDependOnLibsWithTags: ['scope:cli', 'scope:shared', 'scope:decoder'] },
          { sourceTag: 'scope:e2e', onlyDependOnLibsWithTags: ['scope:e2e', 'scope:shared', 'scope:decoder'] },
          { sourceTag: 'scope:bench', onlyDependOnLibsWithTags: ['scope:bench', 'scope:shared', 'scope:decoder'] },
        ],
      }],
    },
  },
  {
    // The decoder is pure: bytes in, records out. No framework, no I/O.
    files: ['libs/flow-decoder/src/**/*.ts'],
    ignores: ['libs/flow-decoder/src/**/*.spec.ts', 'libs/flow-decoder/src/**/*.bench.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: frameworkAndIo.map((group) => ({ group: [group], message: 'flow-decoder takes bytes and returns records: no framework, no I/O.' })) }],
    },
  },
);
