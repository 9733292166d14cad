// lock_table.h - the process-wide table of the locks the library holds and the fds it
// owns.
//
// One table per process, not per JS thread or per copy of the JS library, because
// the kernel's own bookkeeping is per process: fcntl(2) "If a process closes any file
// descriptor referring to a file, then all of the process's locks on that file are
// released", and the POSIX locks of all threads merge into one set per file. So only
// a process-wide view can answer "may this fd be closed now?" and "what must this
// range look like after this lock goes?". Every function takes one mutex; none of
// them blocks in the kernel (only non-blocking lock calls and close(2) run under it).
//
// What the table guarantees (docs/DESIGN.md "Ownership, identity and teardown"):
//   - identity: a lock records its file's identity when granted, and nothing is
//     unlocked or closed through an fd that now refers to another file;
//   - restore: releasing a lock or undoing a late grant leaves every other lock the
//     library holds (same process for POSIX, same fd for OFD and flock) as it was;
//   - deferred closes: an owned fd is not closed while a POSIX lock of the process
//     lives on its file (SQLite os_unix.c setPendingFd), and such fds are reused by
//     the next open of the same file and access mode, so they never pile up;
//   - teardown: an environment's locks and owned fds are released and closed once.
#ifndef SYSLOCKS_LOCK_TABLE_H_
#define SYSLOCKS_LOCK_TABLE_H_

#include <cstdint>

#include "lock_request.h"

namespace syslocks {

// A file's identity: st_dev/st_ino on POSIX, volume serial number and file index
// on Windows (GetFileInformationByHandle).
struct FileId {
  uint64_t dev = 0;
  uint64_t ino = 0;
  bool operator==(const FileId& o) const { return dev == o.dev && ino == o.ino; }
};

// Platform part (posix_locks.cc / windows_locks.cc): the identity of the file behind
// fd, or a negative code (EBADF for a closed fd).
int32_t FileIdentity(int32_t fd, FileId* out);

// What Release/ChangeMode report besides 0 and negative codes.
constexpr int32_t kLostClosed = 1;  // the fd was closed: the lock died with it
constexpr int32_t kLostReused = 2;  // the fd number now refers to another file

// Records a granted lock (req.fd already holds it) for environment `env` and returns
// its id (> 0), or a negative code when the fd's identity cannot be read (the grant
// is then undone). A POSIX grant replaces the process's own locks on its range
// (fcntl(2)), so a shared grant over another live exclusive POSIX lock of the
// process converts those bytes back to exclusive.
int64_t RegisterLock(const LockRequest& req, bool owns_fd, const void* env, LockResult* r);

// The same for a grant whose file identity was read before the wait began (waiter.h,
// WaitRegistry::Start): no syscall between a wait's grant and its caller. Returns the id.
int64_t RecordLock(const LockRequest& req, bool owns_fd, const void* env, const FileId& file);

// Releases lock `id`: checks the fd still refers to the recorded file, unlocks only
// what no other live lock of the same owner covers, closes the fd when the lock owns
// it (deferred while POSIX locks of the process live on the file). Returns 0,
// kLostClosed or kLostReused (nothing touched), or a negative code. `forget` drops the
// record without touching the kernel (a FileHandle that was closed).
int32_t ReleaseLock(int64_t id, bool forget, LockResult* r);

// Converts lock `id` to `type` without waiting (fcntl kinds). 0, kCodeAgain,
// kLostClosed/kLostReused, or a negative code.
int32_t ChangeLockMode(int64_t id, int32_t type, LockResult* r);

// An fd the library opened (path locks, queries) on `file`: owned by `env` until closed.
void AdoptFd(int32_t fd, const FileId& file, const void* env);

// Closes an owned fd, or defers the close while a POSIX lock of the process lives on
// its file. Returns 0 or a negative code from close(2).
int32_t CloseOwnedFd(int32_t fd);

// A deferred fd of the file `id` opened with access mode `accmode`, handed to `env`
// instead of a new open (SQLite os_unix.c findReusableFd); -1 when there is none.
int32_t TakeDeferredFd(const FileId& id, int32_t accmode, const void* env);
bool HasDeferredFds();

// Restores the locks of req's owner on req's range after the kernel granted `req`
// to nobody (see late_grant.h).
LockResult RestoreAfterLateGrant(const LockRequest& req);

// Environment teardown: releases every lock `env` still holds and closes every fd it
// owns, exactly once, keeping other environments' POSIX locks.
void ReleaseEnvironment(const void* env);

// For tests: fds whose close is deferred, and live table entries.
int64_t DeferredFdCount();
int64_t LiveLockCount();

}  // namespace syslocks

#endif  // SYSLOCKS_LOCK_TABLE_H_
