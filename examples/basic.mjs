// The high-level API in one page. Run: node examples/basic.mjs
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { capabilities, getLock, lock, tryLock } from '../dist/index.js';

const dir = mkdtempSync(join(tmpdir(), 'syslocks-example-'));
const path = join(dir, 'app.lock');

console.log('this platform offers', capabilities());

// Waits off the event loop; the timeout ends the kernel wait itself.
const held = await lock(path, { timeout: 5_000 });
console.log(`holding an ${held.mode} ${held.kind} lock on ${held.path} through fd ${held.fd}`);

// A second open is a second owner for OFD and flock locks, so this is refused (null),
// even inside one process: worker threads exclude each other the same way.
console.log('second tryLock while held:', tryLock(path));

// Byte ranges: OFD (and POSIX) locks cover [start, start + length).
const head = tryLock(path, { kind: 'ofd', range: { start: 0, length: 100 } });
console.log('range lock while the whole file is held:', head);

// Who would block an exclusive request? (pid -1: an OFD holder, fcntl(2))
console.log('getLock:', getLock(path));

held.release();
const again = tryLock(path);
console.log('after release, tryLock gives a', again?.kind, 'lock');
again?.release(); // (in TypeScript 5.2+, `using again = tryLock(path)` releases at scope end)

rmSync(dir, { recursive: true, force: true });
