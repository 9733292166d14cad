// @ts-check
// Where this process's threads last ran (Linux): for bench/placement.mjs, through
// bench/child.mjs.
import { readFileSync, readdirSync } from 'node:fs';

/** The last CPU of a thread of this process: proc(5), field 39 of /proc/self/task/<tid>/stat. */
function lastCpu(tid) {
  const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[36]);
}

function isWaiter(tid) {
  try {
    return readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').includes('(syslocks-wait)');
  } catch {
    return false;
  }
}

// The waiter thread parks between waits and is reused (while within its linger), so it
// is looked up once; a new thread is looked up again.
/** @type {string | undefined} */
let waiter;

/** "<js thread's CPU> <waiter thread's CPU>" (-1 when there is no waiter thread). */
export function threadCpus() {
  if (waiter === undefined || !isWaiter(waiter)) waiter = readdirSync('/proc/self/task').find(isWaiter);
  return `${lastCpu(process.pid)} ${waiter === undefined ? -1 : lastCpu(waiter)}`;
}
