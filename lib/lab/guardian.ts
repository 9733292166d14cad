/**
 * The lab's guardian: `node guardian.js`, started by cleanup.ts in a session of its
 * own, with a pipe from the lab on stdin. The lab writes `+pid N` / `-pid N` for each
 * child process group and `+dir D` / `-dir D` for each temp dir. When the pipe closes
 * (the lab ended, or was killed with SIGKILL and could not clean up) the guardian
 * kills what is still registered and removes what is still listed, then exits. Linux
 * has PR_SET_PDEATHSIG for this, but Node cannot set it on a child; a pipe's EOF
 * needs nothing but the kernel closing the dead lab's fds.
 * @packageDocumentation
 */
import { rmSync } from 'node:fs';
import { createInterface } from 'node:readline';

const pids = new Set<number>();
const dirs = new Set<string>();

// A terminal hangup or Ctrl-C aimed at the lab must not stop the guardian first.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => undefined);

createInterface({ input: process.stdin }).on('line', (line) => {
  const m = /^([+-])(pid|dir) (.+)$/.exec(line);
  if (!m) return;
  if (m[2] === 'pid') {
    const pid = Number(m[3]);
    if (m[1] === '+') pids.add(pid);
    else pids.delete(pid);
  } else if (m[1] === '+') dirs.add(m[3]!);
  else dirs.delete(m[3]!);
});

process.stdin.on('close', () => {
  for (const pid of pids) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  // Give the killed processes a moment to close their fds before removing their files.
  setTimeout(
    () => {
      for (const dir of dirs) {
        try {
          rmSync(dir, { recursive: true, force: true });
        } catch {
          /* nothing more a guardian can do */
        }
      }
      process.exit(0);
    },
    pids.size ? 200 : 0,
  );
});
