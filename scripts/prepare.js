#!/usr/bin/env node
'use strict';
/**
 * The package's `prepare` script: compiles dist/ (the API and the `syslocks-lab` bin)
 * from lib/ with tsc. npm runs it after `npm install` / `npm ci` in a git checkout, and
 * when it installs the repository from a git URL or packs it (`npm pack`, `npm publish`),
 * so a clone works with the README's commands and a git install gets a package with
 * dist/. It does not run when the published tarball is installed (dist/ ships in it).
 *
 * Where TypeScript is not installed (`npm install --omit=dev` in a checkout, or npx
 * linking a clone that has no node_modules), it says so and leaves dist/ as it is.
 */
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const DIST_ENTRY = path.join(ROOT, 'dist', 'index.js');

let tsc;
try {
  tsc = require.resolve('typescript/bin/tsc', { paths: [ROOT] });
} catch {
  tsc = undefined;
}
if (!tsc) {
  // Not an error: npm also runs `prepare` when `npx syslocks-lab` in a clone that has no
  // node_modules yet links the clone into npx's cache, and a failure there leaves that
  // cache entry broken for every later npx run. The bin says how to build dist/ instead.
  console.error(
    fs.existsSync(DIST_ENTRY)
      ? 'syslocks: typescript is not installed; keeping the existing dist/'
      : 'syslocks: dist/ is not built and typescript (a devDependency) is not installed here;\n' +
          '  run `npm install` (with dev dependencies) in the repository to build it.',
  );
  process.exit(0);
}
const result = spawnSync(process.execPath, [tsc, '-p', path.join(ROOT, 'tsconfig.json')], {
  cwd: ROOT,
  stdio: 'inherit',
  windowsHide: true,
});
if (result.status !== 0) {
  console.error(`syslocks: tsc failed (${result.error ? result.error.message : `exit ${result.status}`})`);
  process.exit(result.status || 1);
}
// stderr: `npm pack --json` runs this script and its stdout must stay JSON.
console.error('syslocks: built dist/ (tsc)');
