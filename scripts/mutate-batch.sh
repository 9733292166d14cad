#!/bin/bash
# Runs StrykerJS over some lib/ files as one named batch: its own sandbox directory,
# incremental file and JSON report, so that batches can run one after another or side
# by side (the runs wait on child processes more than they use the CPU), and
# `node scripts/mutation-score.mjs reports/mutation-*.json` merges their reports.
#   bash scripts/mutate-batch.sh NAME CONCURRENCY lib/a.ts lib/b.ts ...
# IGNORE_STATIC=1 skips mutants in code that runs as modules load (StrykerJS then runs
# every test for each; they are reported as ignored, not as a score).
set -euo pipefail
cd "$(dirname "$0")/.."
name=$1
concurrency=$2
shift 2
mkdir -p reports
config="reports/stryker-$name.json"
node -e '
const [name, concurrency, ...files] = process.argv.slice(1);
const base = JSON.parse(require("fs").readFileSync("stryker.config.json", "utf8"));
Object.assign(base, {
  mutate: files,
  concurrency: Number(concurrency),
  // Batches side by side make each dry run slower than the 5 minutes StrykerJS allows.
  dryRunTimeoutMinutes: 20,
  tempDirName: `.stryker-tmp-${name}`,
  incrementalFile: `reports/inc-${name}.json`,
  reporters: ["json", "clear-text", "progress-append-only"],
  jsonReporter: { fileName: `reports/mutation-${name}.json` },
  ignorePatterns: [...base.ignorePatterns, ".stryker-tmp*"],
  ignoreStatic: process.env.IGNORE_STATIC === "1",
});
require("fs").writeFileSync(`reports/stryker-${name}.json`, JSON.stringify(base, null, 2));
' "$name" "$concurrency" "$@"
echo "=== batch $name: $* ($(date +%T))"
nice -n 10 npx stryker run "$config" >"reports/log-$name.txt" 2>&1 || {
  echo "stryker failed: reports/log-$name.txt"
  exit 1
}
echo "=== batch $name done ($(date +%T))"
