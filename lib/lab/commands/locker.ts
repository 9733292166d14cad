/**
 * `syslocks-lab locker --listen HOST:PORT`: the table entry; the command is in remote-locker.ts.
 * @packageDocumentation
 */
import { LOCKER_USAGE, lockerCommand as run } from '../remote-locker.js';
import { fromUsage } from './from-usage.js';

/** `locker`: releases its locks and closes its port on SIGINT/SIGTERM itself. */
export const lockerCommand = fromUsage({
  name: 'locker',
  summary: 'a locker a remote controller drives over TCP (token required)',
  usage: LOCKER_USAGE,
  ownsSignals: true,
  run,
});
