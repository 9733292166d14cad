// lock_request.h - the one request shape every lock kind shares.
//
// The JS side validates and resolves arguments (absolute offsets, modes) before it
// calls in, so the native layer sees only small integers and 64-bit offsets. Every
// platform file implements the same four operations on a LockRequest, in the style
// of libuv's single uv_fs_t request type (STYLE.md section 7).
#ifndef SYSLOCKS_LOCK_REQUEST_H_
#define SYSLOCKS_LOCK_REQUEST_H_

#include <atomic>
#include <cstdint>

namespace syslocks {

// Kind codes shared with lib/native.ts (KIND_CODE).
enum LockKindCode : int32_t {
  kKindFlock = 0,    // flock(2): whole file, owned by the open file description
  kKindPosix = 1,    // fcntl F_SETLK/F_SETLKW/F_GETLK: byte ranges, owned by the process
  kKindOfd = 2,      // fcntl F_OFD_*: byte ranges, owned by the open file description
  kKindWindows = 3,  // LockFileEx/UnlockFileEx: byte ranges, owned by the handle
};

// Type codes shared with lib/native.ts (TYPE_CODE). Native code maps them to the
// platform's own values (F_RDLCK is 0 on Linux but 1 on macOS).
enum LockTypeCode : int32_t {
  kTypeShared = 0,
  kTypeExclusive = 1,
  kTypeUnlock = 2,
};

struct LockRequest {
  int32_t kind;
  int32_t fd;
  int32_t type;
  int64_t start;   // absolute offset (SEEK_SET); ignored by flock
  int64_t length;  // 0 = "to EOF and beyond" for fcntl kinds; Windows: 0 = to the end of the
                   // 64-bit range (windows_locks.cc sends 2^64-1-start bytes)
};

// The result convention everywhere: 0 for success, or a negative libuv-style error
// code (on POSIX that is -errno) that lib/errors.ts turns into a Node-shaped error.
// Windows additionally reports the raw GetLastError() value through `winerror`.
struct LockResult {
  int32_t code = 0;
  uint32_t winerror = 0;
};

// The functions of an uncontended lock call (a channel's trySet(), TrySetLock): GCC and
// Clang place them together (.text.hot), so a call touches fewer code pages. With
// page-table isolation every syscall empties the TLB, and each page a call touches
// afterwards costs a page walk (docs/BENCH.md, part 1).
#if defined(__GNUC__) || defined(__clang__)
#define SYSLOCKS_HOT __attribute__((hot))
#else
#define SYSLOCKS_HOT
#endif

// Implemented once per platform (posix_locks.cc / windows_locks.cc).

// Non-blocking attempt (LOCK_NB, F_SETLK, F_OFD_SETLK, LOCKFILE_FAIL_IMMEDIATELY) or
// an unlock. Contention is reported as -EAGAIN (UV_EAGAIN) on every kind.
SYSLOCKS_HOT LockResult TrySetLock(const LockRequest& req);

// Blocking wait on the calling thread. Returns promptly with UV_ECANCELED once
// `cancelled` is true and the thread has been woken with Thread::Interrupt().
LockResult BlockingSetLock(const LockRequest& req, const std::atomic<bool>& cancelled);

// What would block `req` (F_GETLK / F_OFD_GETLK). On success `*found` says whether
// a conflicting lock exists, and `*holder` describes it (type code, absolute start,
// length with 0 = to EOF, pid; pid is -1 for an OFD holder). Windows has no query.
struct LockHolder {
  int32_t type = -1;
  int64_t start = 0;
  int64_t length = 0;
  int64_t pid = 0;
};
LockResult QueryLock(const LockRequest& req, bool* found, LockHolder* holder);

// Which kinds this build and platform can offer (OFD is probed again at run time).
bool KindCompiledIn(int32_t kind);

}  // namespace syslocks

#endif  // SYSLOCKS_LOCK_REQUEST_H_
