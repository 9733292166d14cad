/**
 * A grant that arrived after the caller gave up (timeout or abort in the same instant
 * as the kernel's grant). The undo lives in the addon (native/late_grant.h), shared with
 * the waiter threads, so that JS and native undo a late grant the same way: leaving
 * every lock the caller held before the wait exactly as it was.
 * @internal
 */
import { KIND_CODE, TYPE_CODE, native } from './native.js';
import type { Request } from './syscall.js';

/** Undoes a grant of `req` that nobody will own. Never throws: the caller reports its own error. */
export function undoLateGrant(req: Request): void {
  // The result is not reported: the caller's timeout or abort error says what happened.
  native.undoLateGrant(KIND_CODE[req.kind], req.fd, TYPE_CODE[req.mode], req.start, req.length);
}
