// pack.test.ts - the npm tarball, end to end, as a user gets it (issue 5).
//
// 1. `npm pack --dry-run --json` in the repo: only what users need (the `files`
//    whitelist), no tests, no build/ intermediates, no caches, no maps.
// 2. The tarball is made from a staging copy of exactly those files, with a fresh `tsc`
//    output as dist/ and, when the repo has none for this platform, a prebuild made there
//    by `npm run prebuild`. Nothing in the work tree is written (other tests load
//    build/Release and prebuilds/ meanwhile).
// 3. The tarball is installed into a fresh temp project by an npm whose PATH holds only
//    node, npm, npx and sh: no g++/cc/make/python3, so a build from source would fail.
//    The install must compile nothing; ESM import, CommonJS require, the package's bin
//    and `tsc --noEmit` against the shipped .d.ts must all work.
//
// POSIX only (the no-compiler PATH is made of symlinks and sh); Windows CI skips it.
// SYSLOCKS_KEEP_PACK_TMP=1 keeps the temp dir and prints where it is.
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { must, npm, npmCliJs, run, SLOW, type Ran } from './npm-helpers';

const REPO = resolve(__dirname, '..', '..');
const TSC = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
const PLATFORM_ARCH = `${process.platform}-${process.arch}`;

function libcTag(): string | undefined {
  if (process.platform !== 'linux') return undefined;
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return report?.header?.glibcVersionRuntime ? 'glibc' : 'musl';
}
const LIBC = libcTag();
/** The prebuild lib/native.ts tries first here. */
const PREBUILD = `prebuilds/${PLATFORM_ARCH}/${LIBC ? `syslocks.${LIBC}.node` : 'syslocks.node'}`;

interface PackFile {
  path: string;
  size: number;
}
interface PackResult {
  filename: string;
  size: number;
  unpackedSize: number;
  entryCount: number;
  files: PackFile[];
}

function packJson(r: Ran): PackResult {
  // npm prints warnings on stderr; stdout is the JSON array alone.
  const parsed = JSON.parse(r.stdout) as PackResult[];
  const first = parsed[0];
  if (!first) throw new Error(`npm pack --json printed no package:\n${r.stdout}`);
  return first;
}

/** Loads an addon in a child process: true when it loads and is ours. */
function addonLoads(file: string): boolean {
  if (!existsSync(file)) return false;
  const probe = "typeof require(process.argv[1]).trySetLock === 'function' || process.exit(3)";
  return run(process.execPath, ['-e', probe, file], REPO).status === 0;
}

/** What a packed path may be: the `files` whitelist, written as patterns. */
const ALLOWED = [
  /^package\.json$/,
  /^(README\.md|LICENSE|CHANGELOG\.md)$/,
  /^binding\.gyp$/,
  /^scripts\/install\.js$/,
  /^bin\/syslocks-lab\.js$/,
  /^dist\/.+\.(js|d\.ts)$/,
  /^prebuilds\/[^/]+\/syslocks(\.(glibc|musl))?\.node$/,
  /^native\/[^/]+\.(cc|h)$/,
];
/** What must never be packed, named so a failure says what leaked. */
const FORBIDDEN: Array<[string, RegExp]> = [
  ['tests', /(^|\/)(test|tests|__tests__)\/|\.(test|spec)\.[cm]?[jt]s$/],
  ['build/ intermediates', /^build\/|\.(o|obj|a|lib|mk|gypi)$|(^|\/)Makefile$/],
  ['node_modules', /(^|\/)node_modules\//],
  ['source maps', /\.map$/],
  ['caches', /(^|\/)\.(cache|wine-work|npm|tsbuildinfo)(\/|$)|\.tsbuildinfo$|(^|\/)coverage\//],
  ['tarballs', /\.tgz$/],
  ['dev files', /^(\.github|\.ci|bench|docs|examples|lib)\/|^scripts\/(?!install\.js$)|^tsconfig\.json$/],
];

function leaks(paths: string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    for (const [what, re] of FORBIDDEN) if (re.test(p)) out.push(`${what}: ${p}`);
    if (!ALLOWED.some((re) => re.test(p))) out.push(`not in the whitelist: ${p}`);
  }
  return out;
}

const posix = process.platform !== 'win32';

describe.skipIf(!posix)('npm tarball', { timeout: SLOW }, () => {
  let work = '';
  let repoList: PackResult;
  let packed: PackResult;
  let tarball = '';
  let app = '';
  let installed = '';
  let noCompilerEnv: NodeJS.ProcessEnv = {};
  let install: Ran | undefined;
  let tarballNoPrebuild = '';
  const figures: Record<string, string | number> = {};

  beforeAll(() => {
    const t0 = performance.now();
    work = mkdtempSync(join(tmpdir(), 'syslocks-pack-'));

    // 1. What `npm pack` takes from the repo as it is.
    repoList = packJson(
      must(npm(['pack', '--dry-run', '--json', '--ignore-scripts'], REPO), 'npm pack --dry-run (repo)'),
    );

    // 2. A staging copy of exactly those files, with dist/ compiled fresh from lib/.
    const stage = join(work, 'stage');
    for (const f of repoList.files) {
      if (f.path.startsWith('dist/')) continue;
      mkdirSync(dirname(join(stage, f.path)), { recursive: true });
      copyFileSync(join(REPO, f.path), join(stage, f.path));
    }
    must(run(process.execPath, [TSC, '-p', join(REPO, 'tsconfig.json'), '--outDir', join(stage, 'dist')], REPO), 'tsc');

    // 3. This platform's prebuild: the repo's if it has one that loads, else one built
    //    in the staging copy by the same `npm run prebuild` a release runs.
    if (!addonLoads(join(stage, PREBUILD))) {
      mkdirSync(join(stage, 'scripts'), { recursive: true });
      copyFileSync(join(REPO, 'scripts', 'prebuild.js'), join(stage, 'scripts', 'prebuild.js'));
      symlinkSync(join(REPO, 'node_modules'), join(stage, 'node_modules'), 'dir');
      const built = must(npm(['run', 'prebuild'], stage), 'npm run prebuild (staging copy)');
      figures['prebuild ms'] = built.ms;
      for (const p of ['build', 'node_modules', join('scripts', 'prebuild.js')]) {
        rmSync(join(stage, p), { recursive: true, force: true });
      }
    }

    // 4. The tarball.
    packed = packJson(must(npm(['pack', '--json', '--ignore-scripts', '--pack-destination', work], stage), 'npm pack'));
    tarball = join(work, packed.filename);
    figures['tarball bytes'] = statSync(tarball).size;
    figures['tarball files'] = packed.entryCount;
    figures['unpacked bytes'] = packed.unpackedSize;
    // The same package for a platform it has no prebuild for (this one, minus its own).
    rmSync(join(stage, 'prebuilds', PLATFORM_ARCH), { recursive: true, force: true });
    mkdirSync(join(work, 'no-prebuild'));
    const other = packJson(
      must(
        npm(['pack', '--json', '--ignore-scripts', '--pack-destination', join(work, 'no-prebuild')], stage),
        'npm pack (no prebuild)',
      ),
    );
    tarballNoPrebuild = join(work, 'no-prebuild', other.filename);

    // 5. A PATH with node, npm, npx and sh only: no compiler, make or python.
    const bin = join(work, 'bin');
    mkdirSync(bin);
    symlinkSync(process.execPath, join(bin, 'node'));
    symlinkSync('/bin/sh', join(bin, 'sh'));
    const npmCli = npmCliJs();
    for (const [name, cli] of [
      ['npm', npmCli],
      ['npx', join(dirname(npmCli), 'npx-cli.js')],
    ] as const) {
      writeFileSync(join(bin, name), `#!/bin/sh\nexec "${process.execPath}" "${cli}" "$@"\n`);
      chmodSync(join(bin, name), 0o755);
    }
    noCompilerEnv = { PATH: bin, HOME: process.env['HOME'], TMPDIR: process.env['TMPDIR'] ?? tmpdir() };
    for (const key of ['USER', 'LANG', 'npm_config_cache', 'npm_config_userconfig']) {
      if (process.env[key]) noCompilerEnv[key] = process.env[key];
    }

    // 6. A fresh project that installs the tarball.
    app = join(work, 'app');
    mkdirSync(app);
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({ name: 'syslocks-pack-app', version: '0.0.0', private: true, type: 'module' }, null, 2),
    );
    install = npm(
      ['install', tarball, '--prefer-offline', '--no-audit', '--no-fund', '--foreground-scripts'],
      app,
      noCompilerEnv,
    );
    figures['install ms'] = install.ms;
    installed = join(app, 'node_modules', 'syslocks');
    figures['setup ms'] = Math.round(performance.now() - t0);
  }, SLOW);

  afterAll(() => {
    console.log(
      `[pack] ${PREBUILD}; ${Object.entries(figures)
        .map(([k, v]) => `${k}: ${v}`)
        .join(', ')}`,
    );
    if (!work) return;
    if (process.env['SYSLOCKS_KEEP_PACK_TMP']) console.log(`[pack] kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  });

  test('npm pack --dry-run in the repo lists only what users need', () => {
    const paths = repoList.files.map((f) => f.path);
    expect(leaks(paths)).toEqual([]);
    for (const p of ['package.json', 'LICENSE', 'binding.gyp', 'scripts/install.js', 'native/addon.cc']) {
      expect(paths).toContain(p);
    }
    for (const p of ['README.md', 'CHANGELOG.md']) if (existsSync(join(REPO, p))) expect(paths).toContain(p);
  });

  test("the tarball holds the API, its types, the native sources and this platform's prebuild", () => {
    const paths = packed.files.map((f) => f.path);
    expect(leaks(paths)).toEqual([]);
    for (const p of [
      'dist/index.js',
      'dist/index.d.ts',
      'dist/native.js',
      'scripts/install.js',
      'binding.gyp',
      PREBUILD,
    ]) {
      expect(paths).toContain(p);
    }
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { bin?: Record<string, string> };
    for (const target of Object.values(pkg.bin ?? {})) {
      if (existsSync(join(REPO, 'lib', target.replace(/^dist\//, '').replace(/\.js$/, '.ts')))) {
        expect(paths).toContain(target.replace(/^\.\//, ''));
      }
    }
  });

  test('the install runs with no compiler on PATH and compiles nothing', () => {
    // The PATH really hides the toolchain: a build from source could not run.
    const probe = run(
      '/bin/sh',
      ['-c', 'for t in g++ c++ gcc cc clang make python3 python; do command -v $t && exit 0; done; exit 1'],
      app,
      noCompilerEnv,
    );
    expect(probe.stdout.trim()).toBe('');
    expect(probe.status).toBe(1);

    expect(install, 'install ran').toBeDefined();
    must(install!, 'npm install <tarball> (no compiler on PATH)');
    const out = install!.stdout + install!.stderr;
    expect(out).toContain(`syslocks: using prebuilt ${PREBUILD}`);
    expect(out).not.toMatch(/gyp info|node-gyp rebuild|building from source/);
    expect(existsSync(join(installed, 'build'))).toBe(false);
    expect(existsSync(join(installed, PREBUILD))).toBe(true);
  });

  /** A fresh project with syslocks installed from `tgz` under `env`. */
  function installInto(
    name: string,
    tgz: string,
    env: NodeJS.ProcessEnv,
    flags: string[] = [],
  ): { dir: string; r: Ran } {
    const dir = join(work, name);
    mkdirSync(dir);
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({ name: `syslocks-${name}`, version: '0.0.0', private: true }),
    );
    const r = npm(
      ['install', tgz, '--prefer-offline', '--no-audit', '--no-fund', '--foreground-scripts', ...flags],
      dir,
      env,
    );
    return { dir, r };
  }

  test('with install scripts blocked (--ignore-scripts), the shipped prebuild still loads', () => {
    // npm is moving to approved-only install scripts: the prebuild path must not need one.
    const { dir, r } = installInto('app-noscripts', tarball, noCompilerEnv, ['--ignore-scripts']);
    must(r, 'npm install --ignore-scripts <tarball>');
    expect(r.stdout + r.stderr).not.toContain('syslocks: ');
    const script =
      "const l = require('syslocks').tryLock(process.argv[1], { kind: 'flock' }); if (!l) process.exit(2); l.release();";
    must(
      run(process.execPath, ['-e', script, join(dir, 'x.lock')], dir, noCompilerEnv),
      'lock without the install script',
    );
  });

  test('with no prebuild for this platform, the install builds from source with node-gyp', () => {
    const { dir, r } = installInto('app-source', tarballNoPrebuild, { ...noCompilerEnv, PATH: process.env['PATH'] });
    figures['source install ms'] = r.ms;
    must(r, 'npm install <tarball without this prebuild> (compiler on PATH)');
    expect(r.stdout + r.stderr).toContain(`syslocks: no prebuilt binary ships for ${PLATFORM_ARCH}`);
    const pkg = join(dir, 'node_modules', 'syslocks');
    expect(existsSync(join(pkg, 'build', 'Release', 'syslocks.node'))).toBe(true);
    const script =
      "const l = require('syslocks').tryLock(process.argv[1], { kind: 'flock' }); if (!l) process.exit(2); l.release();";
    must(run(process.execPath, ['-e', script, join(dir, 'x.lock')], dir, noCompilerEnv), 'lock with the source build');
  });

  test('with no prebuild and no compiler, the install fails and says what to do', () => {
    const { r } = installInto('app-nocc', tarballNoPrebuild, noCompilerEnv);
    expect(r.status).not.toBe(0);
    const out = r.stdout + r.stderr;
    expect(out).toContain('syslocks: building the native addon from source failed');
    expect(out).toContain('SYSLOCKS_NATIVE');
  });

  test('ESM: import { tryLock } from "syslocks" takes a real lock', () => {
    const script = join(app, 'esm.mjs');
    writeFileSync(
      script,
      [
        "import { tryLock, lockSync, getLock, capabilities } from 'syslocks';",
        "import * as ns from 'syslocks';",
        "import def from 'syslocks';",
        "if (typeof ns.lock !== 'function' || def.tryLock !== tryLock) throw new Error('named exports not detected');",
        'const file = process.argv[2];',
        "const a = tryLock(file, { kind: 'flock' });",
        "if (!a) throw new Error('first tryLock did not lock');",
        "if (tryLock(file, { kind: 'flock' }) !== null) throw new Error('second owner got the lock');",
        'a.release();',
        "const b = lockSync(file, { kind: 'flock', timeout: 1000 });",
        'b.release();',
        "if (getLock(file, { kind: 'flock' }) !== null) throw new Error('lock left behind');",
        "console.log('esm ok', JSON.stringify(capabilities()));",
      ].join('\n'),
    );
    const r = must(run(process.execPath, [script, join(app, 'esm.lock')], app, noCompilerEnv), 'node esm.mjs');
    expect(r.stdout).toContain('esm ok');
  });

  test('CommonJS: require("syslocks") takes a real lock', () => {
    const script = join(app, 'cjs.cjs');
    writeFileSync(
      script,
      [
        "const syslocks = require('syslocks');",
        "const { tryLock } = require('syslocks');",
        "if (syslocks.tryLock !== tryLock) throw new Error('require returned two modules');",
        'const file = process.argv[2];',
        "const a = tryLock(file, { kind: 'flock' });",
        "if (!a) throw new Error('first tryLock did not lock');",
        "if (tryLock(file, { kind: 'flock' }) !== null) throw new Error('second owner got the lock');",
        'a.release();',
        "const b = tryLock(file, { kind: 'flock' });",
        "if (!b) throw new Error('lock not released');",
        'b.release();',
        "console.log('cjs ok', require.resolve('syslocks'));",
      ].join('\n'),
    );
    const r = must(run(process.execPath, [script, join(app, 'cjs.lock')], app, noCompilerEnv), 'node cjs.cjs');
    expect(r.stdout).toContain('cjs ok');
    expect(r.stdout).toContain(join('node_modules', 'syslocks', 'dist', 'index.js'));
  });

  test("npx syslocks-lab runs the lab through the package's bin, with no compiler on PATH", () => {
    // `--no`: never fetch a package named syslocks-lab; the checks are on the lab's own
    // output (a matrix row with a measured result and its summary line), which npm's
    // help or "not found" text cannot contain.
    expect(existsSync(join(app, 'node_modules', '.bin', 'syslocks-lab'))).toBe(true);
    const r = must(
      run(
        join(work, 'bin', 'npx'),
        ['--no', 'syslocks-lab', 'matrix', '--kinds', 'flock', '--scenarios', 'two_processes_exclusive'],
        app,
        noCompilerEnv,
      ),
      'npx syslocks-lab matrix (installed tarball)',
    );
    expect(r.stdout).toMatch(/^two_processes_exclusive\s+conflict\s*$/m);
    expect(r.stdout).toMatch(/1\/1 cells match the documented semantics/);
  });

  test('tsc --noEmit type-checks a consumer against the shipped .d.ts', () => {
    writeFileSync(
      join(app, 'check.ts'),
      [
        "import { tryLock, lock, getLock, LockError, type FileLock, type LockOptions, type LockInfo } from 'syslocks';",
        "const options: LockOptions = { kind: 'flock', mode: 'exclusive', range: { start: 0, length: 0 } };",
        "const held: FileLock | null = tryLock('/tmp/x.lock', options);",
        'held?.release();',
        "const waited: Promise<FileLock> = lock('/tmp/x.lock', { timeout: 10, signal: AbortSignal.timeout(100) });",
        "const info: LockInfo | null = getLock('/tmp/x.lock');",
        'const pid: number | undefined = info?.pid;',
        'const isLockError = (e: unknown): e is LockError => e instanceof LockError;',
        '// @ts-expect-error: not a lock kind (proves the types are real, not any)',
        "tryLock('/tmp/x.lock', { kind: 'nope' });",
        'export { waited, pid, isLockError };',
      ].join('\n'),
    );
    writeFileSync(
      join(app, 'check-cjs.cts'),
      [
        "import syslocks = require('syslocks');",
        "const held: syslocks.FileLock | null = syslocks.tryLock(0, { kind: 'posix' });",
        'held?.release();',
        "// @ts-expect-error: mode is 'shared' | 'exclusive'",
        "syslocks.tryLock(0, { mode: 'read' });",
        'export = held;',
      ].join('\n'),
    );
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify(
        {
          compilerOptions: {
            target: 'ES2022',
            module: 'NodeNext',
            moduleResolution: 'NodeNext',
            lib: ['ES2022', 'ESNext.Disposable'],
            strict: true,
            noEmit: true,
            skipLibCheck: false,
            types: ['node'],
            typeRoots: [join(REPO, 'node_modules', '@types')],
          },
          files: ['check.ts', 'check-cjs.cts'],
        },
        null,
        2,
      ),
    );
    const r = must(
      run(process.execPath, [TSC, '-p', join(app, 'tsconfig.json'), '--listFiles'], app),
      'tsc --noEmit (consumer)',
    );
    // The types came from the installed package, not from the repo.
    expect(r.stdout).toContain(join(installed, 'dist', 'index.d.ts'));
    expect(r.stdout).not.toContain(join(REPO, 'dist'));
  });
});
