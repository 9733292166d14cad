#!/usr/bin/env node
'use strict';
/**
 * `npm run prebuild`: builds this platform's prebuilt addon with prebuildify
 * (`--napi --strip --name syslocks`, plus `--tag-libc` on Linux) and checks that the
 * file it wrote is the one lib/native.ts and scripts/install.js look for:
 *
 *   prebuilds/linux-<arch>/syslocks.glibc.node | syslocks.musl.node
 *   prebuilds/<darwin|win32>-<arch>/syslocks.node
 *
 * `--tag-libc` is passed on Linux only: prebuildify would otherwise name the macOS and
 * Windows builds `syslocks.glibc.node` too. `--target` is the running Node.js: with
 * Node-API the binary is the same for every Node.js version, and prebuildify's default
 * target (the newest Node.js it knows) would make node-gyp fetch another version's
 * headers instead of using the ones already installed (npm's `nodedir`, node-gyp's
 * cache).
 *
 * Dev-only (not shipped). Note: npm also runs this before `npm run build` (pre-hook).
 */
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');

function libcTag() {
  if (process.platform !== 'linux') return undefined;
  return process.report.getReport().header.glibcVersionRuntime ? 'glibc' : 'musl';
}

const libc = libcTag();
const args = ['--napi', '--strip', '--name', 'syslocks', '--target', process.versions.node];
if (libc) args.push('--tag-libc');

const cli = require.resolve('prebuildify/bin.js', { paths: [ROOT] });
const run = spawnSync(process.execPath, [cli, ...args], { cwd: ROOT, stdio: 'inherit', windowsHide: true });
if (run.status !== 0) {
  console.error(`prebuild: prebuildify failed (${run.error ? run.error.message : `exit ${run.status}`})`);
  process.exit(run.status || 1);
}

const rel = `prebuilds/${process.platform}-${process.arch}/${libc ? `syslocks.${libc}.node` : 'syslocks.node'}`;
const file = path.join(ROOT, rel);
if (!fs.existsSync(file)) {
  const dir = path.dirname(file);
  const found = fs.existsSync(dir) ? fs.readdirSync(dir).join(', ') : 'nothing';
  console.error(`prebuild: expected ${rel}, found ${found} (lib/native.ts would not find it)`);
  process.exit(1);
}
const probe = spawnSync(process.execPath, ['-e', 'require(process.argv[1]).trySetLock.call || process.exit(3)', file], {
  stdio: 'inherit',
});
if (probe.status !== 0) {
  console.error(`prebuild: ${rel} was written but does not load`);
  process.exit(1);
}
console.log(`prebuild: wrote ${rel} (${fs.statSync(file).size} bytes), loads`);
