#!/usr/bin/env node
'use strict';
/**
 * The `syslocks-lab` bin: runs dist/lab/cli.js as the main module.
 *
 * Why a committed file instead of pointing `bin` at dist/lab/cli.js: npm links a bin only
 * if its target exists when the package is installed. `npx syslocks-lab` in a clone that
 * has no dist/ yet installs the clone into npx's cache with no bin link, and npx reuses
 * that cache entry after dist/ is built, so the command stayed "not found" (issue 11).
 * This file always exists, so the link is always made; until dist/ is built it says how
 * to build it.
 */
const fs = require('node:fs');
const path = require('node:path');

const cli = path.join(__dirname, '..', 'dist', 'lab', 'cli.js');
if (!fs.existsSync(cli)) {
  process.stderr.write(
    `syslocks-lab: ${path.relative(process.cwd(), cli) || cli} is not built.\n` +
      'In a git checkout of syslocks, run `npm install` first (its prepare step compiles\n' +
      'dist/ from lib/ with tsc), then run `npx syslocks-lab` again.\n',
  );
  process.exit(1);
}
// Module.runMain loads process.argv[1] as the main module, exactly as `node cli.js` would
// (cli.js runs only when it is require.main).
process.argv[1] = cli;
require('node:module').runMain();
