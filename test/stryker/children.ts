// A vitest setup file for `npm run mutate` only (vitest.stryker.config.ts): StrykerJS's
// coverage and mutant activation reach the node processes and worker threads the tests
// start, not only the vitest worker. Without it, a mutant in code that only agents run
// was reported "no coverage", and one covered in-process ran unmutated in the agents.
//
// - Mutant runs: the active mutant's id goes into __STRYKER_ACTIVE_MUTANT__, which the
//   instrumented code reads when its namespace has no active mutant (a child process or
//   a worker thread, both of which inherit the environment).
// - The coverage run: children preload child-coverage.cjs, which records coverage under
//   the id of the running test and writes it to a directory collected after each test.
//   A child started outside a test (beforeAll) is credited to every test of the file.
import { afterAll, afterEach, beforeAll, beforeEach, inject } from 'vitest';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

type Coverage = Record<string, number>;
interface MutantCoverage {
  static: Coverage;
  perTest: Record<string, Coverage>;
}
interface StrykerNamespace {
  activeMutant?: string;
  currentTestId?: string;
  mutantCoverage?: MutantCoverage;
}
interface Task {
  name: string;
  file?: { filepath: string };
  suite?: { name: string; suite?: Task['suite'] };
}

// The keys StrykerJS's own setup file injects (not in vitest's ProvidedContext type).
const injected = inject as unknown as (key: string) => unknown;
const nsName = String(injected('globalNamespace') ?? '__stryker__');
const mode = injected('mode');
const globals = globalThis as unknown as Record<string, StrykerNamespace | undefined>;
const ns: StrykerNamespace = globals[nsName] ?? (globals[nsName] = {});

const ACTIVE = '__STRYKER_ACTIVE_MUTANT__';

// StrykerJS makes its sandbox private to root; the thread-limit test runs a child as
// an unprivileged uid (waiter.test.ts), which must be able to load the package from it.
chmodSync(process.cwd(), 0o755);

if (mode === 'mutant') {
  const publish = (): void => {
    if (ns.activeMutant === undefined) delete process.env[ACTIVE];
    else process.env[ACTIVE] = String(ns.activeMutant);
  };
  publish(); // static mutants are active from the start
  beforeAll(publish); // the others from StrykerJS's beforeAll, which runs before this one
} else {
  delete process.env[ACTIVE];
  const dir = mkdtempSync(join(tmpdir(), 'syslocks-stryker-cov-'));
  chmodSync(dir, 0o1777); // children running as another uid write here too
  const preload = fileURLToPath(new URL('./child-coverage.cjs', import.meta.url));
  process.env.SYSLOCKS_STRYKER_COV_DIR = dir;
  process.env.SYSLOCKS_STRYKER_NS = nsName;
  process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --require ${preload}`.trim();
  const cov: MutantCoverage = ns.mutantCoverage ?? (ns.mutantCoverage = { static: {}, perTest: {} });
  const testsOfFile = new Set<string>();
  const outsideTests: Coverage = {};
  const add = (into: Coverage, from: Coverage): void => {
    for (const [id, hits] of Object.entries(from)) into[id] = (into[id] ?? 0) + hits;
  };
  const collect = (): void => {
    for (const name of readdirSync(dir)) {
      if (!name.endsWith('.json')) continue;
      let child: { testId: string; coverage: MutantCoverage };
      try {
        child = JSON.parse(readFileSync(join(dir, name), 'utf8')) as typeof child;
      } catch {
        continue; // replaced while read: the next collection sees it
      }
      // A child's file holds all it covered so far and is read again at each collection;
      // the counts add up past the truth, but StrykerJS only asks whether a test covers.
      add(outsideTests, child.coverage.static);
      for (const [id, covered] of Object.entries(child.coverage.perTest)) {
        testsOfFile.add(id);
        add((cov.perTest[id] ??= {}), covered);
      }
    }
  };
  const testId = (task: Task): string => {
    const parts = [task.name];
    for (let s = task.suite; s; s = s.suite) parts.unshift(s.name);
    return `${task.file?.filepath ?? 'unknown.js'}#${parts.join(' ').trim()}`;
  };
  beforeEach(({ task }) => {
    const id = testId(task as unknown as Task);
    testsOfFile.add(id);
    process.env.SYSLOCKS_STRYKER_TEST_ID = id;
  });
  afterEach(() => {
    process.env.SYSLOCKS_STRYKER_TEST_ID = '';
    collect();
  });
  afterAll(() => {
    collect();
    for (const id of testsOfFile) add((cov.perTest[id] ??= {}), outsideTests);
    rmSync(dir, { recursive: true, force: true });
  });
}
