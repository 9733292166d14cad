// Compares the kernel's lock state with the model's: /proc/locks per POSIX owner
// (its pid), /proc/PID/fdinfo per open file description for OFD locks (proc(5):
// /proc/locks shows -1 as their pid), and F_GETLK / F_OFD_GETLK answers asked by a
// process that holds nothing.
import { segText, type Kind, type Mode } from './model.js';
import type { Real } from './real.js';
import { PROCESS_OF, type Proc, type Range, type World } from './world.js';

const byStart = (a: string, b: string): number =>
  Number(a.split(' ')[1]) - Number(b.split(' ')[1]) || (a < b ? -1 : a > b ? 1 : 0);

function differ(what: string, want: string[], got: string[]): string | null {
  want.sort(byStart);
  got.sort(byStart);
  if (want.join() === got.join()) return null;
  return `${what}: model [${want.join(', ')}] kernel [${got.join(', ')}]`;
}

/** Where the kernel's locks on the file differ from the model's, or null. */
export function stateDivergence(world: World, real: Real): string | null {
  const problems: string[] = [];
  const locks = real.procLocks();
  for (const p of ['A', 'B', 'M', 'P'] as Proc[]) {
    const got = locks.filter((l) => l.kind === 'POSIX' && l.pid === real.pids[p]).map((l) => l.text);
    const d = differ(`POSIX locks of process ${p}`, world.file.of(`posix:${p}`).map(segText), got);
    if (d) problems.push(d);
  }
  const pids = new Set(Object.values(real.pids));
  for (const l of locks) {
    if (l.kind === 'OFDLCK' || (l.kind === 'POSIX' && pids.has(l.pid))) continue;
    problems.push(`unexpected lock in /proc/locks: ${l.kind} ${l.text} pid ${l.pid}`);
  }
  const ofd = world.file.locks.filter((l) => l.kind === 'ofd').map(segText);
  const d = differ(
    'OFD locks on the file',
    ofd,
    locks.filter((l) => l.kind === 'OFDLCK').map((l) => l.text),
  );
  if (d) problems.push(d);
  for (const [desc, slot] of world.descriptions()) {
    const got = real.fdinfoLocks(slot).filter((l) => l.kind === 'OFDLCK');
    const d = differ(
      `OFD locks of description ${desc} (slot ${slot})`,
      world.file.of(`ofd:${desc}`).map(segText),
      got.map((l) => l.text),
    );
    if (d) problems.push(d);
  }
  return problems.length ? problems.join('\n') : null;
}

/** A probe query: a request that process P asks F_GETLK / F_OFD_GETLK about. */
export interface Query extends Range {
  op: 'probe';
  kind: Kind;
  mode: Mode;
}

/** A few queries derived from the step number, so a replay asks the same ones. */
export function queriesFor(step: number): Query[] {
  const out: Query[] = [];
  for (let j = 0; j < 4; j++) {
    const h = (step * 2654435761 + j * 40503) >>> 0;
    out.push({
      op: 'probe',
      kind: j % 2 ? 'ofd' : 'posix',
      mode: (h >>> 3) % 3 === 0 ? 'shared' : 'exclusive',
      start: (h >>> 5) % 12,
      len: (h >>> 9) % 6,
    });
  }
  return out;
}

/** The process with an fd on OFD owner "ofd:N": a slot's process, or P for a lock by path. */
function ofdProcess(world: World, owner: string): Proc {
  const slot = world.descriptions().get(Number(owner.slice('ofd:'.length)));
  return slot ? PROCESS_OF[slot] : 'P';
}

interface Answer {
  mode: Mode;
  start: number;
  length: number;
  pid: number;
}

/**
 * Checks one F_GETLK answer. fcntl(2): "If one or more incompatible locks would
 * prevent this lock being placed, then fcntl() returns details about one of those
 * locks"; "If the conflicting lock is a traditional (process-associated) record lock,
 * then the l_pid field is set to the PID of the process holding that lock. If the
 * conflicting lock is an open file description lock, then l_pid is set to -1."
 */
export function probeDivergence(world: World, real: Real, q: Query, got: unknown): string | null {
  const blockers = world.blockers(q.kind, q.mode, q);
  const expected = blockers.map((b) => ({
    mode: b.mode,
    start: b.start,
    length: b.end === Infinity ? 0 : b.end - b.start + 1,
    pid: b.kind === 'posix' ? real.pids[b.owner.slice('posix:'.length) as Proc] : -1,
    // The process holding the description, should the library ever resolve OFD holders.
    holder: b.kind === 'ofd' ? real.pids[ofdProcess(world, b.owner)] : undefined,
  }));
  const a = got as Answer | null;
  const ok =
    a === null
      ? expected.length === 0
      : typeof a === 'object' &&
        expected.some(
          (e) =>
            e.mode === a.mode &&
            e.start === a.start &&
            e.length === a.length &&
            (e.pid === a.pid || e.holder === a.pid),
        );
  if (ok) return null;
  return `${q.kind} F_GETLK ${q.mode} ${q.start}+${q.len}: model ${expected.length ? JSON.stringify(expected) : 'null'} kernel ${JSON.stringify(got)}`;
}
