// harness.mjs - a tiny sequential test runner for the Windows suite. Under Wine there
// is no vitest: plain node:assert, one line per test, `N passed, N failed` at the end,
// exit code 1 on any failure. Also: a JSON-lines helper process (holder.mjs) and the
// raw binding loader.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, '..', '..');
export const isWine = detectWine();

// Windows libuv codes (libuv include/uv/errno.h, Windows branch).
export const UV = {
  EAGAIN: -4088,
  EBADF: -4083,
  ECANCELED: -4081,
  EINVAL: -4071,
  ENOENT: -4058,
  ENOSYS: -4054,
  ETIMEDOUT: -4039,
  EACCES: -4092,
};
export const KIND = { flock: 0, posix: 1, ofd: 2, windows: 3 };
export const TYPE = { shared: 0, exclusive: 1, unlock: 2 };
export const ERROR_LOCK_VIOLATION = 33;
export const ERROR_NOT_LOCKED = 158;

function detectWine() {
  // Wine's ntdll exports wine_get_version; a real Windows has no HKCU\Software\Wine.
  // Cheapest check from JS: the Z: drive Wine maps to the Unix root, or WINEPREFIX.
  if (process.env.WINEPREFIX || process.env.WINELOADERNOEXEC) return true;
  return process.platform === 'win32' && existsSync('Z:\\proc\\self');
}

export const bindingPath = join(repoRoot, 'prebuilds', 'win32-x64', 'syslocks.node');
export function loadBinding() {
  return createRequire(import.meta.url)(bindingPath);
}

export function tempDir(prefix = 'syslocks-win-') {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir) {
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch {
    /* a file may still be open in a killed child; the prefix is thrown away anyway */
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const tests = [];
export function test(name, fn, { timeout = 20000 } = {}) {
  tests.push({ name, fn, timeout });
}

/** Facts worth reporting that are not assertions (what Wine did, measurements). */
const notes = [];
export function note(line) {
  notes.push(line);
  console.log(`  note: ${line}`);
}

export async function run(title) {
  let passed = 0;
  let failed = 0;
  console.log(
    `# ${title} (node ${process.version}, ${process.platform}-${process.arch}${isWine ? ', under Wine' : ''})`,
  );
  for (const t of tests) {
    const start = performance.now();
    let timer;
    try {
      await Promise.race([
        Promise.resolve().then(t.fn),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`timed out after ${t.timeout} ms`)), t.timeout);
        }),
      ]);
      passed++;
      console.log(`ok   ${t.name} (${Math.round(performance.now() - start)} ms)`);
    } catch (err) {
      failed++;
      console.log(
        `FAIL ${t.name}\n     ${String(err?.stack ?? err)
          .split('\n')
          .join('\n     ')}`,
      );
    } finally {
      clearTimeout(timer);
      await Holder.killAll();
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  // Exit explicitly: a stray handle must not keep node.exe (and the Wine step) alive.
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
}

/**
 * A second node.exe answering JSON-lines commands over stdio pipes (pipes between two
 * Windows processes work under Wine). See holder.mjs for the commands.
 */
export class Holder {
  static live = new Set();

  static async start(mode = 'binding') {
    const h = new Holder(mode);
    await h.call({ cmd: 'ping' });
    return h;
  }

  static async killAll() {
    for (const h of [...Holder.live]) await h.kill();
  }

  constructor(mode) {
    this.child = spawn(process.execPath, [join(here, 'holder.mjs'), mode], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    this.exited = new Promise((r) => this.child.once('exit', (code, signal) => r({ code, signal })));
    this.pending = [];
    this.buf = '';
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (chunk) => {
      this.buf += chunk;
      let i;
      while ((i = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 1);
        const waiter = this.pending.shift();
        if (waiter) waiter.resolve(JSON.parse(line));
      }
    });
    this.child.once('exit', () => {
      for (const w of this.pending.splice(0)) w.reject(new Error('holder exited'));
      Holder.live.delete(this);
    });
    Holder.live.add(this);
  }

  call(msg) {
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.child.stdin.write(`${JSON.stringify(msg)}\n`);
    });
  }

  async kill() {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill();
    await this.exited;
  }
}
