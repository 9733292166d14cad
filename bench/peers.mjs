// Peer packages for `npm run bench -- --peers` (or BENCH_PEERS=1). They are never
// dependencies of syslocks: the bench installs them on demand into bench/out/peers/
// (gitignored) and measures them in the same run as syslocks and the C baselines.
//
// Exact versions: the ones whose behaviour the project's peer research notes document.
// What each one does on Linux (read in the installed sources):
//   fs-native-extensions: tryLock/unlock = fcntl(F_OFD_SETLK) (an OFD lock, whole
//     file); waitForLock = F_OFD_SETLKW on a new thread per wait (uv_thread_create).
//   fs-ext: flockSync/flock = flock(2); the callback form runs on libuv's threadpool
//     (uv_queue_work), blocking a pool thread for as long as it waits.
//   os-lock: lock/unlock = fcntl(F_SETLK / F_SETLKW) (POSIX record locks), both
//     Promises over napi_create_async_work: libuv's threadpool again.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
export const PEER_DIR = join(HERE, 'out', 'peers');

/** name -> { version, kind: the lock kind its calls make (the C baseline it is compared with) } */
export const PEERS = {
  'fs-native-extensions': { version: '1.5.1', kind: 'ofd' },
  'fs-ext': { version: '2.1.1', kind: 'flock' },
  'os-lock': { version: '2.0.0', kind: 'posix' },
};

const requirePeer = () => createRequire(join(PEER_DIR, 'package.json'));

/** Loads one installed peer (its native addon included); throws if it is missing or another version. */
export function loadPeer(name) {
  const req = requirePeer();
  const version = req(`${name}/package.json`).version;
  if (version !== PEERS[name].version) throw new Error(`installed ${name}@${version}, want ${PEERS[name].version}`);
  return req(name);
}

/**
 * Makes the pinned peers available in bench/out/peers: reuses what is installed there,
 * else runs `npm install --prefix bench/out/peers ...`. Never throws.
 * Returns { modules: {name: module}, unavailable: {name: reason}, installed: 'reused' | 'npm install' | 'failed', log }.
 */
export function ensurePeers() {
  const tryAll = () => {
    const modules = {};
    const unavailable = {};
    for (const name of Object.keys(PEERS)) {
      try {
        modules[name] = loadPeer(name);
      } catch (err) {
        unavailable[name] =
          err.code === 'MODULE_NOT_FOUND' && /package\.json/.test(err.message)
            ? 'not installed'
            : String(err.message).split('\n')[0];
      }
    }
    return { modules, unavailable };
  };
  let got = tryAll();
  if (!Object.keys(got.unavailable).length) return { ...got, installed: 'reused' };

  mkdirSync(PEER_DIR, { recursive: true });
  // A package.json of its own keeps npm from walking up into the syslocks package, and
  // its allowScripts lets npm versions that gate install scripts build fs-ext and
  // os-lock (node-gyp) without asking.
  const pkg = join(PEER_DIR, 'package.json');
  if (!existsSync(pkg) || !readFileSync(pkg, 'utf8').includes('allowScripts')) {
    writeFileSync(
      pkg,
      JSON.stringify(
        {
          name: 'syslocks-bench-peers',
          private: true,
          description: 'Written by bench/peers.mjs: peers measured by npm run bench -- --peers. Not a dependency.',
          allowScripts: { 'fs-ext@2.1.1': true, 'os-lock@2.0.0': true },
        },
        null,
        2,
      ) + '\n',
    );
  }
  let log = '';
  const npmInstall = (names, timeoutS) => {
    const args = [
      'install',
      '--prefix',
      PEER_DIR,
      '--no-save',
      '--no-audit',
      '--no-fund',
      ...names.map((n) => `${n}@${PEERS[n].version}`),
    ];
    const r = spawnSync('npm', args, { encoding: 'utf8', timeout: timeoutS * 1000 });
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
    log += `$ npm ${args.join(' ')}\n${out}\n`;
    const failed = r.error
      ? `npm: ${r.error.code === 'ETIMEDOUT' ? `timed out after ${timeoutS} s` : r.error.message}`
      : r.status !== 0
        ? `npm install exited ${r.status}${r.signal ? ` (${r.signal})` : ''}`
        : null;
    return { failed, network: /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ENETUNREACH|ECONNRESET|ETIMEDOUT/.test(out) };
  };
  const first = npmInstall(Object.keys(PEERS), 150);
  got = tryAll();
  const why = {};
  for (const name of Object.keys(got.unavailable)) why[name] = first.failed;
  // npm rolls the whole install back when one package's build fails (no compiler for
  // fs-ext / os-lock): then try each missing peer alone, unless the network is the cause.
  if (first.failed && !first.network && !/timed out/.test(first.failed)) {
    for (const name of Object.keys(got.unavailable)) why[name] = npmInstall([name], 60).failed;
    got = tryAll();
  }
  writeFileSync(join(PEER_DIR, 'install.log'), log);
  for (const name of Object.keys(got.unavailable)) if (why[name]) got.unavailable[name] += `; ${why[name]}`;
  return { ...got, installed: first.failed ? `npm install failed: ${first.failed}` : 'npm install', log };
}
