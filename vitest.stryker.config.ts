// The vitest configuration `npm run mutate` (StrykerJS) runs under: only the fast
// core-library tests (no lab, no package, model, example or btrfs tests), which import
// the dist/ that Stryker's buildCommand compiles from the mutated lib/.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'test/validation.test.ts',
      'test/validate-unit.test.ts',
      'test/errors-unit.test.ts',
      'test/file-lock-unit.test.ts',
      'test/lock-unit.test.ts',
      'test/primitives-unit.test.ts',
      'test/types.test.ts',
      'test/convert.test.ts',
      'test/ranges.test.ts',
      'test/ownership.test.ts',
      'test/holders.test.ts',
      'test/holders-unit.test.ts',
      'test/self-deadlock.test.ts',
      'test/mistakes.test.ts',
      'test/open-options.test.ts',
      'test/open-fallback.test.ts',
      'test/late-grant.test.ts',
      'test/teardown.test.ts',
      'test/waiter.test.ts',
      'test/posix-threads.test.ts',
      'test/kinds.test.ts',
      'test/wait.test.ts',
      'test/wait-unit.test.ts',
      'test/refusing-fs.test.ts',
      'test/wait-engine-unit.test.ts',
      'test/self-deadlock-unit.test.ts',
      'test/load-error-unit.test.ts',
      'test/capabilities-unit.test.ts',
      'test/timeout-holders.test.ts',
      'test/holders-selection.test.ts',
      'test/interop.test.ts',
      // Fresh processes loading a copy of dist/: the load-error messages (lib/load_error.ts).
      'test/package/load-error.test.ts',
    ],
    // StrykerJS's coverage and active mutant reach the processes the tests start.
    setupFiles: ['test/stryker/children.ts'],
    pool: 'forks',
    // Long loops (10,000 waits) run a few hundred rounds here: each surviving mutant
    // runs every test that covers it.
    env: { SYSLOCKS_MUTATION_RUN: '1' },
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
