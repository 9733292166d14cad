// late_grant.cc - see late_grant.h.
#include "late_grant.h"

namespace syslocks {

LockResult UndoLateGrant(const LockRequest& req) {
  LockRequest undo = req;
  undo.type = kTypeUnlock;
  return TrySetLock(undo);
}

}  // namespace syslocks
