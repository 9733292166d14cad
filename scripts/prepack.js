#!/usr/bin/env node
'use strict';
/**
 * The package's `prepack` script (npm runs it before `npm pack` and `npm publish`): refuses
 * to produce a tarball that lacks a prebuilt addon the README promises, or one whose file
 * is not a binary for the platform its path names.
 *
 * A pack without some prebuilds is allowed only when asked for, loudly:
 *   SYSLOCKS_ALLOW_MISSING_PREBUILDS=all                        a source-only pack
 *   SYSLOCKS_ALLOW_MISSING_PREBUILDS=darwin-x64,darwin-arm64    these targets may be missing
 * and the tarball is then announced as such on stderr. The release workflow names the
 * targets whose leg failed; the package tests use `all`.
 *
 * `npm pack --ignore-scripts` skips this check, as it skips every script.
 */
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');

/**
 * Every prebuild the README's platform table promises: target name, file, and what the
 * file must be (object format and machine, and for Linux the C library it links).
 */
const TARGETS = [
  {
    name: 'linux-x64-glibc',
    file: 'prebuilds/linux-x64/syslocks.glibc.node',
    format: 'elf',
    machine: 62,
    libc: 'glibc',
  },
  {
    name: 'linux-arm64-glibc',
    file: 'prebuilds/linux-arm64/syslocks.glibc.node',
    format: 'elf',
    machine: 183,
    libc: 'glibc',
  },
  { name: 'linux-x64-musl', file: 'prebuilds/linux-x64/syslocks.musl.node', format: 'elf', machine: 62, libc: 'musl' },
  {
    name: 'linux-arm64-musl',
    file: 'prebuilds/linux-arm64/syslocks.musl.node',
    format: 'elf',
    machine: 183,
    libc: 'musl',
  },
  { name: 'darwin-x64', file: 'prebuilds/darwin-x64/syslocks.node', format: 'macho', machine: 0x01000007 },
  { name: 'darwin-arm64', file: 'prebuilds/darwin-arm64/syslocks.node', format: 'macho', machine: 0x0100000c },
  { name: 'win32-x64', file: 'prebuilds/win32-x64/syslocks.node', format: 'pe', machine: 0x8664 },
];

/** Why `bytes` is not the binary `target` promises, or undefined when it is. */
function mismatch(target, bytes) {
  if (target.format === 'elf') {
    // ELF: magic, EI_CLASS 2 (64-bit), EI_DATA 1 (little-endian), e_machine at 18 (elf(5)).
    if (bytes.readUInt32BE(0) !== 0x7f454c46) return 'not an ELF file';
    if (bytes[4] !== 2 || bytes[5] !== 1) return 'not a 64-bit little-endian ELF file';
    const machine = bytes.readUInt16LE(18);
    if (machine !== target.machine) return `ELF e_machine ${machine}, expected ${target.machine}`;
    // glibc's libc is the soname libc.so.6 with versioned symbols; musl's is libc.so.
    const glibc = bytes.includes('libc.so.6') && bytes.includes('GLIBC_');
    if (target.libc === 'glibc' && !glibc) return 'does not link glibc (libc.so.6)';
    if (target.libc === 'musl' && glibc) return 'links glibc (libc.so.6), not musl';
    return undefined;
  }
  if (target.format === 'macho') {
    // Mach-O 64: magic 0xfeedfacf stored little-endian, then cputype (<mach-o/loader.h>).
    if (bytes.readUInt32LE(0) !== 0xfeedfacf) return 'not a 64-bit Mach-O file';
    const cpu = bytes.readUInt32LE(4);
    return cpu === target.machine
      ? undefined
      : `Mach-O cputype 0x${cpu.toString(16)}, expected 0x${target.machine.toString(16)}`;
  }
  // PE: "MZ", e_lfanew at 0x3c, "PE\0\0", then the COFF header's Machine (PE format docs).
  if (bytes.readUInt16BE(0) !== 0x4d5a) return 'not a PE file';
  const pe = bytes.readUInt32LE(0x3c);
  if (pe + 6 > bytes.length || bytes.readUInt32BE(pe) !== 0x50450000) return 'no PE header';
  const machine = bytes.readUInt16LE(pe + 4);
  return machine === target.machine
    ? undefined
    : `PE Machine 0x${machine.toString(16)}, expected 0x${target.machine.toString(16)}`;
}

/** Missing and wrong prebuilds under `root`. */
function audit(root) {
  const missing = [];
  const wrong = [];
  for (const target of TARGETS) {
    const file = path.join(root, target.file);
    if (!fs.existsSync(file)) {
      missing.push(target);
      continue;
    }
    const why = mismatch(target, fs.readFileSync(file));
    if (why) wrong.push(`${target.file}: ${why}`);
  }
  return { missing, wrong };
}

function main() {
  const { missing, wrong } = audit(ROOT);
  if (wrong.length) {
    console.error(
      `syslocks prepack: refusing to pack binaries that are not what their path says:\n  ${wrong.join('\n  ')}`,
    );
    return 1;
  }
  if (!missing.length) {
    console.error(`syslocks prepack: all ${TARGETS.length} promised prebuilds present`);
    return 0;
  }
  const allowed = (process.env.SYSLOCKS_ALLOW_MISSING_PREBUILDS || '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const refused = allowed.includes('all') ? [] : missing.filter((t) => !allowed.includes(t.name));
  if (refused.length) {
    console.error(
      `syslocks prepack: refusing to pack: the README promises prebuilds this tarball would lack:\n` +
        refused.map((t) => `  ${t.name} (${t.file})`).join('\n') +
        '\n  Build them with `npm run release:build` (see docs/PACKAGING.md), or, for a tarball\n' +
        '  that builds from source on those targets, set SYSLOCKS_ALLOW_MISSING_PREBUILDS to\n' +
        `  the target names (comma-separated) or to 'all'.`,
    );
    return 1;
  }
  const banner = missing.length === TARGETS.length ? 'SOURCE-ONLY PACK' : 'PARTIAL PACK';
  console.error(
    `\n*** syslocks prepack: ${banner}: no prebuild for ${missing.map((t) => t.name).join(', ')}.\n` +
      '*** Installs on those targets compile from source (python3, make, a C++17 compiler).\n' +
      `*** Allowed by SYSLOCKS_ALLOW_MISSING_PREBUILDS=${process.env.SYSLOCKS_ALLOW_MISSING_PREBUILDS}.\n`,
  );
  return 0;
}

module.exports = { TARGETS, audit, mismatch };
if (require.main === module) process.exitCode = main();
