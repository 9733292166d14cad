// Who a timeout names when /proc cannot name the owner: an OFD lock whose only fd is
// in flight in a unix socket (SCM_RIGHTS, sender's copy closed) is held by an open
// file description no process has an fd for. /proc/locks shows it with pid -1, and so
// do the timeout's holders and getLock().
import { spawn } from 'node:child_process';
import { expect, it, onTestFinished } from 'vitest';
import { getLock, lockSync, type LockError } from '../dist/index.js';
import { procLocks, thrown, useTempFiles, within } from './helpers.js';

const temp = useTempFiles();

const IN_FLIGHT = `
import array, fcntl, os, socket, struct, sys
fd = os.open(sys.argv[1], os.O_RDWR)
fcntl.fcntl(fd, 37, struct.pack('hhqqi', fcntl.F_WRLCK, 0, 0, 0, 0))  # F_OFD_SETLK
a, b = socket.socketpair()
a.sendmsg([b'x'], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array('i', [fd]))])
os.close(fd)
print('held', flush=True)
sys.stdin.read()
`;

it('an OFD lock in flight in a unix socket: the timeout says /proc does not show the owner', async () => {
  const f = temp();
  const py = spawn('python3', ['-c', IN_FLIGHT, f], { stdio: ['pipe', 'pipe', 'inherit'] });
  onTestFinished(() => void py.kill());
  await within(new Promise((r) => py.stdout.once('data', r)), 'python3 did not print that its lock is in flight');
  expect(procLocks(f)).toMatchObject([{ type: 'OFDLCK', pid: -1, waiting: false }]);
  const err = thrown(() => lockSync(f, { kind: 'ofd', timeout: 20 })) as LockError;
  expect(err.message).toBe(
    `ETIMEDOUT: lock wait timed out after 20 ms (held by an owner /proc does not show), fcntl(F_OFD_SETLKW) '${f}'`,
  );
  expect(err.holders).toMatchObject([{ pid: -1, command: null, kind: 'ofd', mode: 'exclusive' }]);
  // getLock: F_OFD_GETLK's -1 stays -1 when /proc has no owner to put in its place.
  expect(getLock(f, { kind: 'ofd' })).toEqual({ kind: 'ofd', mode: 'exclusive', start: 0n, length: 0n, pid: -1 });
});
