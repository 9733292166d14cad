#!/usr/bin/env node
'use strict';
/**
 * The package's `install` script: decides, at `npm install` time, between the prebuilt
 * binary shipped in `prebuilds/` and a build from source. It never downloads anything.
 *
 * 1. `SYSLOCKS_NATIVE` set and loadable: the loader (lib/native.ts) will use only that
 *    file, so nothing is built.
 * 2. A prebuild for this platform (the same candidates, in the same order, as
 *    lib/native.ts: `prebuilds/<platform>-<arch>/syslocks.<glibc|musl>.node` on Linux,
 *    then `prebuilds/<platform>-<arch>/syslocks.node`) loads in a child process: nothing
 *    is built.
 * 0. The package's own dependencies are not installed (npm linked a source directory
 *    without them, as npx does for a fresh clone) and it has no prebuilds: nothing can be
 *    built; say so and succeed (see dependenciesMissing).
 * 3. Otherwise (no prebuild for this platform, or it does not load here, or
 *    `npm install --build-from-source`): `node-gyp rebuild`, with the node-gyp this
 *    package depends on. A failed build fails the install, with a message saying why.
 *
 * Plain CommonJS with no dependencies but node-gyp, so it runs before anything is built.
 */
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const PLATFORM_ARCH = `${process.platform}-${process.arch}`;

function log(message) {
  console.log(`syslocks: ${message}`);
}

/** 'glibc' or 'musl' on Linux (prebuildify's --tag-libc names), else undefined. */
function libcTag() {
  if (process.platform !== 'linux') return undefined;
  const report = process.report && process.report.getReport();
  return report && report.header && report.header.glibcVersionRuntime ? 'glibc' : 'musl';
}

/** The prebuilt files lib/native.ts would try here, in its order, that exist. */
function prebuildCandidates() {
  const dir = path.join(ROOT, 'prebuilds', PLATFORM_ARCH);
  const libc = libcTag();
  const names = libc ? [`syslocks.${libc}.node`, 'syslocks.node'] : ['syslocks.node'];
  return names.map((name) => path.join(dir, name)).filter((file) => fs.existsSync(file));
}

/**
 * Loads the addon in a child process (a binary for the wrong libc or an older OS can
 * fail to load, and must not take this process down) and checks it is ours.
 */
function loads(file) {
  const probe =
    'const b = require(process.argv[1]);' +
    "if (typeof b.trySetLock !== 'function' || typeof b.kinds !== 'object') process.exit(3);";
  const result = spawnSync(process.execPath, ['-e', probe, file], {
    encoding: 'utf8',
    windowsHide: true,
    timeout: 60_000,
  });
  if (result.status === 0) return true;
  const why = (result.stderr || '')
    .trim()
    .split('\n')
    .find((line) => /Error/.test(line));
  log(`${path.relative(ROOT, file)} does not load here${why ? `: ${why.trim()}` : ''}`);
  return false;
}

/** npm passes `--build-from-source` to scripts as npm_config_build_from_source. */
function buildFromSourceRequested() {
  const flag = process.env.npm_config_build_from_source;
  return flag !== undefined && flag !== '' && flag !== 'false';
}

/** node-gyp's CLI: this package's own dependency, else the one npm bundles. */
function nodeGypCli() {
  try {
    return require.resolve('node-gyp/bin/node-gyp.js', { paths: [ROOT] });
  } catch {
    const bundled = process.env.npm_config_node_gyp;
    if (bundled && fs.existsSync(bundled)) return bundled;
    return undefined;
  }
}

function buildFromSource(reason) {
  log(`${reason}; building from source with node-gyp (needs python3, make and a C++ compiler)`);
  const cli = nodeGypCli();
  if (!cli) {
    console.error('syslocks: node-gyp not found (it is a dependency of syslocks; was it installed?)');
    return 1;
  }
  const result = spawnSync(process.execPath, [cli, 'rebuild'], {
    cwd: ROOT,
    stdio: 'inherit',
    windowsHide: true,
  });
  if (result.status === 0) return 0;
  console.error(
    `syslocks: building the native addon from source failed (${result.error ? result.error.message : `exit ${result.status}`}).\n` +
      `  No prebuilt binary ships for ${PLATFORM_ARCH}${libcTag() ? ` (${libcTag()})` : ''}, so one must be compiled here.\n` +
      '  Install python3, make and a C++17 compiler (build-essential; Xcode command line tools;\n' +
      '  Visual Studio Build Tools on Windows), then run `npm rebuild syslocks`;\n' +
      '  or set SYSLOCKS_NATIVE to the path of a syslocks.node built elsewhere.',
  );
  return result.status || 1;
}

/**
 * True when this package's own dependencies are not installed next to it. npm installs a
 * package's dependencies before its install script runs, except when it links a source
 * directory: `npx syslocks-lab` in a clone that has no node_modules yet links the clone
 * into npx's cache and runs this script there. A failure would leave that cache entry
 * broken for every later npx run (issue 11), and a build could not work anyway
 * (node-addon-api's headers are missing), so the build is left to the clone's own
 * `npm install`.
 */
function dependenciesMissing() {
  try {
    require.resolve('node-addon-api', { paths: [ROOT] });
    return false;
  } catch {
    return true;
  }
}

function main() {
  if (dependenciesMissing() && !fs.existsSync(path.join(ROOT, 'prebuilds'))) {
    console.error(
      `syslocks: the dependencies of ${ROOT} are not installed, so the native addon cannot be\n` +
        '  built here; run `npm install` in that directory.',
    );
    return 0;
  }
  const explicit = process.env.SYSLOCKS_NATIVE;
  if (explicit && fs.existsSync(explicit) && loads(path.resolve(explicit))) {
    log(`SYSLOCKS_NATIVE=${explicit} loads; nothing to build`);
    return 0;
  }
  if (buildFromSourceRequested()) return buildFromSource('--build-from-source requested');
  const candidates = prebuildCandidates();
  for (const file of candidates) {
    if (loads(file)) {
      log(`using prebuilt ${path.relative(ROOT, file).split(path.sep).join('/')}; nothing to build`);
      return 0;
    }
  }
  return buildFromSource(
    candidates.length
      ? `no prebuilt binary for ${PLATFORM_ARCH} loads here`
      : `no prebuilt binary ships for ${PLATFORM_ARCH}${libcTag() ? ` (${libcTag()})` : ''}`,
  );
}

process.exitCode = main();
