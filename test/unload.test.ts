// unload.test.ts - the addon stays loaded for the life of the process (native/addon.cc,
// PinLibrary). Node.js unloads an addon (dlclose) with the last environment that loaded
// it; a worker that alone used syslocks and was terminated while blocked in lockSync
// leaves an abandoned waiter thread in flock(2), which returns into the library once the
// lock comes free. Unpinned, the whole process died with SIGSEGV there (and, for the
// zig-built prebuilds, again at exit, in static destructors of the unmapped library).
// The other owner is util-linux flock(1), a process of its own.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { useTempFiles } from './helpers.js';

const file = useTempFiles();
const fixture = fileURLToPath(new URL('./fixtures/unload-after-terminate.mjs', import.meta.url));

describe.runIf(process.platform === 'linux')('after the only environment that loaded it ends', () => {
  it('an abandoned wait thread that wakes later does not crash the process', () => {
    // Bounded under the 60 s test timeout, and named when it runs out.
    const r = spawnSync(process.execPath, [fixture, file()], {
      encoding: 'utf8',
      timeout: 50_000,
      killSignal: 'SIGKILL',
    });
    const hung =
      (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT'
        ? 'the process did not exit within 50000 ms (killed)\n'
        : '';
    const out = `${hung}${r.stdout}\n--- stderr\n${r.stderr}`;
    expect({ status: r.status, signal: r.signal }, out).toEqual({ status: 0, signal: null });
    // Still mapped after the worker's teardown (the library was unmapped before).
    expect(r.stdout, out).toContain('terminated mapped');
    // The woken thread undid its late grant: the lock is free for this process.
    expect(r.stdout, out).toContain('free');
  });
});
