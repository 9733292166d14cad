// Mode changes (SEMANTICS.md rows 9-10): atomic for POSIX and OFD, refused for flock.
import { describe, expect, it } from 'vitest';
import { tryLock, type LockKind } from '../dist/index.js';
import { processAgent, useTempFiles } from './helpers.js';

// Temp files and agents of each test are removed after it.
const file = useTempFiles();

describe.each<LockKind>(['posix', 'ofd'])('tryChangeMode, kind %s', (kind) => {
  it('a refused upgrade keeps the shared lock; it succeeds once the other reader leaves', async () => {
    const f = file();
    const other = await processAgent();
    const probe = await processAgent();
    const mine = tryLock(f, { kind, mode: 'shared' })!;
    const theirs = await other.ok<{ id: number }>('tryLock', { path: f, options: { kind, mode: 'shared' } });
    expect(mine.tryChangeMode('exclusive')).toBe(false);
    expect(mine.mode).toBe('shared');
    // Still held shared: an exclusive request from a third process is refused ...
    expect(await probe.ok('tryLock', { path: f, options: { kind } })).toBeNull();
    await other.ok('release', { id: theirs.id });
    expect(await probe.ok('tryLock', { path: f, options: { kind } })).toBeNull();
    expect(mine.tryChangeMode('exclusive')).toBe(true);
    expect(mine.mode).toBe('exclusive');
    expect(await probe.ok('tryLock', { path: f, options: { kind, mode: 'shared' } })).toBeNull();
    expect(mine.tryChangeMode('shared')).toBe(true);
    const reader = await probe.ok('tryLock', { path: f, options: { kind, mode: 'shared' } });
    expect(reader).not.toBeNull();
    mine.release();
  });
});

it('flock and a released lock refuse a mode change with a clear error', () => {
  const f = file();
  const fl = tryLock(f, { kind: 'flock', mode: 'shared' })!;
  expect(() => fl.tryChangeMode('exclusive')).toThrow(
    expect.objectContaining({ name: 'TypeError', code: 'ERR_FEATURE_UNAVAILABLE_ON_PLATFORM' }),
  );
  fl.release();
  const ofd = tryLock(f, { kind: 'ofd' })!;
  ofd.release();
  expect(() => ofd.tryChangeMode('shared')).toThrow(TypeError);
});
