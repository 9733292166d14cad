// A tiny JSON key-value store shared by several processes: readers take shared locks,
// writers an exclusive one, and a write replaces the file atomically (write a temp
// file, fsync, rename) while the lock lives on a separate lock file, so replacing the
// data never replaces the lock's inode (SEMANTICS.md row 19).
//
//   node examples/keystore.mjs            # runs a demo: 4 writer processes, 1 reader
//   node examples/keystore.mjs put DIR K V / get DIR K
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdtempSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lock } from '../dist/index.js';

function readStore(dir) {
  const data = join(dir, 'store.json');
  return existsSync(data) ? JSON.parse(readFileSync(data, 'utf8')) : {};
}

function writeStore(dir, store) {
  const tmp = join(dir, `store.json.${process.pid}.tmp`);
  const fd = openSync(tmp, 'w');
  writeSync(fd, JSON.stringify(store));
  fsyncSync(fd);
  closeSync(fd);
  renameSync(tmp, join(dir, 'store.json'));
}

export async function get(dir, key) {
  const l = await lock(join(dir, 'store.lock'), { mode: 'shared', timeout: 10_000 });
  try {
    return readStore(dir)[key];
  } finally {
    l.release();
  }
}

export async function update(dir, key, fn) {
  const l = await lock(join(dir, 'store.lock'), { mode: 'exclusive', timeout: 10_000 });
  try {
    const store = readStore(dir);
    store[key] = fn(store[key]);
    writeStore(dir, store);
  } finally {
    l.release();
  }
}

const [cmd, dir, key, value] = process.argv.slice(2);
if (cmd === 'put') {
  await update(dir, key, () => value);
} else if (cmd === 'get') {
  console.log(await get(dir, key));
} else if (cmd === 'incr') {
  for (let i = 0; i < Number(value); i++) await update(dir, key, (v) => (v ?? 0) + 1);
} else {
  const demo = mkdtempSync(join(tmpdir(), 'syslocks-keystore-'));
  const self = fileURLToPath(import.meta.url);
  const writers = Array.from({ length: 4 }, () =>
    import('node:child_process').then(
      ({ spawn }) =>
        new Promise((resolve) =>
          spawn(process.execPath, [self, 'incr', demo, 'hits', '250'], { stdio: 'inherit' }).on('exit', resolve),
        ),
    ),
  );
  await Promise.all(writers);
  const got = spawnSync(process.execPath, [self, 'get', demo, 'hits'], { encoding: 'utf8' }).stdout.trim();
  console.log(`4 processes x 250 locked increments -> hits = ${got} (expected 1000)`);
  rmSync(demo, { recursive: true, force: true });
  process.exitCode = got === '1000' ? 0 : 1;
}
