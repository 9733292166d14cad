#!/usr/bin/env node
// The mutation score of lib/ from one or more StrykerJS JSON reports (`npm run mutate`
// writes reports/mutation/mutation.json; a run split into batches, one report per
// batch). A file in several reports counts from the last one given, except that
// module-load (static) mutants a later run ignored keep the earlier run's results.
//
//   node scripts/mutation-score.mjs reports/mutation-*.json [--survivors]
//
// Score as StrykerJS computes it: (killed + timeout) / (killed + timeout + survived +
// no coverage); compile and runtime errors and ignored mutants are left out.
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const listSurvivors = args.includes('--survivors');
const files = new Map();
for (const path of args.filter((a) => !a.startsWith('--'))) {
  const report = JSON.parse(readFileSync(path, 'utf8'));
  for (const [file, f] of Object.entries(report.files)) {
    // A run with ignoreStatic (IGNORE_STATIC=1) leaves module-load mutants Ignored: they
    // keep their results from an earlier report of the file, which ran them.
    const earlier = files.get(file);
    const isIgnoredStatic = (m) => m.static && m.status === 'Ignored';
    if (earlier && f.mutants.some(isIgnoredStatic)) {
      const ran = earlier.mutants.filter((m) => m.static && !isIgnoredStatic(m));
      f.mutants = [...f.mutants.filter((m) => !isIgnoredStatic(m)), ...ran];
    }
    files.set(file, f);
  }
}
if (files.size === 0) {
  console.error('usage: node scripts/mutation-score.mjs REPORT.json... [--survivors]');
  process.exit(2);
}

const DETECTED = ['Killed', 'Timeout'];
const UNDETECTED = ['Survived', 'NoCoverage'];
const total = { detected: 0, undetected: 0 };
const rows = [];
for (const [file, f] of [...files].sort()) {
  const count = (states) => f.mutants.filter((m) => states.includes(m.status)).length;
  const detected = count(DETECTED);
  const undetected = count(UNDETECTED);
  const split = [count(['Killed']), count(['Timeout']), count(['Survived']), count(['NoCoverage'])];
  total.detected += detected;
  total.undetected += undetected;
  total.split = (total.split ?? [0, 0, 0, 0]).map((n, i) => n + split[i]);
  rows.push([file, split, detected + undetected ? (100 * detected) / (detected + undetected) : 100]);
  if (listSurvivors) {
    const src = f.source.split('\n');
    for (const m of f.mutants.filter((x) => UNDETECTED.includes(x.status))) {
      const line = m.location.start.line;
      console.log(
        `${file}:${line} ${m.status} ${m.mutatorName} -> ${JSON.stringify(m.replacement ?? '')}: ${src[line - 1]?.trim()}`,
      );
    }
  }
}
// A timeout counts as detected (the mutant made the tests hang past StrykerJS's limit);
// it is shown apart, since a slow machine can turn a slow pass into one.
console.log('\n| file | killed | timeout | survived | no coverage | score |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
for (const [file, [k, t, s, n], score] of rows)
  console.log(`| ${file} | ${k} | ${t} | ${s} | ${n} | ${score.toFixed(1)} % |`);
const all = total.detected + total.undetected;
const [k, t, s, n] = total.split;
console.log(`| **all** | ${k} | ${t} | ${s} | ${n} | **${((100 * total.detected) / all).toFixed(1)} %** |`);
