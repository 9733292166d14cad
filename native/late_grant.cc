// late_grant.cc - see late_grant.h.
#include "late_grant.h"

#include "lock_table.h"

namespace syslocks {

// The kernel now holds req.type on req's range for req's owner (the process for
// POSIX, the fd's open file description for OFD and flock). The lock table knows
// what that owner held there before the wait: those types are set back first, then
// the rest of the range is unlocked (lock_table.cc Restore).
LockResult UndoLateGrant(const LockRequest& req) { return RestoreAfterLateGrant(req); }

}  // namespace syslocks
