// lib/capabilities.ts: the OFD probe of the running kernel (once, closing its fd, false
// when it cannot probe) and what each platform's kinds make of 'auto' and of a missing
// kind. Other platforms are stood in for by replacing `native.kinds` for one test.
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import type * as Capabilities from '../dist/capabilities.js';
import { native } from '../dist/native.js';

/** A fresh copy of dist/capabilities.js: its probe has not run yet. */
async function fresh(): Promise<typeof Capabilities> {
  vi.resetModules();
  return (await import('../dist/capabilities.js')) as typeof Capabilities;
}

const openFds = (): number => readdirSync('/proc/self/fd').length;

/** Stands in another platform's kinds for the rest of the test. */
function kinds(over: Partial<typeof native.kinds>): void {
  const real = native.kinds;
  (native as { kinds: typeof native.kinds }).kinds = { ...real, ...over };
  onTestFinished(() => void ((native as { kinds: typeof native.kinds }).kinds = real));
}

describe('the OFD probe', () => {
  it('asks the kernel once and closes what it opened', async () => {
    const { capabilities } = await fresh();
    const before = openFds();
    expect(capabilities().ofd).toBe(true);
    expect(openFds()).toBe(before);
    const execPath = process.execPath;
    process.execPath = join(tmpdir(), 'no-such-node'); // a second probe would fail
    try {
      expect(capabilities().ofd).toBe(true);
    } finally {
      process.execPath = execPath;
    }
  });

  it('a probe that cannot run (nothing to open) means no OFD, and says so', async () => {
    const { capabilities, assertKindAvailable, resolveKind } = await fresh();
    const execPath = process.execPath;
    process.execPath = join(tmpdir(), 'no-such-node');
    try {
      expect(capabilities().ofd).toBe(false);
    } finally {
      process.execPath = execPath;
    }
    expect(resolveKind('auto', false)).toBe('posix');
    expect(() => assertKindAvailable('ofd')).toThrow(
      "Lock kind 'ofd' (open file description locks, Linux >= 3.15) is unavailable on this platform (linux)",
    );
  });
});

describe('kinds and auto by platform', () => {
  it('here (Linux): auto is flock for a whole file, OFD for a range; windows is unavailable', async () => {
    const { resolveKind, assertKindAvailable, capabilities } = await fresh();
    expect(capabilities()).toEqual({ platform: 'linux', flock: true, posix: true, ofd: true, windows: false });
    expect([resolveKind('auto', true), resolveKind('auto', false)]).toEqual(['flock', 'ofd']);
    expect(resolveKind('posix', false)).toBe('posix');
    expect(() => assertKindAvailable('windows')).toThrow(
      expect.objectContaining({
        code: 'ERR_FEATURE_UNAVAILABLE_ON_PLATFORM',
        message: "Lock kind 'windows' is unavailable on this platform (linux)",
      }),
    );
  });

  it('a build without OFD (macOS, BSD): auto is POSIX for a range, and the kernel is not asked', async () => {
    const { resolveKind, capabilities } = await fresh();
    kinds({ ofd: false }); // the kernel here would say yes if asked
    expect(capabilities().ofd).toBe(false);
    expect([resolveKind('auto', true), resolveKind('auto', false)]).toEqual(['flock', 'posix']);
  });

  it('Windows: auto is LockFileEx for a whole file and a range', async () => {
    const { resolveKind } = await fresh();
    kinds({ flock: false, posix: false, ofd: false, windows: true });
    expect([resolveKind('auto', true), resolveKind('auto', false)]).toEqual(['windows', 'windows']);
    expect(() => resolveKind('flock', true)).toThrow("Lock kind 'flock' is unavailable on this platform (linux)");
  });
});
