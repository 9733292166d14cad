// One lock owner of the model-based test: a child process (JSON lines on stdin and
// stdout) or a worker thread (parentPort). A message carries a batch of commands and
// gets one reply with a result per command, so a batch costs one round trip. It
// drives the public syslocks API as users do, from the built package (or from
// MODEL_DIST, a copy with a deliberate bug, when proving the test can fail).
import { closeSync, openSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { isMainThread, parentPort } from 'node:worker_threads';

const dist = process.env.MODEL_DIST
  ? pathToFileURL(`${process.env.MODEL_DIST}/index.js`).href
  : new URL('../../dist/index.js', import.meta.url).href;
const { fcntlGetLockSync, fcntlLockSync, tryLock } = await import(dist);

/** slot name -> { fd, path, held: FileLock[] in grant order } */
const slots = new Map();
/** Locks taken by path (syslocks owns their fds), in grant order. */
const pathHeld = [];

function slotOf(name) {
  const s = slots.get(name);
  if (!s) throw new Error(`no slot ${name}`);
  return s;
}

const range = (c) => ({ start: c.start, length: c.len });

function busyOr(fn) {
  try {
    fn();
    return 'granted';
  } catch (err) {
    if (err && err.code === 'EAGAIN') return 'busy';
    throw err;
  }
}

const ops = {
  // A slot is one fd: opened here, or inherited at spawn (a dup shared with another slot).
  open: (c) => {
    const fd = c.fd ?? openSync(c.path, 'r+');
    slots.set(c.slot, { fd, path: c.path, held: [] });
    return fd;
  },
  fd: (c) => slotOf(c.slot).fd,
  reset: () => {
    for (const l of pathHeld.splice(0)) l.release();
    for (const s of slots.values()) for (const l of s.held.splice(0)) l.release();
    for (const s of slots.values()) closeSync(s.fd);
    slots.clear();
    return 'ok';
  },
  lock: (c) => {
    const s = slotOf(c.slot);
    const l = tryLock(s.fd, { kind: c.kind, mode: c.mode, range: range(c) });
    if (!l) return 'busy';
    s.held.push(l);
    return 'granted';
  },
  // By path: the library opens the file of the probe slot P0 again and owns that fd.
  plock: (c) => {
    const l = tryLock(slotOf('P0').path, { kind: c.kind, mode: c.mode, range: range(c) });
    if (!l) return 'busy';
    pathHeld.push(l);
    return 'granted';
  },
  prelease: (c) => {
    if (pathHeld.length === 0) return 'none';
    const [l] = pathHeld.splice(c.nth % pathHeld.length, 1);
    l.release();
    return 'ok';
  },
  pchange: (c) => {
    if (pathHeld.length === 0) return 'none';
    return pathHeld[c.nth % pathHeld.length].tryChangeMode(c.mode) ? 'granted' : 'busy';
  },
  set: (c) => busyOr(() => fcntlLockSync(slotOf(c.slot).fd, { mode: c.mode, ofd: c.kind === 'ofd', ...range(c) })),
  unlock: (c) => {
    fcntlLockSync(slotOf(c.slot).fd, { mode: 'unlock', ofd: c.kind === 'ofd', ...range(c) });
    return 'ok';
  },
  release: (c) => {
    const s = slotOf(c.slot);
    if (s.held.length === 0) return 'none';
    const [l] = s.held.splice(c.nth % s.held.length, 1);
    l.release();
    return 'ok';
  },
  change: (c) => {
    const s = slotOf(c.slot);
    if (s.held.length === 0) return 'none';
    return s.held[c.nth % s.held.length].tryChangeMode(c.mode) ? 'granted' : 'busy';
  },
  // Close the fd (the kernel's close rules apply) and open the file again, so the slot
  // lives on with a new open file description.
  // Its FileLocks are released first, as the API asks: a FileLock whose fd was closed
  // and whose number was reused for the SAME file cannot be told from a live one (a
  // known gap, docs/DESIGN.md "Ownership, identity and teardown"), so it would keep
  // covering bytes in the lock table.
  close: (c) => {
    const s = slotOf(c.slot);
    for (const l of s.held.splice(0)) l.release();
    closeSync(s.fd);
    s.fd = openSync(s.path, 'r+');
    return 'ok';
  },
  probe: (c) => {
    const held = fcntlGetLockSync(slotOf(c.slot).fd, { mode: c.mode, ofd: c.kind === 'ofd', ...range(c) });
    return held && { mode: held.mode, start: Number(held.start), length: Number(held.length), pid: held.pid };
  },
};

function run(cmd) {
  try {
    return ops[cmd.op](cmd);
  } catch (err) {
    return `error: ${err?.code ?? err?.name}: ${err?.message}`;
  }
}

function handle(line, send) {
  const msg = JSON.parse(line);
  send(JSON.stringify({ seq: msg.seq, results: msg.cmds.map(run) }));
}

if (isMainThread) {
  const send = (s) => process.stdout.write(s + '\n');
  createInterface({ input: process.stdin }).on('line', (l) => handle(l, send));
  process.stdin.on('end', () => process.exit(0));
  send(JSON.stringify({ seq: 0, results: [process.pid] }));
} else {
  const send = (s) => parentPort.postMessage(s);
  parentPort.on('message', (l) => handle(l, send));
  send(JSON.stringify({ seq: 0, results: [process.pid] }));
}
