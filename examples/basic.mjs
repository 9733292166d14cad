// The high-level API in one page. Run: node examples/basic.mjs
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { capabilities, getLock, lock, tryLock } from '../dist/index.js';

const dir = mkdtempSync(join(tmpdir(), 'syslocks-example-'));
const path = join(dir, 'app.lock');

console.log('this platform offers', capabilities());

// Waits off the event loop; the timeout ends the kernel wait itself. The default kind
// ('auto') takes a flock for a whole file (LockFileEx on Windows), the lock Python's
// filelock and flock(1) take, so they and this lock exclude each other.
const held = await lock(path, { timeout: 5_000 });
console.log(`holding an ${held.mode} ${held.kind} lock on ${held.path} through fd ${held.fd}`);

// A second open is a second owner for flock and OFD locks, so this is refused (null),
// even inside one process: worker threads exclude each other the same way.
console.log('second tryLock while held:', tryLock(path));

// Byte ranges: OFD (and POSIX) locks cover [start, start + length). On Linux they are
// independent of flock (flock(2) NOTES): this is granted although the whole file is held.
const head = tryLock(path, { kind: 'ofd', range: { start: 0, length: 100 } });
console.log('OFD range lock beside the whole-file flock:', head && head.range);
head?.release();

// Who would block an exclusive request? On Linux: the holder's real pid, from /proc.
console.log('getLock:', getLock(path));

held.release();
const again = tryLock(path);
console.log('after release, tryLock gives a', again?.kind, 'lock');
again?.release(); // (in TypeScript 5.2+, `using again = tryLock(path)` releases at scope end)

rmSync(dir, { recursive: true, force: true });
