// The operations of the model-based test and the model of everything around the
// locks: which process and open file description each fd belongs to, and the
// FileLock objects each fd holds. FileModel (model.ts) has the kernel's lock rules.
import { FileModel, ownerOf, type Kind, type Mode, type Seg } from './model.js';

/**
 * The fds ("slots") that take locks, and the process each lives in:
 * - A0, A1: two fds of one open file description in child process A (dup'd at
 *   spawn), so closing one keeps the description's OFD locks alive;
 * - A2: a second open of the file in process A;
 * - B0: child process B;
 * - T0, T1: two worker threads of the test process M, each with its own open.
 * Child process P takes locks by path (syslocks opens and owns a new fd for each) and
 * asks F_GETLK / F_OFD_GETLK through a probe fd that never locks.
 */
export const SLOTS = ['A0', 'A1', 'A2', 'B0', 'T0', 'T1'] as const;
export type Slot = (typeof SLOTS)[number];
export type Proc = 'A' | 'B' | 'M' | 'P';
export const PROCESS_OF: Record<Slot, Proc> = { A0: 'A', A1: 'A', A2: 'A', B0: 'B', T0: 'M', T1: 'M' };

/** A byte range as the API takes it: `len` 0 = to EOF and beyond. */
export interface Range {
  start: number;
  len: number;
}

/** One step of a test sequence; plain JSON, so a shrunk counterexample can be replayed. */
export type Op =
  /** `tryLock(fd, {kind, mode, range})`: a FileLock when granted. */
  | ({ op: 'lock'; slot: Slot; kind: Kind; mode: Mode } & Range)
  /** `fcntlLockSync(fd, {mode, ofd})`: a lock no FileLock knows of. */
  | ({ op: 'set'; slot: Slot; kind: Kind; mode: Mode } & Range)
  /** `fcntlLockSync(fd, {mode: 'unlock'})` on any range: may split a lock. */
  | ({ op: 'unlock'; slot: Slot; kind: Kind } & Range)
  /** `FileLock.release()` of the slot's nth live FileLock (modulo their number). */
  | { op: 'release'; slot: Slot; nth: number }
  /** `FileLock.tryChangeMode(mode)`: upgrade or downgrade in place. */
  | { op: 'change'; slot: Slot; nth: number; mode: Mode }
  /** `close(fd)`, then a fresh `open` of the file in the same slot. */
  | { op: 'close'; slot: Slot }
  /** In process P: `tryLock(path, {kind, mode, range})`, on a new fd syslocks owns. */
  | ({ op: 'plock'; kind: Kind; mode: Mode } & Range)
  /** In process P: `release()` of the nth lock taken by path (its owned fd is closed or deferred). */
  | { op: 'prelease'; nth: number }
  /** In process P: `tryChangeMode(mode)` of the nth lock taken by path. */
  | { op: 'pchange'; nth: number; mode: Mode };

/** What an op returns: granted or busy for requests, ok for the rest, none when no FileLock. */
export type Outcome = 'granted' | 'busy' | 'ok' | 'none';

/** A FileLock as the model sees it. */
interface Held {
  owner: string;
  /** The fd it was taken through (a path lock: none of the slots). */
  slot?: Slot;
  kind: Kind;
  mode: Mode;
  start: number;
  end: number;
}

/** The parts of [start, end] that none of `cover` overlaps. */
function subtract(start: number, end: number, cover: readonly Held[]): [number, number][] {
  let parts: [number, number][] = [[start, end]];
  for (const c of cover) {
    parts = parts.flatMap(([a, b]): [number, number][] => {
      if (c.end < a || c.start > b) return [[a, b]];
      const out: [number, number][] = [];
      if (c.start > a) out.push([a, c.start - 1]);
      if (c.end < b) out.push([c.end + 1, b]);
      return out;
    });
  }
  return parts;
}

const endOf = (r: Range): number => (r.len === 0 ? Infinity : r.start + r.len - 1);

/** The whole world: kernel lock state, descriptions and FileLocks. */
export class World {
  readonly file = new FileModel();
  /** The open file description behind each slot. */
  readonly desc: Record<Slot, number> = { A0: 1, A1: 1, A2: 2, B0: 3, T0: 4, T1: 5 };
  private nextDesc = 6;
  readonly held: Record<Slot, Held[]> = { A0: [], A1: [], A2: [], B0: [], T0: [], T1: [] };
  /** The locks process P took by path, in grant order. */
  readonly pathHeld: Held[] = [];

  private owner(slot: Slot, kind: Kind): string {
    return ownerOf(kind, PROCESS_OF[slot], this.desc[slot]);
  }

  apply(op: Op): Outcome {
    switch (op.op) {
      case 'lock':
      case 'set': {
        const h: Held = {
          owner: this.owner(op.slot, op.kind),
          slot: op.slot,
          kind: op.kind,
          mode: op.mode,
          start: op.start,
          end: endOf(op),
        };
        if (!this.file.set(h.owner, h.kind, h.mode, h.start, h.end)) return 'busy';
        if (op.op === 'lock') this.held[op.slot].push(h);
        return 'granted';
      }
      case 'plock': {
        // A lock by path opens the file again: a POSIX lock still belongs to process
        // P, an OFD lock to the new description.
        const owner = ownerOf(op.kind, 'P', this.nextDesc++);
        const h = { owner, kind: op.kind, mode: op.mode, start: op.start, end: endOf(op) };
        if (!this.file.set(owner, h.kind, h.mode, h.start, h.end)) return 'busy';
        this.pathHeld.push(h);
        return 'granted';
      }
      case 'unlock':
        this.file.unlock(this.owner(op.slot, op.kind), op.start, endOf(op));
        return 'ok';
      case 'release':
      case 'prelease': {
        const list = op.op === 'release' ? this.held[op.slot] : this.pathHeld;
        if (list.length === 0) return 'none';
        const [h] = list.splice(op.nth % list.length, 1);
        this.release(h!);
        return 'ok';
      }
      case 'change':
      case 'pchange': {
        const list = op.op === 'change' ? this.held[op.slot] : this.pathHeld;
        if (list.length === 0) return 'none';
        const h = list[op.nth % list.length]!;
        if (h.mode === op.mode) return 'granted'; // no syscall: already in that mode
        // A conversion is a new F_SETLK of the range: atomic, and refused as a whole.
        if (!this.file.set(h.owner, h.kind, op.mode, h.start, h.end)) return 'busy';
        h.mode = op.mode;
        return 'granted';
      }
      case 'close':
        this.close(op.slot);
        return 'ok';
    }
  }

  /**
   * release() unlocks only the bytes of its range that no other live FileLock of the
   * same owner covers (native/lock_table.h, "restore"): for POSIX the owner is the
   * process, for OFD the library tells owners apart by fd, so a lock through a dup()ed
   * fd of the same description is not seen as the same owner (a gap docs/DESIGN.md
   * names). Locks set with the primitives are not in the table. A lock by path then
   * closes its fd; that close is deferred while POSIX locks of the process live on the
   * file, so it drops nothing.
   */
  private release(h: Held): void {
    const others = [...Object.values(this.held).flat(), ...this.pathHeld].filter(
      (x) => x.kind === h.kind && x.owner === h.owner && (h.kind === 'posix' || x.slot === h.slot),
    );
    // Bytes that only shared locks of the owner cover go back to shared (an exclusive
    // release over the owner's shared lock leaves it shared); bytes an exclusive one
    // covers are left as the kernel has them; the rest is unlocked.
    // A release only ever gives up: it converts bytes the owner holds at that moment
    // and never takes bytes back that a close of another fd (POSIX) or a primitive
    // unlock dropped meanwhile (native/held_ranges.h).
    if (h.mode === 'exclusive') {
      const exclusive = others.filter((x) => x.mode === 'exclusive');
      const held = this.file.of(h.owner);
      for (const x of others) {
        if (x.mode !== 'shared') continue;
        const a = Math.max(x.start, h.start);
        const b = Math.min(x.end, h.end);
        if (a > b) continue;
        for (const [p, q] of subtract(a, b, exclusive)) {
          for (const l of held) {
            const from = Math.max(p, l.start);
            const to = Math.min(q, l.end);
            if (from <= to) this.file.set(h.owner, h.kind, 'shared', from, to);
          }
        }
      }
    }
    for (const [a, b] of subtract(h.start, h.end, others)) this.file.unlock(h.owner, a, b);
  }

  /**
   * fcntl(2): "If a process closes any file descriptor referring to a file, then all
   * of the process's locks on that file are released, regardless of the file
   * descriptor(s) on which the locks were obtained." OFD locks "are only
   * automatically released on the last close of the open file description, instead
   * of being released on any close of the file."
   */
  private close(slot: Slot): void {
    // The harness releases the slot's FileLocks before it closes the fd (agent.mjs).
    for (const h of this.held[slot].splice(0)) this.release(h);
    this.file.dropOwner(ownerOf('posix', PROCESS_OF[slot], 0));
    const d = this.desc[slot];
    this.desc[slot] = this.nextDesc++;
    if (!SLOTS.some((s) => this.desc[s] === d)) this.file.dropOwner(ownerOf('ofd', '', d));
    this.held[slot] = [];
  }

  /** The live descriptions, each with one slot that reaches it. */
  descriptions(): Map<number, Slot> {
    const out = new Map<number, Slot>();
    for (const s of SLOTS) if (!out.has(this.desc[s])) out.set(this.desc[s], s);
    return out;
  }

  /**
   * Locks that block a request of process P through its probe fd (a description that
   * holds nothing). F_GETLK never reports P's own POSIX locks: they are the same owner.
   */
  blockers(kind: Kind, mode: Mode, r: Range): Seg[] {
    return this.file.conflicts(ownerOf(kind, 'P', 0), mode, r.start, endOf(r));
  }
}
