// @ts-check
// Child processes spoken to in lines (bench/child.mjs, bench/c/handoff.c, probes), all
// killed when the bench exits, and the wait for a request to block in the kernel.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { blockedOn } from '../proclocks.mjs';

const children = new Set();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

/** A child process spoken to in lines (bench/child.mjs and bench/c/handoff.c). */
export class LineChild {
  constructor(cmd, args) {
    this.name = [cmd, ...args].join(' ');
    this.proc = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    children.add(this.proc);
    this.lines = [];
    this.waiters = [];
    this.exited = new Promise((resolve) => this.proc.on('exit', resolve));
    this.proc.on('exit', (code) => {
      children.delete(this.proc);
      for (const w of this.waiters.splice(0)) w.reject(new Error(`${cmd} ${args.join(' ')} exited (${code})`));
    });
    createInterface({ input: this.proc.stdout }).on('line', (l) => {
      const w = this.waiters.shift();
      if (w) w.resolve(l);
      else this.lines.push(l);
    });
  }
  send(cmd) {
    this.proc.stdin.write(cmd + '\n');
  }
  /** The next line; rejects after 30 s so that a stuck child never hangs the bench. */
  next() {
    if (this.lines.length) return Promise.resolve(this.lines.shift());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer from ${this.name} in 30 s`)), 30000);
      this.waiters.push({
        resolve: (l) => (clearTimeout(timer), resolve(l)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
    });
  }
  async expect(prefix) {
    const l = await this.next();
    if (!l.startsWith(prefix)) throw new Error(`expected "${prefix}", got "${l}"`);
    return l;
  }
  async quit() {
    this.send('quit');
    this.proc.stdin.end();
    await this.exited;
  }
}

/**
 * Waits until someone is blocked on the file in the kernel. true: seen; false: gave up.
 * It polls without sleeping for the first `spinMs`: a sleep of even 1 ms lets the
 * waiter's CPU go idle for long enough that waking it costs far more (a hand-off
 * "cold" instead of "warm", bench/parts/handoff.mjs), and which rounds slept would
 * decide which figure a round gives.
 */
export async function untilBlocked(ino, spinMs = 200) {
  const spinUntil = performance.now() + spinMs;
  for (let i = 0; i < 2000;) {
    const n = blockedOn(ino);
    if (n === null) {
      await sleep(5); // no /proc/locks: give the waiter time to enter the kernel
      return false;
    }
    if (n > 0) return true;
    if (performance.now() < spinUntil) {
      await new Promise((r) => setImmediate(r));
    } else {
      i++;
      await sleep(1);
    }
  }
  return false;
}
