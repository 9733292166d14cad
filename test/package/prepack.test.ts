// prepack.test.ts - `npm pack` refuses a tarball that lacks a promised prebuild, or holds
// a file that is not the binary its path names, unless SYSLOCKS_ALLOW_MISSING_PREBUILDS
// says so, and then it says loudly what kind of pack it is (issue 11).
//
// Each case is a real `npm pack --dry-run` (which runs the prepack script) in a temp
// package made of the repo's package.json and scripts/prepack.js, with prebuilds/ laid
// out per case. The binaries are headers only (ELF/PE/Mach-O magic and machine fields,
// plus the glibc marker strings), which is all the check reads.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { npm, run, SLOW, type Ran } from './npm-helpers';

const REPO = resolve(__dirname, '..', '..');

function elf(machine: number, glibc: boolean): Buffer {
  const b = Buffer.alloc(256);
  b.writeUInt32BE(0x7f454c46, 0);
  b[4] = 2; // ELFCLASS64
  b[5] = 1; // ELFDATA2LSB
  b.writeUInt16LE(machine, 18);
  b.write(glibc ? 'libc.so.6\0GLIBC_2.17\0' : 'libc.so\0', 64);
  return b;
}
function macho(cpu: number): Buffer {
  const b = Buffer.alloc(64);
  b.writeUInt32LE(0xfeedfacf, 0);
  b.writeUInt32LE(cpu, 4);
  return b;
}
function pe(machine: number): Buffer {
  const b = Buffer.alloc(256);
  b.write('MZ', 0);
  b.writeUInt32LE(0x80, 0x3c);
  b.writeUInt32BE(0x50450000, 0x80);
  b.writeUInt16LE(machine, 0x84);
  return b;
}

/** Every promised prebuild, as a header of the right kind. */
const GOOD: Record<string, Buffer> = {
  'linux-x64/syslocks.glibc.node': elf(62, true),
  'linux-arm64/syslocks.glibc.node': elf(183, true),
  'linux-x64/syslocks.musl.node': elf(62, false),
  'linux-arm64/syslocks.musl.node': elf(183, false),
  'darwin-x64/syslocks.node': macho(0x01000007),
  'darwin-arm64/syslocks.node': macho(0x0100000c),
  'win32-x64/syslocks.node': pe(0x8664),
};

describe('prepack', { timeout: SLOW }, () => {
  let work = '';
  let n = 0;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'syslocks-prepack-'));
  });
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /**
   * `npm pack --dry-run --json` of a package holding `prebuilds`, under `env`; with
   * `direct`, the prepack script alone (`node scripts/prepack.js`, what npm runs).
   */
  function pack(prebuilds: Record<string, Buffer>, env: Record<string, string> = {}, direct = false): Ran {
    const dir = join(work, `p${n++}`);
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as Record<string, unknown>;
    pkg['scripts'] = { prepack: 'node scripts/prepack.js' };
    pkg['files'] = ['prebuilds/*/*.node', 'scripts/prepack.js'];
    mkdirSync(join(dir, 'scripts'), { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg));
    copyFileSync(join(REPO, 'scripts', 'prepack.js'), join(dir, 'scripts', 'prepack.js'));
    for (const [rel, bytes] of Object.entries(prebuilds)) {
      mkdirSync(dirname(join(dir, 'prebuilds', rel)), { recursive: true });
      writeFileSync(join(dir, 'prebuilds', rel), bytes);
    }
    const clean = { ...process.env };
    delete clean['SYSLOCKS_ALLOW_MISSING_PREBUILDS'];
    if (direct) return run(process.execPath, [join('scripts', 'prepack.js')], dir, { ...clean, ...env });
    return npm(['pack', '--dry-run', '--json'], dir, { ...clean, ...env });
  }

  test('every promised prebuild present: packs, and lists them', () => {
    const r = pack(GOOD);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('all 7 promised prebuilds present');
    const files = (JSON.parse(r.stdout) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path);
    for (const rel of Object.keys(GOOD)) expect(files).toContain(`prebuilds/${rel}`);
  });

  test('a missing prebuild: refuses, naming it', () => {
    const some = { ...GOOD };
    delete some['darwin-arm64/syslocks.node'];
    const r = pack(some);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('refusing to pack');
    expect(r.stderr).toContain('darwin-arm64 (prebuilds/darwin-arm64/syslocks.node)');
    expect(r.stderr).not.toContain('darwin-x64 (');
  });

  test('no prebuilds at all: refuses; SYSLOCKS_ALLOW_MISSING_PREBUILDS=all packs and says SOURCE-ONLY', () => {
    const refused = pack({});
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain('win32-x64 (prebuilds/win32-x64/syslocks.node)');
    const allowed = pack({}, { SYSLOCKS_ALLOW_MISSING_PREBUILDS: 'all' });
    expect(allowed.status, allowed.stderr).toBe(0);
    expect(allowed.stderr).toContain('SOURCE-ONLY PACK');
  });

  test('naming the missing targets allows exactly those, as a PARTIAL PACK', () => {
    const some = { ...GOOD };
    delete some['darwin-arm64/syslocks.node'];
    delete some['darwin-x64/syslocks.node'];
    const one = pack(some, { SYSLOCKS_ALLOW_MISSING_PREBUILDS: 'darwin-arm64' }, true);
    expect(one.status).not.toBe(0);
    expect(one.stderr).toContain('darwin-x64 (');
    const both = pack(some, { SYSLOCKS_ALLOW_MISSING_PREBUILDS: 'darwin-arm64,darwin-x64' });
    expect(both.status, both.stderr).toBe(0);
    expect(both.stderr).toContain('PARTIAL PACK: no prebuild for darwin-x64, darwin-arm64');
  });

  test('a file that is not the binary its path names is refused, even when missing ones are allowed', () => {
    const cases: Array<[string, Buffer, string]> = [
      ['win32-x64/syslocks.node', elf(62, true), 'not a PE file'],
      ['linux-arm64/syslocks.glibc.node', elf(62, true), 'ELF e_machine 62, expected 183'],
      ['linux-x64/syslocks.musl.node', elf(62, true), 'links glibc'],
      ['darwin-arm64/syslocks.node', macho(0x01000007), 'Mach-O cputype 0x1000007, expected 0x100000c'],
    ];
    for (const [rel, bytes, why] of cases) {
      const r = pack({ ...GOOD, [rel]: bytes }, { SYSLOCKS_ALLOW_MISSING_PREBUILDS: 'all' }, true);
      expect(r.status, rel).not.toBe(0);
      expect(r.stderr).toContain(`prebuilds/${rel}: ${why}`);
    }
  });
});
