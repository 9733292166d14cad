// nativeLoadError (lib/load_error.ts) word by word for each way a load fails: a Deno
// permission refusal (by error name or by its "--allow-" text), an explicit
// SYSLOCKS_NATIVE, a prebuilt binary that is there but does not load, and none at all.
// test/package/load-error.test.ts makes real loads fail in fresh processes; this pins
// every message and code, which those only sample.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { nativeLoadError, type LoadAttempt } from '../dist/load_error.js';
import { useTempFiles } from './helpers.js';

const temp = useTempFiles();
const boom = new Error('boom');
const codeOf = (err: Error): string | undefined => (err as NodeJS.ErrnoException).code;

function attempt(over: Partial<LoadAttempt> = {}): LoadAttempt {
  return { platformArch: 'linux-x64', libc: 'glibc', explicit: undefined, root: '/nowhere', prebuilds: [], ...over };
}

const DENO_HINT =
  'Node-API addons need --allow-ffi, and syslocks also reads the C library type (--allow-sys), ' +
  'SYSLOCKS_NATIVE (--allow-env) and the addon file (--allow-read): ' +
  'run `deno run --allow-ffi --allow-sys --allow-env --allow-read ...` (or -A).';

describe('under Node', () => {
  it('an explicit SYSLOCKS_NATIVE names itself and the cause', () => {
    const err = nativeLoadError(boom, attempt({ explicit: '/x/syslocks.node' }));
    expect(err.message).toBe('syslocks: SYSLOCKS_NATIVE=/x/syslocks.node did not load: boom');
    expect(err).toMatchObject({ code: 'ERR_SYSLOCKS_NATIVE_MISSING', cause: boom });
  });

  it('a prebuilt binary that is there names the ones present, the platform and libc, and how to build', () => {
    const root = dirname(temp());
    mkdirSync(join(root, 'prebuilds', 'linux-x64'), { recursive: true });
    writeFileSync(join(root, 'prebuilds', 'linux-x64', 'syslocks.glibc.node'), '');
    const prebuilds = ['prebuilds/linux-x64/syslocks.glibc.node', 'prebuilds/linux-x64/syslocks.node'];
    const err = nativeLoadError(boom, attempt({ root, prebuilds }));
    expect(err.message).toBe(
      'syslocks: the prebuilt binary prebuilds/linux-x64/syslocks.glibc.node for linux-x64 (glibc) is there but did not load: boom\n' +
        'Build one for this machine with `npm rebuild syslocks --build-from-source` ' +
        '(needs python3, make and a C++ compiler), or point SYSLOCKS_NATIVE at a syslocks.node.',
    );
    expect(err).toMatchObject({ code: 'ERR_SYSLOCKS_NATIVE_MISSING', cause: boom });
  });

  it('no binary at all: the platform (no libc where unknown), how to build, then the cause', () => {
    const err = nativeLoadError('not an Error', attempt({ platformArch: 'darwin-arm64', libc: undefined }));
    expect(err.message).toBe(
      'syslocks: no prebuilt binary ships for darwin-arm64 and no local build exists. ' +
        'Build one with `npm rebuild syslocks` (needs python3, make and a C++ compiler), ' +
        'or point SYSLOCKS_NATIVE at a syslocks.node.\nnot an Error',
    );
    expect(err).toMatchObject({ code: 'ERR_SYSLOCKS_NATIVE_MISSING', cause: 'not an Error' });
  });

  it('an error named like a Deno refusal is not one outside Deno', () => {
    const e = Object.assign(new Error('Requires ffi access, run again with the --allow-ffi flag'), {
      name: 'NotCapable',
    });
    expect(codeOf(nativeLoadError(e, attempt()))).toBe('ERR_SYSLOCKS_NATIVE_MISSING');
  });
});

describe('under Deno (a stand-in globalThis.Deno)', () => {
  afterEach(() => void delete (globalThis as { Deno?: unknown }).Deno);
  const denied = (name: string, message: string): Error => Object.assign(new Error(message), { name });

  it.each([
    ['NotCapable (Deno 2)', denied('NotCapable', 'Requires ffi access to "x.node"')],
    ['PermissionDenied (Deno 1)', denied('PermissionDenied', 'Requires ffi access to "x.node"')],
    [
      'any error whose text asks for a flag',
      denied('Error', 'Requires env access, run again with the --allow-env flag'),
    ],
  ])('%s: ERR_SYSLOCKS_NATIVE_DENIED with the flags to pass', (_what, cause) => {
    (globalThis as { Deno?: unknown }).Deno = {};
    const err = nativeLoadError(cause, attempt());
    expect(err.message).toBe(`syslocks: Deno did not allow loading the native addon: ${cause.message}\n${DENO_HINT}`);
    expect(err).toMatchObject({ code: 'ERR_SYSLOCKS_NATIVE_DENIED', cause });
  });

  it('other errors, and causes that are not errors, are not refusals', () => {
    (globalThis as { Deno?: unknown }).Deno = {};
    expect(codeOf(nativeLoadError(denied('TypeError', 'no --allow here'), attempt()))).toBe(
      'ERR_SYSLOCKS_NATIVE_MISSING',
    );
    const lookAlike = { name: 'NotCapable', message: 'Requires ffi access' }; // not an Error
    expect(codeOf(nativeLoadError(lookAlike, attempt()))).toBe('ERR_SYSLOCKS_NATIVE_MISSING');
    expect(codeOf(nativeLoadError('--allow-ffi', attempt()))).toBe('ERR_SYSLOCKS_NATIVE_MISSING');
  });
});
