// `npm run model -- --ops 100000`: the model-based property test of test/model at
// benchmark size. It runs test/model/model.test.ts under vitest with the sizes passed
// as environment variables and prints ops, divergences, ops/s and the seed.
//
//   --ops N           operations to run (default 100000; 3000 with --mutant)
//   --seed S          fast-check seed (default: time-based, printed)
//   --check-every N   compare the whole lock state every N ops (default 1)
//   --probe-every N   ask F_GETLK / F_OFD_GETLK every N ops (default 5)
//   --replay JSON     run exactly this op sequence (as a divergence prints it)
//   --mutant NAME     run against a copy of dist/ with a deliberate bug (below), to
//                     show that the test finds it; exits 0 only if it was found
//
// Needs a built dist/ (`npm run build:ts`). The copy for --mutant lives under build/
// (ignored by git), so the addon resolves from the repository as usual.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));

/** Deliberate bugs: [file in dist/, pattern, replacement, what it breaks]. */
const MUTANTS = {
  'swap-mode': [
    'native.js',
    /TYPE_CODE = \{ shared: 0, exclusive: 1,/,
    'TYPE_CODE = { shared: 1, exclusive: 0,',
    'shared and exclusive swapped',
  ],
  'range-off-by-one': [
    'validate.js',
    /return \{ start, length \};/,
    'return { start, length: length > 0n ? length + 1n : length };',
    'every bounded range one byte too long',
  ],
  'ofd-as-posix': ['native.js', /(KIND_CODE = \{[^}]*)ofd: 2/, '$1ofd: 1', "kind 'ofd' takes POSIX locks"],
  'upgrade-not-atomic': [
    'file_lock.js',
    /(const code = \(0, syscall_js_1\.changeHeld\)\(this\.#id, next\);)/,
    '(0, syscall_js_1.unlock)(this.#request()); $1',
    'tryChangeMode unlocks before it converts (a refused upgrade loses the lock)',
  ],
  'release-keeps-lock': [
    'file_lock.js',
    /const code = \(0, syscall_js_1\.releaseHeld\)\(this\.#id, false\);/,
    'const code = (0, syscall_js_1.releaseHeld)(this.#id, true);',
    'FileLock.release() drops the record and skips the unlock',
  ],
  'stale-mode': [
    'file_lock.js',
    /(changeHeld\)\(this\.#id, next\);[\s\S]*?)this\.#mode = next;/,
    '$1',
    'tryChangeMode does not record the new mode',
  ],
};

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i].replace(/^--/, '');
    const value = argv[++i];
    if (value === undefined) throw new Error(`--${key} needs a value`);
    out[key] = value;
  }
  return out;
}

function makeMutant(name) {
  const m = MUTANTS[name];
  if (!m) throw new Error(`unknown mutant ${name}; known: ${Object.keys(MUTANTS).join(', ')}`);
  const [file, pattern, replacement, what] = m;
  const dir = join(root, 'build', 'model-mutant', 'dist');
  rmSync(dir, { recursive: true, force: true });
  cpSync(join(root, 'dist'), dir, { recursive: true });
  const text = readFileSync(join(dir, file), 'utf8');
  if (!pattern.test(text)) throw new Error(`mutant ${name} does not apply: ${pattern} not in dist/${file}`);
  writeFileSync(join(dir, file), text.replace(pattern, replacement));
  console.log(`mutant ${name}: ${what} (dist/${file})`);
  return dir;
}

const args = parseArgs(process.argv.slice(2));
if (!existsSync(join(root, 'dist', 'index.js'))) {
  console.error('dist/ is missing: run `npm run build:ts` first');
  process.exit(2);
}
const env = {
  ...process.env,
  MODEL_OPS: String(args.ops ?? (args.mutant ? 3000 : 100000)),
  MODEL_SEED: String(args.seed ?? Date.now() % 2 ** 31),
  MODEL_CHECK_EVERY: String(args['check-every'] ?? 1),
  MODEL_PROBE_EVERY: String(args['probe-every'] ?? 5),
};
if (args.replay) env.MODEL_REPLAY = args.replay;
if (args.mutant) env.MODEL_DIST = makeMutant(args.mutant);

const vitest = join(root, 'node_modules', '.bin', 'vitest');
const r = spawnSync(vitest, ['run', 'test/model/model.test.ts'], { cwd: root, env, stdio: 'inherit' });
if (args.mutant) {
  rmSync(join(root, 'build', 'model-mutant'), { recursive: true, force: true });
  const found = r.status !== 0;
  console.log(
    found ? `mutant ${args.mutant}: found (the run above shows the divergence)` : `mutant ${args.mutant}: NOT found`,
  );
  process.exit(found ? 0 : 1);
}
process.exit(r.status ?? 1);
