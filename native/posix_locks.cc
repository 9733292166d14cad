// posix_locks.cc - flock(2), fcntl(2) POSIX record locks and Linux OFD locks.
//
// Every function maps one request onto one syscall; policy (which kind, which
// range, what contention means to the caller) lives in lib/.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>

#include "errors.h"
#include "lock_request.h"
#include "lock_table.h"

namespace syslocks {

namespace {

// F_OFD_* are Linux >= 3.15 (fcntl(2): "Open file description locks (non-POSIX)").
// They come from <fcntl.h> with _GNU_SOURCE; a build against older headers simply
// lacks the kind, and lib/capabilities.ts also probes the running kernel.
#if defined(__linux__) && defined(F_OFD_SETLK) && defined(F_OFD_SETLKW) && defined(F_OFD_GETLK)
constexpr bool kHaveOfd = true;
#else
constexpr bool kHaveOfd = false;
#endif

short FcntlType(int32_t type) {
  switch (type) {
    case kTypeShared:
      return F_RDLCK;
    case kTypeExclusive:
      return F_WRLCK;
    default:
      return F_UNLCK;
  }
}

int32_t TypeCode(short fcntl_type) {
  if (fcntl_type == F_RDLCK) return kTypeShared;
  if (fcntl_type == F_WRLCK) return kTypeExclusive;
  return -1;
}

int FlockOp(int32_t type) {
  switch (type) {
    case kTypeShared:
      return LOCK_SH;
    case kTypeExclusive:
      return LOCK_EX;
    default:
      return LOCK_UN;
  }
}

void FillFlock(const LockRequest& req, struct flock* fl) {
  memset(fl, 0, sizeof(*fl));
  fl->l_type = FcntlType(req.type);
  // lib/ resolves every offset to an absolute one, so the kernel never sees
  // SEEK_CUR (shared with fs.read's file position) or SEEK_END (sized at call time).
  fl->l_whence = SEEK_SET;
  fl->l_start = static_cast<off_t>(req.start);
  fl->l_len = static_cast<off_t>(req.length);
  // fcntl(2): for F_OFD_* "the l_pid field ... must be set to zero" (else EINVAL).
  fl->l_pid = 0;
}

int SetCommand(int32_t kind, bool wait) {
#if defined(F_OFD_SETLK)
  if (kind == kKindOfd) return wait ? F_OFD_SETLKW : F_OFD_SETLK;
#endif
  return wait ? F_SETLKW : F_SETLK;
}

// One attempt. Returns 0 or -errno.
int SetOnce(const LockRequest& req, bool wait) {
  if (req.kind == kKindFlock) {
    int op = FlockOp(req.type);
    if (!wait && req.type != kTypeUnlock) op |= LOCK_NB;
    return flock(req.fd, op) == 0 ? 0 : -errno;
  }
  struct flock fl;
  FillFlock(req, &fl);
  return fcntl(req.fd, SetCommand(req.kind, wait), &fl) == 0 ? 0 : -errno;
}

// fcntl(2): a conflicting F_SETLK "returns -1 and sets errno to EACCES or EAGAIN
// (the error returned in this case differs across implementations, so POSIX
// requires a portable application to check for both errors)". flock(2) uses
// EWOULDBLOCK, which is EAGAIN on Linux and macOS. One contention code for all.
int NormaliseContention(int code) { return code == -EACCES ? -EAGAIN : code; }

}  // namespace

bool KindCompiledIn(int32_t kind) {
  switch (kind) {
    case kKindFlock:
    case kKindPosix:
      return true;
    case kKindOfd:
      return kHaveOfd;
    default:
      return false;
  }
}

LockResult TrySetLock(const LockRequest& req) {
  LockResult r;
  if (!KindCompiledIn(req.kind)) {
    r.code = kCodeNotSupported;
    return r;
  }
  int code;
  // fcntl(2) lists EINTR even for F_SETLK/F_GETLK ("most likely when locking a remote
  // file"), and uv#15996 saw flock(LOCK_NB) return it: a try is retried, never failed.
  do {
    code = SetOnce(req, false);
  } while (code == -EINTR);
  r.code = NormaliseContention(code);
  return r;
}

LockResult BlockingSetLock(const LockRequest& req, const std::atomic<bool>& cancelled) {
  LockResult r;
  if (!KindCompiledIn(req.kind)) {
    r.code = kCodeNotSupported;
    return r;
  }
  for (;;) {
    if (cancelled.load(std::memory_order_acquire)) {
      r.code = kCodeCanceled;
      return r;
    }
    int code = SetOnce(req, true);
    // EINTR: our interrupt signal (cancel requested: checked above) or some other
    // signal with a handler that is not SA_RESTART: wait again.
    if (code == -EINTR) continue;
    r.code = code;
    return r;
  }
}

LockResult QueryLock(const LockRequest& req, bool* found, LockHolder* holder) {
  LockResult r;
  *found = false;
  if (req.kind != kKindPosix && !(req.kind == kKindOfd && kHaveOfd)) {
    // flock has no query call (flock(2)); lib/ answers it from /proc/locks.
    r.code = kCodeNotSupported;
    return r;
  }
  struct flock fl;
  FillFlock(req, &fl);
  int cmd = F_GETLK;
#if defined(F_OFD_GETLK)
  if (req.kind == kKindOfd) cmd = F_OFD_GETLK;
#endif
  int rc;
  do {
    rc = fcntl(req.fd, cmd, &fl);
  } while (rc == -1 && errno == EINTR);
  if (rc == -1) {
    r.code = -errno;
    return r;
  }
  // fcntl(2): "If the lock could be placed, fcntl() does not actually place it, but
  // returns F_UNLCK in the l_type field of lock and leaves the other fields of the
  // structure unchanged." Otherwise the fields describe one conflicting lock, with
  // l_pid -1 when that lock is an OFD lock.
  if (fl.l_type != F_UNLCK) {
    *found = true;
    holder->type = TypeCode(fl.l_type);
    holder->start = static_cast<int64_t>(fl.l_start);
    holder->length = static_cast<int64_t>(fl.l_len);
    holder->pid = static_cast<int64_t>(fl.l_pid);
  }
  return r;
}

int32_t FileIdentity(int32_t fd, FileId* out) {
  // stat(2): "The st_ino and st_dev fields together uniquely identify the file
  // within the system."
  struct stat st;
  if (fstat(fd, &st) != 0) return -errno;
  out->dev = static_cast<uint64_t>(st.st_dev);
  out->ino = static_cast<uint64_t>(st.st_ino);
  return 0;
}

}  // namespace syslocks
