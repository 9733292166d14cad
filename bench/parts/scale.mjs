// @ts-check
// Part 3: the event loop, memory and threads with many pending waits on a lock another
// process holds (bench/eventloop.mjs, in a process of its own): event-loop delay idle vs
// loaded, 1 ms timer ticks and fs.promises.readFile completions, RSS per pending wait,
// how long after the release every wait is granted, and the waiter threads left after
// the linger.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LineChild } from '../lib/line_child.mjs';
import { fmt, median } from '../lib/stats.mjs';
import { table } from '../lib/table.mjs';

export async function run(ctx) {
  const { KINDS, dir, HERE, readPath } = ctx;
  const { WAITS, PHASE_MS, ELD_REPS } = ctx.config;
  const part3 = {};
  console.log(`\nrunning part 3 (${ELD_REPS} runs x (idle ${PHASE_MS} ms + ${WAITS} waits ${PHASE_MS} ms))...`);
  for (const kind of KINDS) {
    const path = join(dir, `eventloop-${kind}.lock`);
    writeFileSync(path, '');
    const holder = new LineChild(process.execPath, [join(HERE, 'child.mjs'), kind, path]);
    try {
      holder.send('hold');
      await holder.expect('held');
      const r = spawnSync(
        process.execPath,
        [join(HERE, 'eventloop.mjs'), kind, path, readPath, String(WAITS), String(PHASE_MS), String(ELD_REPS)],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
      );
      if (r.status !== 0) throw new Error(`eventloop.mjs ${kind} exited ${r.status}`);
      part3[kind] = JSON.parse(r.stdout.trim().split('\n').pop());
    } finally {
      await holder.quit();
    }
    const reps = part3[kind].reps;
    const med = (phase, key) => median(reps.map((x) => x[phase][key]));
    part3[kind].summary = Object.fromEntries(
      ['idle', 'loaded'].map((phase) => [
        phase,
        Object.fromEntries(
          [
            'p50Ms',
            'p99Ms',
            'maxMs',
            'timerTicks',
            'readFiles',
            'threads',
            'blockedInKernel',
            'abortAllMs',
            'threadsAfterAbort',
          ]
            .filter((k) => reps[0][phase][k] !== undefined)
            .map((k) => [k, med(phase, k)]),
        ),
      ]),
    );
    const l = reps.map((x) => x.loaded);
    part3[kind].summary.loaded.aborted = l.map((x) => x.aborted);
    part3[kind].summary.loaded.errors = l.flatMap((x) => x.errors);
    part3[kind].summary.grant = part3[kind].grant;
  }
  const rows3 = [];
  for (const kind of KINDS) {
    const s = part3[kind].summary;
    for (const phase of ['idle', 'loaded']) {
      const p = s[phase];
      rows3.push([
        kind,
        phase === 'idle' ? 'idle' : `${WAITS} waits`,
        fmt(p.p50Ms, 2),
        fmt(p.p99Ms, 2),
        fmt(p.maxMs, 2),
        String(Math.round(p.timerTicks)),
        String(Math.round(p.readFiles)),
        String(p.threads ?? 'n/a'),
        phase === 'idle' ? '' : String(p.blockedInKernel ?? 'n/a'),
        phase === 'idle' ? '' : `${p.aborted.join('/')} in ${fmt(p.abortAllMs, 1)} ms`,
        phase === 'idle' ? '' : String(p.threadsAfterAbort ?? 'n/a'),
      ]);
    }
  }
  console.log(
    `\n3. Event loop while ${WAITS} waits are pending on a lock held by another process (median of ${ELD_REPS} runs of ${PHASE_MS} ms per phase)\n` +
      `   delay = monitorEventLoopDelay sample beyond its 1 ms interval (ms); 1 ms timer ticks and fs.promises.readFile completions counted per phase\n`,
  );
  console.log(
    table(
      [
        'kind',
        'phase',
        'p50',
        'p99',
        'max',
        'timer ticks',
        'readFiles',
        'threads',
        'blocked',
        'aborted',
        'threads after',
      ],
      rows3,
    ),
  );
  const errs = KINDS.flatMap((k) => part3[k].summary.loaded.errors);
  if (errs.length) console.log(`   unexpected rejections: ${errs.join(', ')}`);
  console.log(
    `   (threads after = right after the abort; the waiter threads park, then end after their linger)\n` +
      `\n   ${WAITS} shared waits granted at once by the release of an exclusive holder in another process:\n`,
  );
  console.log(
    table(
      [
        'kind',
        'RSS/wait KiB',
        'VSZ/wait KiB',
        'first grant ms',
        'last grant ms',
        'threads idle',
        'pending',
        'after linger',
      ],
      KINDS.filter((k) => part3[k].grant).map((k) => {
        const g = part3[k].grant;
        return [
          k,
          fmt(g.rssPerWaitKiB, 1),
          fmt(g.vszPerWaitKiB, 1),
          fmt(g.firstMs, 1),
          fmt(g.lastMs, 1),
          String(g.threadsIdle),
          String(g.threadsLoaded),
          String(g.threadsAfterLinger),
        ];
      }),
    ),
  );

  return { json: part3, rows: rows3 };
}
