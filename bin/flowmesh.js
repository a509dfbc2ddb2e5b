#!/usr/bin/env node
'use strict';
// The one entry point. `master` and `node` run their app in this process; everything else is the CLI.
const path = require('node:path');
const fs = require('node:fs');

const dist = path.join(__dirname, '..', 'dist');
const entries = {
  master: 'apps/master/src/main.js',
  node: 'apps/collector-node/src/main.js',
};
const entry = path.join(dist, entries[process.argv[2]] || 'apps/cli/src/main.js');
if (!fs.existsSync(entry)) {
  process.stderr.write(`flowmesh: ${path.relative(process.cwd(), entry)} is missing: run \`npm run build\` first\n`);
  process.exit(1);
}
require(entry);
