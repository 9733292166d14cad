// The controller and its lockers: a repeatable schedule of overlapping lock requests,
// run once with POSIX locks and once with OFD locks, printed as a timeline.
//
//   node examples/controller.mjs
//
// Four lockers share one file: processes P1 and P2, and worker threads W1 and W2
// living in *this* process. Every command carries "at T" (ms
// after the controller's time zero), so the overlap is the same on every run; every
// locker reports each result with its pid, thread id and timestamp.
//
// What to look for: with POSIX locks W2 is granted while W1 holds the file (threads
// share the process's POSIX locks, SEMANTICS.md row 3), and W1's unlock at +300 ms
// frees the file for P1 although W2 "holds" it too: it was one lock all along. With
// OFD locks W2 is refused and P1 is granted only when W1 lets go.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Controller } from 'syslocks/lab'; // = dist/lab/index.js, the package's ./lab export

const dir = mkdtempSync(join(tmpdir(), 'controller-story-'));

async function story(kind) {
  const file = join(dir, `${kind}.dat`);
  const c = new Controller();
  try {
    const [p1, p2, w1, w2] = await Promise.all([
      c.start({ file, kind, name: 'P1' }),
      c.start({ file, kind, name: 'P2' }),
      c.start({ file, kind, type: 'thread', name: 'W1' }),
      c.start({ file, kind, type: 'thread', name: 'W2' }),
    ]);
    const t = c.at(100); // everything below is relative to "100 ms from now"
    const plan = [
      [w1, `lock write at ${t}`], //                          W1 takes the file
      [w2, `lock write at ${t + 50}`], //                     W2, same process: POSIX says yes, OFD says no
      [p1, `lock write wait timeout=2000 at ${t + 100}`], //  P1 queues behind the writer(s)
      [p2, `lock read wait timeout=2000 at ${t + 150}`], //   P2 wants to read
      [w1, `unlock at ${t + 300}`],
      [w2, `unlockif at ${t + 350}`], //                      only if W2 got it
      [p1, `unlock at ${t + 500}`],
      [p2, `unlock at ${t + 600}`],
    ];
    const reports = await Promise.all(plan.map(([l, cmd]) => l.send(cmd, 5000).then((r) => ({ ...r, who: l.name }))));
    console.log(`\n${kind}:`);
    for (const r of reports.sort((a, b) => a.t - b.t)) {
      const at = (r.t - t).toFixed(0).padStart(5);
      console.log(
        `  +${at} ms  ${r.who.padEnd(3)} pid ${r.pid} thread ${r.threadId}  ${r.cmd.replace(/ at \d+/, '').padEnd(30)} -> ${r.result}`,
      );
    }
  } finally {
    await c.dispose();
  }
}

await story('posix');
await story('ofd');
rmSync(dir, { recursive: true, force: true });
