#!/usr/bin/env node
// Runs the bundled CLI (dist/cli.js, built by `npm run build`, which `npm install` runs via prepare).
const path = require('node:path');
const fs = require('node:fs');
const bundle = path.join(__dirname, '..', 'dist', 'cli.js');
if (!fs.existsSync(bundle)) {
  process.stderr.write('glassbox: dist/cli.js is missing; run `npm run build` first.\n');
  process.exit(1);
}
require(bundle)
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
