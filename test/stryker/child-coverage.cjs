// Preloaded (NODE_OPTIONS=--require) into every node process a test starts during
// StrykerJS's coverage run; see children.ts. Not used by `npm test`.
//
// Why: StrykerJS measures which test covers which mutant inside the vitest worker only.
// Most of this suite runs the library in agent processes, so code reached only there
// looked uncovered and its mutants were never tried. Here each child records its
// coverage under the id of the test that started it and writes it where the test worker
// collects it when that test ends.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const dir = process.env.SYSLOCKS_STRYKER_COV_DIR;
const nsName = process.env.SYSLOCKS_STRYKER_NS;
if (dir && nsName) {
  const ns = globalThis[nsName] || (globalThis[nsName] = {});
  const testId = process.env.SYSLOCKS_STRYKER_TEST_ID || '';
  if (testId) ns.currentTestId = testId;
  const file = path.join(dir, `${process.pid}.json`);
  const save = () => {
    if (!ns.mutantCoverage) return;
    try {
      // Written whole, then renamed: the collector never reads half a file.
      fs.writeFileSync(`${file}.tmp`, JSON.stringify({ testId, coverage: ns.mutantCoverage }));
      fs.renameSync(`${file}.tmp`, file);
    } catch {
      // The collector may have removed the directory at the end of the file.
    }
  };
  // Agents are often killed; what they covered up to then still counts.
  setInterval(save, 200).unref();
  process.on('exit', save);
  for (const signal of ['SIGTERM', 'SIGINT']) {
    process.on(signal, function onSignal() {
      save();
      // If nobody else handles the signal, die of it as the process would have.
      if (process.listenerCount(signal) === 1) {
        process.removeListener(signal, onSignal);
        process.kill(process.pid, signal);
      }
    });
  }
}
