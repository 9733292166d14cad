// load-error.test.ts - when the addon does not load, the error says the real cause
// (issue 11): no binary at all; a prebuilt binary that is there but does not load; an
// explicit SYSLOCKS_NATIVE that does not load; Deno refusing the load for want of
// --allow-ffi. Each case loads a copy of dist/ from a temp package root in a fresh node
// process. Deno itself runs in `npm run release:check` (scripts/release-check.sh); here its
// refusal is reproduced in Node.js: a `Deno` global, and process.dlopen throwing what
// Deno 2 throws (a `NotCapable` error naming the flag).
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { run } from './npm-helpers';

const REPO = resolve(__dirname, '..', '..');
const PLATFORM_ARCH = `${process.platform}-${process.arch}`;

describe.skipIf(process.platform !== 'linux')('native load errors', () => {
  let root = '';
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'syslocks-loaderr-'));
    cpSync(join(REPO, 'dist'), join(root, 'dist'), { recursive: true });
    cpSync(join(REPO, 'package.json'), join(root, 'package.json'));
    symlinkSync(join(REPO, 'node_modules'), join(root, 'node_modules'), 'dir');
  });
  afterAll(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  /** Loads the copy of dist/ in a child; returns the thrown error's code and message. */
  function load(env: NodeJS.ProcessEnv = {}, preload?: string): { code: string; message: string } {
    const args = preload ? ['--require', preload] : [];
    const script =
      "try { require(process.argv[1]); console.log(JSON.stringify({ code: 'loaded', message: '' })); }" +
      ' catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }';
    const clean = { ...process.env };
    delete clean['SYSLOCKS_NATIVE'];
    const r = run(process.execPath, [...args, '-e', script, join(root, 'dist', 'index.js')], root, {
      ...clean,
      ...env,
    });
    return JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { code: string; message: string };
  }

  test('no binary anywhere: says no prebuilt binary ships for this platform', () => {
    const e = load();
    expect(e.code).toBe('ERR_SYSLOCKS_NATIVE_MISSING');
    expect(e.message).toContain(`no prebuilt binary ships for ${PLATFORM_ARCH}`);
  });

  test('an untagged prebuilt binary that does not load: named exactly, with platform and libc', () => {
    const dir = join(root, 'prebuilds', PLATFORM_ARCH);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'syslocks.node'), 'not an ELF file');
    try {
      const e = load();
      expect(e.message).toContain(
        `the prebuilt binary prebuilds/${PLATFORM_ARCH}/syslocks.node for ${PLATFORM_ARCH} (glibc) is there but did not load: `,
      );
    } finally {
      rmSync(join(root, 'prebuilds'), { recursive: true, force: true });
    }
  });

  test('a prebuilt binary that does not load: names it and the loader error', () => {
    const dir = join(root, 'prebuilds', PLATFORM_ARCH);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'syslocks.glibc.node'), 'not an ELF file');
    try {
      const e = load();
      expect(e.code).toBe('ERR_SYSLOCKS_NATIVE_MISSING');
      expect(e.message).toContain(`prebuilds/${PLATFORM_ARCH}/syslocks.glibc.node`);
      expect(e.message).toContain('is there but did not load');
      expect(e.message).not.toContain('no prebuilt binary ships');
    } finally {
      rmSync(join(root, 'prebuilds'), { recursive: true, force: true });
    }
  });

  test('SYSLOCKS_NATIVE that does not load: says so', () => {
    const e = load({ SYSLOCKS_NATIVE: join(root, 'nope.node') });
    expect(e.message).toContain(`SYSLOCKS_NATIVE=${join(root, 'nope.node')} did not load`);
  });

  test('Deno without --allow-ffi: says which permission, not "no prebuilt binary"', () => {
    const preload = join(root, 'fake-deno.cjs');
    writeFileSync(
      preload,
      [
        'globalThis.Deno = { version: { deno: "2" } };',
        'process.dlopen = (module, file) => {',
        '  const e = new Error(`Requires ffi access to "${file}", run again with the --allow-ffi flag`);',
        "  e.name = 'NotCapable';",
        '  throw e;',
        '};',
      ].join('\n'),
    );
    const e = load({ SYSLOCKS_NATIVE: join(REPO, 'build', 'Release', 'syslocks.node') }, preload);
    expect(e.code).toBe('ERR_SYSLOCKS_NATIVE_DENIED');
    expect(e.message).toContain('Deno did not allow loading the native addon');
    expect(e.message).toContain('--allow-ffi');
    expect(e.message).not.toContain('no prebuilt binary ships');
  });
});
