/**
 * Entry of a locker **process**: `node locker-main.js --file F --kind K --epoch MS`.
 * Reads command lines on stdin, writes one JSON report per line on stdout; the first
 * line is `{"ready":true,"pid":N}`. Exits after `stop` or when stdin ends.
 * @packageDocumentation
 */
import { createInterface } from 'node:readline';
import { LockerCore, nowMs, type LockerKind, type Report } from './locker.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const file = arg('file');
if (!file) {
  process.stderr.write('usage: locker-main --file F [--kind K] [--epoch MS]\n');
  process.exit(2);
}
const core = new LockerCore(file, (arg('kind') ?? 'ofd') as LockerKind, Number(arg('epoch') ?? nowMs()));
const out = (r: Report | { ready: true; pid: number }): void => {
  process.stdout.write(JSON.stringify(r) + '\n');
};
const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  if (!line.trim()) return;
  core.push(line, (r) => {
    out(r);
    if (core.stopped) {
      rl.close();
      process.exit(0);
    }
  });
});
rl.on('close', () => {
  core.cleanup();
  // Let queued reports drain before exiting on our own.
  setTimeout(() => process.exit(0), 50);
});
out({ ready: true, pid: process.pid });
