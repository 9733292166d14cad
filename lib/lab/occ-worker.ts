/**
 * One writer of `syslocks-lab occ`: `node occ-worker.js --dir D --id N --commits M
 * --mode occ|lock [--kind K] [--work MS]`. Prints `ready`, waits for a line on stdin
 * (the common start), commits M transactions to the table in D, prints a JSON summary.
 *
 * The table is a log of immutable versions, `D/log/<version>.json`, each holding the
 * whole table. A transaction reads the newest version v, works `--work` ms, and
 * commits v+1 by `link(2)`-ing its fully written temp file to `log/<v+1>.json`. link
 * fails with EEXIST when that name exists ("newpath already exists", link(2)), so the
 * version check and the commit are one atomic step: exactly one writer wins each
 * version, with no lock at all. A loser counts a conflict, backs off for a random time
 * in [0, min(cap, base x 2^attempt)) ("full jitter"), re-reads and retries. In `lock`
 * mode the same transaction runs under an exclusive lock on `D/table.lock`, so its
 * link never meets EEXIST; if it did, the lock failed to exclude and it is counted.
 * @packageDocumentation
 */
import { closeSync, fsyncSync, linkSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { lock, type LockKind } from '../index.js';
import { readLatest, versionPath, type OccWorkerSummary, type TableVersion } from './occ-table.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const dir = arg('dir')!;
  const id = Number(arg('id'));
  const commits = Number(arg('commits') ?? '20');
  const mode = arg('mode') === 'lock' ? 'lock' : 'occ';
  const kind = (arg('kind') ?? 'ofd') as LockKind;
  const workMs = Number(arg('work') ?? '2');
  const baseMs = 1;
  const capMs = 100;
  const tmp = join(dir, 'tmp', `${process.pid}.json`);
  const s: OccWorkerSummary = { id, pid: process.pid, commits: 0, conflicts: 0, retried: 0, maxAttempts: 0, ms: 0 };
  let known = 0;
  const t0 = performance.now();
  for (let c = 0; c < commits; c++) {
    for (let attempt = 1; ; attempt++) {
      const held = mode === 'lock' ? await lock(join(dir, 'table.lock'), { kind, mode: 'exclusive' }) : null;
      let won = false;
      try {
        const cur = readLatest(dir, known);
        known = cur.version;
        await sleep(workMs); // the transaction's work, between read and commit
        const next: TableVersion = {
          version: cur.version + 1,
          rows: { ...cur.rows, [id]: (cur.rows[id] ?? 0) + 1 },
          total: cur.total + 1,
        };
        const fd = openSync(tmp, 'w');
        try {
          writeSync(fd, JSON.stringify(next) + '\n');
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
        try {
          linkSync(tmp, versionPath(dir, next.version)); // the atomic check-and-commit
          won = true;
          known = next.version;
        } catch (err) {
          if ((err as { code?: string }).code !== 'EEXIST') throw err;
        } finally {
          unlinkSync(tmp);
        }
      } finally {
        held?.release();
      }
      if (won) {
        s.commits++;
        s.maxAttempts = Math.max(s.maxAttempts, attempt);
        if (attempt > 1) s.retried++;
        break;
      }
      s.conflicts++;
      await sleep(Math.random() * Math.min(capMs, baseMs * 2 ** attempt));
    }
  }
  s.ms = Math.round(performance.now() - t0);
  process.stdout.write(JSON.stringify(s) + '\n');
}

process.stdout.write('ready\n');
process.stdin.once('data', () => {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`occ worker: ${(err as Error).message}\n`);
      process.exit(1);
    },
  );
});
