// Shared by the bench scripts: how many requests are blocked in the kernel on a file.
import { readFileSync } from 'node:fs';

/**
 * Blocked requests ("->" lines, proc(5)) on inode `ino` in /proc/locks; null where
 * there is no /proc/locks (off Linux).
 */
export function blockedOn(ino) {
  let text;
  try {
    text = readFileSync('/proc/locks', 'utf8');
  } catch {
    return null;
  }
  let n = 0;
  for (const line of text.split('\n')) if (line.includes('->') && line.includes(`:${ino} `)) n++;
  return n;
}
