// late_grant.h - what to do with a grant that arrived after the caller gave up.
//
// A timeout or abort interrupts the kernel wait, but the kernel may grant the lock in
// the same instant. Nobody will own that grant, so it must be undone, and undone so
// that every lock the caller already held before the wait is left exactly as it was
// (a POSIX lock of the process on that range, or the same fd's lock during an
// upgrade wait). The waiter threads (waiter.cc) and the JS side (lib/late_grant.ts)
// both call this one function.
#ifndef SYSLOCKS_LATE_GRANT_H_
#define SYSLOCKS_LATE_GRANT_H_

#include "lock_request.h"

namespace syslocks {

// Undoes a grant of `req` that nobody will own. Safe to call from any thread.
LockResult UndoLateGrant(const LockRequest& req);

}  // namespace syslocks

#endif  // SYSLOCKS_LATE_GRANT_H_
