/**
 * One process of `syslocks-lab counter`: `node counter-worker.js --dir D --kind K
 * --iterations M [--no-lock]`. Prints `ready`, waits for a line on stdin (the common
 * start signal), then M times: lock the lock file, read the counter, +1, write it to
 * a temp file, fsync, rename it over the data file, unlock. Prints a JSON summary.
 * @packageDocumentation
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { lockSync, type LockKind } from '../index.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const dir = arg('dir')!;
const kind = (arg('kind') ?? 'ofd') as LockKind;
const iterations = Number(arg('iterations') ?? '100');
const noLock = process.argv.includes('--no-lock');
const lockPath = join(dir, 'counter.lock');
const dataPath = join(dir, 'counter.data');
const tmpPath = join(dir, `counter.data.${process.pid}.tmp`);

function readCounter(): number {
  try {
    return Number(readFileSync(dataPath, 'utf8').trim() || '0');
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return 0;
    throw err;
  }
}

function increment(): void {
  const value = readCounter() + 1;
  const fd = openSync(tmpPath, 'w');
  try {
    writeSync(fd, `${value}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmpPath, dataPath);
}

process.stdout.write('ready\n');
process.stdin.once('data', () => {
  const t0 = performance.now();
  for (let i = 0; i < iterations; i++) {
    if (noLock) {
      increment();
      continue;
    }
    const held = lockSync(lockPath, { kind, timeout: 60_000 });
    try {
      increment();
    } finally {
      held.release();
    }
  }
  process.stdout.write(JSON.stringify({ pid: process.pid, iterations, ms: performance.now() - t0 }) + '\n');
  process.exit(0);
});
