// holder.mjs - the "other process" of the Windows suite. Reads one JSON command per
// line on stdin, answers one JSON line on stdout. Started by harness.mjs (Holder) with
// the same node.exe (process.execPath).
//
// Commands (binding level):
//   {cmd:'ping'}                                   -> {pid}
//   {cmd:'open', path, flags='r+'}                 -> {fd}
//   {cmd:'lock', fd, type, start, length}          -> {code, winerror}   (a try)
//   {cmd:'unlock', fd, start, length}              -> {code, winerror, t} (t: hrtime
//                                                     read just before UnlockFileEx)
//   {cmd:'unlockAfter', ms, fd, start, length}     -> {ok} now; unlocks ms later
// Commands (high-level API, dist/index.js):
//   {cmd:'apiTry', path, options}                  -> {ok, code?, winerror?}
//   {cmd:'apiRelease'}                             -> {t} (releases the apiTry lock)
import { openSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadBinding, repoRoot } from './harness.mjs';

const binding = loadBinding();
let api;
let held;

async function handle(msg) {
  switch (msg.cmd) {
    case 'ping':
      return { pid: process.pid };
    case 'open':
      return { fd: openSync(msg.path, msg.flags ?? 'r+') };
    case 'lock': {
      const code = binding.trySetLock(3, msg.fd, msg.type, toInt(msg.start), toInt(msg.length));
      return { code, winerror: binding.lastWinError() };
    }
    case 'unlock': {
      const t = process.hrtime.bigint();
      const code = binding.trySetLock(3, msg.fd, 2, toInt(msg.start), toInt(msg.length));
      return { code, winerror: binding.lastWinError(), t: String(t) };
    }
    case 'unlockAfter': {
      // Replies now, unlocks `ms` later (for a parent that blocks its own thread).
      setTimeout(() => binding.trySetLock(3, msg.fd, 2, toInt(msg.start), toInt(msg.length)), msg.ms);
      return { ok: true };
    }
    case 'apiTry': {
      api ??= await import(pathToFileURL(join(repoRoot, 'dist', 'index.js')).href);
      try {
        const lock = api.tryLock(msg.path, msg.options);
        if (!lock) return { ok: false, code: 'null' };
        held = lock;
        return { ok: true };
      } catch (err) {
        return { ok: false, code: err.code, winerror: err.winerror };
      }
    }
    case 'apiRelease': {
      const t = process.hrtime.bigint();
      await held?.release();
      held = undefined;
      return { t: String(t) };
    }
    default:
      return { error: `unknown command ${msg.cmd}` };
  }
}

// Numbers travel as JSON numbers, or as strings for values beyond 2^53.
function toInt(v) {
  return typeof v === 'string' ? BigInt(v) : (v ?? 0);
}

const rl = createInterface({ input: process.stdin });
let chain = Promise.resolve();
rl.on('line', (line) => {
  chain = chain.then(async () => {
    let reply;
    try {
      reply = await handle(JSON.parse(line));
    } catch (err) {
      reply = { error: String(err?.stack ?? err) };
    }
    process.stdout.write(`${JSON.stringify(reply)}\n`);
  });
});
rl.on('close', () => process.exit(0));
