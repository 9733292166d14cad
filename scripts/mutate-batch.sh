#!/bin/bash
# Runs StrykerJS over some lib/ files as one named batch, with its own incremental file
# and JSON report, so that the slow full run (about three hours on two cores) can be
# split and merged: `node scripts/mutation-score.mjs reports/mutation-*.json`.
#   bash scripts/mutate-batch.sh NAME lib/a.ts lib/b.ts ...
set -euo pipefail
cd "$(dirname "$0")/.."
name=$1
shift
list=$(IFS=,; echo "$*")
mkdir -p reports
echo "=== batch $name: $* ($(date +%T))"
nice -n 10 npx stryker run --mutate "$list" \
  --incrementalFile "reports/inc-$name.json" \
  --reporters json,clear-text,progress-append-only \
  >"reports/log-$name.txt" 2>&1 || { echo "stryker failed: reports/log-$name.txt"; exit 1; }
cp reports/mutation/mutation.json "reports/mutation-$name.json"
echo "=== batch $name done ($(date +%T))"
