// `syslocks-lab controller` and `syslocks-lab locker --listen`, as real processes talking
// over loopback TCP: the token is required (missing or wrong: refused, nothing run), a
// remote locker's lock excludes a local one, a lost controller's locks are released,
// and a command's reply bound counts from its scheduled time.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScheduleResult } from '../../dist/lab/run-schedule.js';
import { firstLine, within } from '../helpers.js';
import { CLI, runCli } from './cli.js';

const TOKEN = 'test-token-0123456789abcdef';
const dir = mkdtempSync(join(tmpdir(), 'syslocks-controller-'));
let locker: ChildProcessWithoutNullStreams;
let port = 0;
let lockerLog = '';

/** Runs the CLI to completion; one still going after 40 s (a hang guard) is killed and fails naming it. */
function run(args: string[], env: Record<string, string | undefined>) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    let hung = false;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, 40_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (hung)
        reject(
          new Error(
            `syslocks-lab ${args.join(' ')} did not exit within 40000 ms (killed); stdout: ${stdout}; stderr: ${stderr}; locker log: ${lockerLog}`,
          ),
        );
      else resolve({ code, stdout, stderr });
    });
  });
}

/** Sends raw lines to the locker port and collects what it answers until it closes the connection. */
function raw(lines: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port });
    let got = '';
    s.on('connect', () => s.write(lines.map((l) => l + '\n').join('')));
    s.on('data', (d) => (got += d.toString()));
    // A reset after the answer arrived is a close too (the locker drops unread input).
    s.on('error', (err) => (got ? resolve(got) : reject(err)));
    s.on('close', () => resolve(got));
    setTimeout(() => s.destroy(new Error(`connection not closed by the locker; got ${got}`)), 10_000).unref();
  });
}

function schedule(name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, body);
  return path;
}

beforeAll(async () => {
  locker = spawn(process.execPath, [CLI, 'locker', '--listen', '127.0.0.1:0'], {
    env: { ...process.env, SYSLOCKS_LAB_TOKEN: TOKEN },
  });
  locker.stderr.on('data', (d: Buffer) => (lockerLog += d.toString()));
  const first = await firstLine(
    locker.stdout,
    () => `locker --listen did not print its listening line (stderr: ${lockerLog})`,
  );
  const m = /^listening on 127\.0\.0\.1:(\d+) pid (\d+)$/.exec(first);
  expect(m, first).not.toBeNull();
  port = Number(m![1]);
  expect(Number(m![2])).toBe(locker.pid);
});

afterAll(() => {
  locker?.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(process.platform !== 'linux')('controller + remote locker over loopback TCP', () => {
  it('a remote ofd lock excludes a local one and the other way round; timeline and holds per pid', async () => {
    const file = join(dir, 'shared.lock');
    const path = schedule(
      'two.sched',
      `# A local, B remote, one file
locker A kind=ofd file=${file}
locker B kind=ofd file=${file} remote=127.0.0.1:${port}
A lock write at +0s
B lock write at +300ms
B lock write wait timeout=5000 at +600ms
A unlock at +1s
A lock write at now+100ms
B unlock at now+300ms
A stop
B stop
`,
    );
    const r = await run(['controller', path, '--json'], { SYSLOCKS_LAB_TOKEN: TOKEN });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const res = JSON.parse(r.stdout) as ScheduleResult;
    const a = res.lockers.find((l) => l.name === 'A')!;
    const b = res.lockers.find((l) => l.name === 'B')!;
    expect(b.where).toBe(`127.0.0.1:${port}`);
    expect(b.pid).toBe(locker.pid); // B's reports come from the listening locker process
    expect(a.pid).not.toBe(b.pid);
    const results = (who: string) =>
      res.events.filter((e) => e.locker === who).map((e) => `${e.command} -> ${e.result}`);
    expect(results('B')).toEqual([
      'lock write -> conflict', // A holds it
      'lock write wait timeout=5000 -> granted', // after A's unlock
      'unlock -> released',
      'stop -> done',
    ]);
    // A asks again 100 ms after its unlock: B holds it by then.
    expect(results('A')).toEqual([
      'lock write -> granted',
      'unlock -> released',
      'lock write -> conflict',
      'stop -> done',
    ]);
    // Who held what when: A then B, never both (the remote wait ends after A's release).
    const [h1, h2, ...more] = res.holds;
    expect(more).toEqual([]);
    expect([h1!.locker, h2!.locker]).toEqual(['A', 'B']);
    expect(h1!.to).not.toBeNull();
    expect(h2!.from).toBeGreaterThanOrEqual(h1!.to! - 5); // clock offset estimate: a few ms
    expect(lockerLog).toMatch(/authenticated: ofd/);
  });

  it('the table form shows the timeline, the holds and a summary per locker', async () => {
    const file = join(dir, 'table.lock');
    const path = schedule(
      'table.sched',
      `locker A kind=flock file=${file}\nlocker B kind=flock file=${file} remote=127.0.0.1:${port}\nA lock write at +0s\nB lock read at +200ms\nA stop at +500ms\nB stop\n`,
    );
    const r = await run(['controller', path], { SYSLOCKS_LAB_TOKEN: TOKEN });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^timeline$/m);
    expect(r.stdout).toMatch(/B\s+\d+\s+lock read -> conflict/);
    expect(r.stdout).toMatch(/^holds \(who held what when\)$/m);
    expect(r.stdout).toMatch(new RegExp(`B\\s+127\\.0\\.0\\.1:${port}\\s+${locker.pid}\\s+flock\\s+0\\s+1`));
  });

  it('refuses a controller without the token or with a wrong one, and runs nothing for it', async () => {
    const never = join(dir, 'never-created');
    const hello = (token?: string) =>
      JSON.stringify({ hello: 'syslocks-lab/1', ...(token === undefined ? {} : { token }), file: never, kind: 'ofd' });
    expect(await raw([hello(), 'epoch 0', 'lock write'])).toBe('{"error":"unauthorized"}\n');
    expect(await raw([hello('test-token-0123456789abcdeX'), 'epoch 0', 'lock write'])).toBe(
      '{"error":"unauthorized"}\n',
    );
    expect(await raw([hello(TOKEN.slice(0, -1)), 'epoch 0', 'lock write'])).toBe('{"error":"unauthorized"}\n');
    expect(await raw(['lock write', 'epoch 0'])).toBe('{"error":"unauthorized"}\n');
    expect(existsSync(never)).toBe(false); // no command ran: the lock file was never opened
    expect(lockerLog).toMatch(/refused 127\.0\.0\.1:\d+: unauthorized/);

    const path = schedule('wrong.sched', `locker B kind=ofd file=${never} remote=127.0.0.1:${port}\nB lock write\n`);
    const r = await run(['controller', path], { SYSLOCKS_LAB_TOKEN: 'not-the-token-0123456789' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/refused the connection: unauthorized/);
    const none = await run(['controller', path], { SYSLOCKS_LAB_TOKEN: undefined });
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/no token \(env SYSLOCKS_LAB_TOKEN is not set\)/);
    expect(existsSync(never)).toBe(false);
  });

  it('a lost controller releases its locks, and the locker accepts the next controller', async () => {
    const file = join(dir, 'lost.lock');
    const lab = new URL('../../dist/lab/index.js', import.meta.url).pathname;
    // A controller process that takes the lock through the remote locker and then hangs.
    const ctl = spawn(
      process.execPath,
      [
        '-e',
        `const { Controller } = require(${JSON.stringify(lab)});
         (async () => {
           const c = new Controller();
           const b = await c.connect({ host: '127.0.0.1', port: ${port}, token: ${JSON.stringify(TOKEN)}, file: ${JSON.stringify(file)}, kind: 'posix' });
           const r = await b.send('lock write');
           console.log(r.result, r.pid);
           setInterval(() => {}, 1000);
         })();`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const closed = new Promise((r) => ctl.once('close', r));
    const line = await firstLine(ctl.stdout, 'the controller did not print the result of its lock write').catch(
      (e: unknown) => {
        ctl.kill('SIGKILL'); // none outlives a failure
        throw e;
      },
    );
    expect(line).toBe(`granted ${locker.pid}`);
    // While that controller lives, the lock is held by the locker process (try names the holder).
    const busy = await runCli(['try', file, '--kind', 'posix']);
    expect(busy.code).toBe(1);
    expect(busy.stdout).toContain(`pid ${locker.pid}`);
    ctl.kill('SIGKILL');
    await within(closed, 'the controller did not close after SIGKILL');
    // The locker sees the connection end and closes the session's fds: released.
    let free = await runCli(['try', file, '--kind', 'posix']);
    for (let i = 0; i < 50 && free.code !== 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      free = await runCli(['try', file, '--kind', 'posix']);
    }
    expect(free.code, free.stdout).toBe(0);
    expect(lockerLog).toMatch(/gone: its locks are released/);
    // And a new controller is served by the same locker process.
    const path = schedule(
      'next.sched',
      `locker B kind=posix file=${file} remote=127.0.0.1:${port}\nB lock write\nB stop\n`,
    );
    const r = await run(['controller', path, '--json'], { SYSLOCKS_LAB_TOKEN: TOKEN });
    expect(r.code, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout) as ScheduleResult;
    expect(res.events.map((e) => [e.result, e.pid])).toEqual([
      ['granted', locker.pid],
      ['done', locker.pid],
    ]);
  });

  it("a reply is awaited from the command's scheduled time, not its send time", async () => {
    const file = join(dir, 'late.lock');
    // Reply bound 500 ms, command scheduled 2 s ahead: counted from send time it would fail.
    const path = schedule(
      'late.sched',
      `locker A kind=ofd file=${file}\nlocker B kind=ofd file=${file} remote=127.0.0.1:${port}\nA lock write at +2s\nB lock write at now+1500ms\nA stop\nB stop\n`,
    );
    const r = await run(['controller', path, '--json', '--reply-timeout', '500'], { SYSLOCKS_LAB_TOKEN: TOKEN });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const res = JSON.parse(r.stdout) as ScheduleResult;
    const lockA = res.events.find((e) => e.locker === 'A' && e.command === 'lock write')!;
    expect(lockA.result).toBe('granted');
    expect(lockA.scheduled).toBe(2000);
    expect(lockA.t).toBeGreaterThanOrEqual(2000);
    expect(res.events.find((e) => e.locker === 'B' && e.command === 'lock write')!.result).toBe('granted');
  });
});

describe.skipIf(process.platform !== 'linux')('locker start-up', () => {
  it('refuses to start without a token, or with a short one', () => {
    const env = { ...process.env };
    delete env['SYSLOCKS_LAB_TOKEN'];
    const none = spawnSync(process.execPath, [CLI, 'locker', '--listen', '0'], { env, encoding: 'utf8' });
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/no token: set SYSLOCKS_LAB_TOKEN or pass --token-file/);
    const short = spawnSync(process.execPath, [CLI, 'locker', '--listen', '0'], {
      env: { ...env, SYSLOCKS_LAB_TOKEN: 'short' },
      encoding: 'utf8',
    });
    expect(short.status).toBe(2);
    expect(short.stderr).toMatch(/at least 16 characters/);
  });

  it('refuses a token file others can read', () => {
    const f = join(dir, 'token');
    writeFileSync(f, TOKEN, { mode: 0o644 });
    const r = spawnSync(process.execPath, [CLI, 'locker', '--listen', '0', '--token-file', f], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/readable by group or others/);
  });

  it('the API is the documented subpath syslocks/lab', () => {
    const r = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "import { Controller, runSchedule, serveLocker } from 'syslocks/lab'; console.log(typeof Controller, typeof runSchedule, typeof serveLocker)",
      ],
      { encoding: 'utf8', cwd: new URL('../..', import.meta.url).pathname },
    );
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('function function function');
  });
});
