// The multi-terminal story, runnable: one shared counter, workers started separately.
//
//   node examples/multi-terminal.mjs
//
// By hand it is four terminals (or four hosts on a shared filesystem):
//
//   t0$ syslocks-lab counter init --dir /shared/counter --kind ofd
//   t1$ syslocks-lab counter worker --dir /shared/counter --id 1 --iterations 20
//   t2$ syslocks-lab counter worker --dir /shared/counter --id 2 --iterations 20
//   t3$ SYSLOCKS_LOCK_TIMEOUT=5000 syslocks-lab counter worker --dir /shared/counter --id 3 --iterations 20
//   t4$ syslocks-lab counter worker --dir /shared/counter --id 4 --iterations 20 --lock-timeout 5000
//   t0$ syslocks-lab counter verify --dir /shared/counter
//
// Here the four workers are four separate processes started at once.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { capabilities } from '../dist/index.js';

const cli = fileURLToPath(new URL('../dist/lab/cli.js', import.meta.url));
const dir = join(mkdtempSync(join(tmpdir(), 'multi-terminal-')), 'counter');
const kind = capabilities().ofd ? 'ofd' : 'flock';
const lab = (...args) => {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
  process.stdout.write(r.stdout);
  return r.status;
};
try {
  lab('counter', 'init', '--dir', dir, '--kind', kind);
  const workers = [1, 2, 3, 4].map(
    (id) =>
      new Promise((resolve) => {
        const w = spawn(
          process.execPath,
          [cli, 'counter', 'worker', '--dir', dir, '--id', String(id), '--iterations', '20'],
          {
            env: { ...process.env, SYSLOCKS_LOCK_TIMEOUT: '30000' },
            stdio: ['ignore', 'inherit', 'inherit'],
          },
        );
        w.on('close', resolve);
      }),
  );
  const codes = await Promise.all(workers);
  if (codes.some((c) => c !== 0)) throw new Error(`a worker failed: ${codes}`);
  if (lab('counter', 'verify', '--dir', dir) !== 0) throw new Error('verify found lost updates');
} finally {
  rmSync(join(dir, '..'), { recursive: true, force: true });
}
