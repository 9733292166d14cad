// held_ranges.h - which bytes of a file the kernel says an owner holds right now.
//
// The lock table (lock_table.cc) restores the locks of an owner after a release, and
// a restore must only ever give up: convert or unlock bytes the owner holds, never
// take bytes it does not hold. Those can differ from what the table remembers: a
// close of any other fd of the file dropped every POSIX lock of the process (fcntl(2):
// "If a process closes any file descriptor referring to a file, then all of the
// process's locks on that file are released"), or the caller unlocked part of a range
// with a primitive. Re-setting such bytes would take a lock nobody asked for (and,
// when another process took them meanwhile, fail the caller's release with EAGAIN).
#ifndef SYSLOCKS_HELD_RANGES_H_
#define SYSLOCKS_HELD_RANGES_H_

#include <cstdint>
#include <vector>

#include "lock_request.h"

namespace syslocks {

// A held byte range [start, end); end = INT64_MAX: to EOF and beyond.
struct HeldRange {
  int64_t start;
  int64_t end;
};

// The ranges that req's owner holds on the file (dev, ino) of kind req.kind, any mode:
// POSIX: this process's locks (/proc/locks lines with our pid); OFD and flock: the
// locks of req.fd's open file description (/proc/self/fdinfo/FD "lock:" lines, which
// list the locks whose file is that description). Returns false when the kernel
// cannot say (not Linux, /proc not mounted): callers then keep their old behaviour.
bool OwnerHeldRanges(const LockRequest& req, uint64_t dev, uint64_t ino,
                     std::vector<HeldRange>* out);

}  // namespace syslocks

#endif  // SYSLOCKS_HELD_RANGES_H_
