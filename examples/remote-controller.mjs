// The controller story, runnable on one machine: a remote locker listening on loopback
// with a token, a local locker, and a schedule that makes them contend.
//
//   node examples/remote-controller.mjs
//
// By hand, across two hosts (or two terminals), it is:
//
//   host-b$ umask 077; openssl rand -hex 24 > ~/.syslocks-token
//   host-b$ syslocks-lab locker --listen 0.0.0.0:7001 --token-file ~/.syslocks-token
//   host-a$ SYSLOCKS_LAB_TOKEN=$(cat token-copied-from-b) syslocks-lab controller schedule.txt
//
// (examples/controller-schedule.txt is such a schedule.) Here both run on this host:
// the locker on 127.0.0.1 (the default: loopback only), the file in a temp directory.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { capabilities } from '../dist/index.js';

const cli = fileURLToPath(new URL('../dist/lab/cli.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'remote-controller-'));
const kind = capabilities().ofd ? 'ofd' : 'flock';
const env = { ...process.env, SYSLOCKS_LAB_TOKEN: randomBytes(24).toString('hex') };

const locker = spawn(process.execPath, [cli, 'locker', '--listen', '127.0.0.1:0'], {
  env,
  stdio: ['ignore', 'pipe', 'ignore'],
});
try {
  const first = await new Promise((resolve) => createInterface({ input: locker.stdout }).once('line', resolve));
  console.log(`locker: ${first}`);
  const port = /:(\d+) pid/.exec(first)[1];
  const file = join(dir, 'app.lock');
  const schedule = join(dir, 'schedule.txt');
  writeFileSync(
    schedule,
    `locker A kind=${kind} file=${file}
locker B kind=${kind} file=${file} remote=127.0.0.1:${port}
A lock write at +0s
B lock write at +200ms
B lock write wait timeout=5000 at +400ms
A unlock at +800ms
A lock read at now+100ms
B unlock at now+500ms
A lock read wait timeout=5000 at +1500ms
A stop at +1800ms
B stop
`,
  );
  const r = spawnSync(process.execPath, [cli, 'controller', schedule], { env, encoding: 'utf8' });
  process.stdout.write(r.stdout);
  if (r.status !== 0) throw new Error(`controller exited ${r.status}: ${r.stderr}`);
} finally {
  locker.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
