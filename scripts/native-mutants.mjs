#!/usr/bin/env node
// Scripted native mutants (`npm run mutate:native`): each realistic bug of the list
// below is planted alone in a scratch copy of the package, the addon is rebuilt there
// and the named test file runs against it. A mutant is killed when that run fails.
// Not part of `npm test` or .ci/run (one rebuild per mutant); docs/TESTING.md has the
// table of a run.
//
// Usage: node scripts/native-mutants.mjs [--only NAME,NAME] [--keep]
// Needs a built dist/ (npm run build:ts) and node_modules (npm ci).
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Each mutant: one exact text in one native file, replaced; the test file (and test
 * name pattern) expected to fail against it.
 */
export const MUTANTS = [
  {
    name: 'swap-fcntl-types',
    bug: 'shared and exclusive swapped in the fcntl l_type',
    file: 'native/posix_locks.cc',
    from: 'case kTypeShared:\n      return F_RDLCK;\n    case kTypeExclusive:\n      return F_WRLCK;',
    to: 'case kTypeShared:\n      return F_WRLCK;\n    case kTypeExclusive:\n      return F_RDLCK;',
    test: 'test/kinds.test.ts',
    grep: '/proc/locks shows the lock',
  },
  {
    name: 'flock-shared-as-exclusive',
    bug: 'a shared flock is taken as LOCK_EX',
    file: 'native/posix_locks.cc',
    from: 'case kTypeShared:\n      return LOCK_SH;',
    to: 'case kTypeShared:\n      return LOCK_EX;',
    test: 'test/kinds.test.ts',
    grep: 'two processes, shared',
  },
  {
    name: 'range-off-by-one',
    bug: 'every bounded range one byte too long',
    file: 'native/posix_locks.cc',
    from: 'fl->l_len = static_cast<off_t>(req.length);',
    to: 'fl->l_len = static_cast<off_t>(req.length + (req.length != 0 ? 1 : 0));',
    test: 'test/ranges.test.ts',
    grep: 'disjoint ranges|unlocking the middle',
  },
  {
    name: 'ofd-as-posix',
    bug: "kind 'ofd' uses the POSIX commands",
    file: 'native/posix_locks.cc',
    from: 'if (kind == kKindOfd) return wait ? F_OFD_SETLKW : F_OFD_SETLK;',
    to: '(void)kind;',
    test: 'test/kinds.test.ts',
    grep: '/proc/locks shows the lock',
  },
  {
    name: 'wait-never-blocks',
    bug: 'a wait uses F_SETLK (no W): it fails at once instead of waiting',
    file: 'native/posix_locks.cc',
    from: 'return wait ? F_SETLKW : F_SETLK;',
    to: 'return F_SETLK;',
    test: 'test/wait.test.ts',
    grep: 'is granted when the other process releases',
  },
  {
    name: 'getlk-type-swapped',
    bug: "F_GETLK's l_type read back the wrong way round",
    file: 'native/posix_locks.cc',
    from: 'if (fcntl_type == F_RDLCK) return kTypeShared;\n  if (fcntl_type == F_WRLCK) return kTypeExclusive;',
    to: 'if (fcntl_type == F_RDLCK) return kTypeExclusive;\n  if (fcntl_type == F_WRLCK) return kTypeShared;',
    test: 'test/ranges.test.ts',
    grep: 'getLock / F_GETLK reports',
  },
  {
    name: 'skip-late-grant-undo',
    bug: 'a grant racing a cancel is not undone (the lock is held by nobody)',
    file: 'native/waiter_pool.cc',
    from: '        UndoLateGrant(req);\n        r.code = kCodeCanceled;',
    to: '        r.code = kCodeCanceled;',
    test: 'test/late-grant.test.ts',
    grep: 'timeouts racing a real grant',
  },
  {
    name: 'skip-abandoned-undo',
    bug: 'a grant of an abandoned wait (worker gone) is not undone',
    file: 'native/waiter_pool.cc',
    from: '#endif\n  UndoLateGrant(undo);\n}',
    to: '#endif\n  (void)undo;\n}',
    // The FUSE filesystem that ignores the interrupt sees the abandoned thread's unlock.
    test: 'test/waiter.test.ts',
    grep: 'the abandoned thread undoes the late grant',
  },
  {
    name: 'skip-identity-check',
    bug: 'an abandoned grant is undone through an fd number without checking it still names the file',
    file: 'native/waiter_pool.cc',
    from: '} else if (s->check_identity) {',
    to: '} else if (false) {',
    test: 'test/waiter.test.ts',
    grep: 'reused for another file unlocks nothing there',
  },
  {
    name: 'skip-undo-fd-close',
    bug: 'the dup kept for an undo is never closed',
    file: 'native/waiter_pool.cc',
    from: 'if (s->undo_fd >= 0) close(s->undo_fd);',
    to: '(void)0;',
    test: 'test/waiter.test.ts',
    grep: 'closes its own reference to the file',
  },
  {
    name: 'skip-teardown-release',
    bug: "environment teardown leaves the environment's locks and owned fds",
    file: 'native/addon.cc',
    from: '  ReleaseEnvironment(state);\n  delete state;',
    to: '  delete state;',
    test: 'test/teardown.test.ts',
    grep: 'false worker exit',
  },
  {
    name: 'skip-owned-close',
    bug: 'an fd the library opened is never closed',
    file: 'native/lock_table.cc',
    from: 'return close(fd) == 0 ? 0 : -errno;',
    to: 'return 0;',
    test: 'test/kinds.test.ts',
    grep: 'a path lock owns its fd',
  },
  {
    name: 'async-handle-kept-ref',
    bug: "the wake-up handle stays ref'd after the last wait: the process never exits",
    file: 'native/waiter.cc',
    from: 'else uv_unref(reinterpret_cast<uv_handle_t*>(&ch->async));',
    to: 'else (void)0;',
    test: 'test/wait.test.ts',
    grep: 'exits on its own',
  },
];

function run(cmd, args, cwd, boundMs) {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: boundMs, maxBuffer: 64 << 20 });
  return { ...r, seconds: (performance.now() - t0) / 1000 };
}

function firstFailure(out) {
  const line = out.split('\n').find((l) => /FAIL|AssertionError|Error:/.test(l)) ?? '';
  // eslint-disable-next-line no-control-regex
  return line
    .replace(/\x1b\[[0-9;]*m/g, '')
    .trim()
    .slice(0, 160);
}

function main() {
  const args = process.argv.slice(2);
  const onlyAt = args.indexOf('--only');
  const only = onlyAt >= 0 ? new Set(args[onlyAt + 1].split(',')) : null;
  const keep = args.includes('--keep');
  const mutants = MUTANTS.filter((m) => only === null || only.has(m.name));
  const work = mkdtempSync(join(tmpdir(), 'syslocks-native-mutants-'));
  console.log(`scratch copy: ${work}`);
  try {
    for (const p of [
      'native',
      'binding.gyp',
      'package.json',
      'tsconfig.json',
      'lib',
      'dist',
      'test',
      'vitest.config.ts',
      'build',
    ]) {
      cpSync(join(root, p), join(work, p), { recursive: true, verbatimSymlinks: true });
    }
    symlinkSync(join(root, 'node_modules'), join(work, 'node_modules'));
    const gyp = join(root, 'node_modules', '.bin', 'node-gyp');
    const vitest = join(root, 'node_modules', '.bin', 'vitest');
    const build = () => run(gyp, ['build'], work, 600_000);
    const test = (m) => run(vitest, ['run', m.test, '--bail', '1', ...(m.grep ? ['-t', m.grep] : [])], work, 300_000);

    // The unmutated build must pass every named test, or a "kill" would mean nothing.
    // The headers npm ci built against (build/config.gypi), not a download.
    const nodedir = /"nodedir": "([^"]+)"/.exec(readFileSync(join(root, 'build', 'config.gypi'), 'utf8'))?.[1];
    const cfg = run(gyp, ['configure', ...(nodedir ? [`--nodedir=${nodedir}`] : [])], work, 120_000);
    if (cfg.status !== 0) throw new Error(`node-gyp configure failed:\n${cfg.stderr}`);
    const base = build();
    if (base.status !== 0) throw new Error(`unmutated build failed:\n${base.stderr}`);
    for (const m of mutants) {
      const r = test(m);
      if (r.status !== 0)
        throw new Error(`unmutated build fails ${m.test} (${m.grep ?? 'all'}):\n${r.stdout}${r.stderr}`);
    }

    const rows = [];
    for (const m of mutants) {
      const file = join(work, m.file);
      const original = readFileSync(file, 'utf8');
      const hits = original.split(m.from).length - 1;
      if (hits !== 1) throw new Error(`${m.name}: the text to mutate occurs ${hits} times in ${m.file}`);
      writeFileSync(file, original.replace(m.from, m.to));
      let verdict;
      let seconds = 0;
      let why = '';
      try {
        const b = build();
        if (b.status !== 0) {
          verdict = 'build failed';
          why = firstFailure(b.stderr);
        } else {
          const r = test(m);
          seconds = r.seconds;
          verdict = r.error ? 'killed (run bound)' : r.status !== 0 ? 'killed' : 'SURVIVED';
          why = r.status !== 0 ? firstFailure(r.stdout + r.stderr) : '';
        }
      } finally {
        writeFileSync(file, original);
      }
      rows.push({ m, verdict, seconds, why });
      console.log(`${m.name}: ${verdict} in ${seconds.toFixed(1)} s ${why}`);
    }
    const restored = build();
    if (restored.status !== 0) console.error('warning: the final rebuild of the unmutated copy failed');

    console.log('\n| mutant | bug | test | verdict | time to fail |');
    console.log('| --- | --- | --- | --- | --- |');
    for (const { m, verdict, seconds } of rows) {
      const test = `${m.test}${m.grep ? ` (-t '${m.grep}')` : ''}`;
      console.log(`| \`${m.name}\` | ${m.bug} | ${test} | ${verdict} | ${seconds.toFixed(1)} s |`);
    }
    const killed = rows.filter((r) => r.verdict.startsWith('killed')).length;
    console.log(`\n${killed}/${rows.length} native mutants killed`);
    process.exitCode = killed === rows.length ? 0 : 1;
  } finally {
    if (!keep) rmSync(work, { recursive: true, force: true });
  }
}

main();
