// windows_locks.cc - LockFileEx / UnlockFileEx byte-range locks (kind kKindWindows).
//
// Every function maps one request onto one Win32 call, like posix_locks.cc does for
// fcntl/flock; policy (which range, what contention means to the caller) lives in lib/.
// Sentences quoted below are from the Microsoft documentation pages "LockFileEx
// function (fileapi.h)" [MS-LockFileEx] and "UnlockFileEx function" [MS-UnlockFileEx]
// (MicrosoftDocs/sdk-api, sdk-api-src/content/fileapi/).
//
// Contract with lib/ (see docs/WINDOWS.md):
//   - start is an absolute, non-negative offset; length >= 0.
//   - length 0 means "to the end of the 64-bit range": it is sent as 2^64 - 1 - start
//     bytes (0xFFFFFFFF:0xFFFFFFFF from start 0). Windows has no EOF-relative length,
//     and a literal 0 would lock nothing useful. The same mapping applies to unlock, so
//     an unlock with the lock's own (start, length) always names the exact same region.
//   - Contention (ERROR_LOCK_VIOLATION) is reported as UV_EAGAIN, as on every kind.
//   - ERROR_NOT_LOCKED (unlocking a region this handle does not hold) is reported as
//     UV_ENOENT ("no such lock"): libuv has no ENOLCK on Windows, and EINVAL/EAGAIN
//     would hide the case. The raw GetLastError() value is always in `winerror`.
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

#include <atomic>
#include <cstring>

#include "errors.h"
#include "lock_request.h"
#include "lock_table.h"

// libuv's fd -> HANDLE mapping, exported by node.exe (libuv include/uv/win.h:
// `uv_os_fd_t` is HANDLE; include/uv.h: `UV_EXTERN uv_os_fd_t uv_get_osfhandle(int fd)`).
// Node's fds live in node.exe's own C runtime (MSVC, linked statically); an addon built
// against any other CRT (mingw's msvcrt.dll here, or another MSVC CRT) has a different
// fd table, so its own _get_osfhandle() would not know them. scripts/build-win.sh adds
// this symbol to the node.exe import library.
extern "C" __declspec(dllimport) HANDLE uv_get_osfhandle(int fd);

namespace syslocks {

namespace {

// libuv include/uv/errno.h, Windows branch (the values Node reports as err.errno).
constexpr int32_t kUvEacces = -4092;   // UV__EACCES
constexpr int32_t kUvEbadf = -4083;    // UV__EBADF
constexpr int32_t kUvEbusy = -4082;    // UV__EBUSY
constexpr int32_t kUvEio = -4070;      // UV__EIO
constexpr int32_t kUvEnoent = -4058;   // UV__ENOENT, used for ERROR_NOT_LOCKED (see top)
constexpr int32_t kUvEnotsup = -4049;  // UV__ENOTSUP
constexpr int32_t kUvEnomem = -4057;   // UV__ENOMEM

// Backoff of the wait loop (see BlockingSetLock).
constexpr DWORD kFirstSleepMs = 1;
constexpr DWORD kMaxSleepMs = 8;

int32_t MapWinError(DWORD err) {
  switch (err) {
    case ERROR_LOCK_VIOLATION:  // 33: the range is locked through another handle
      return kCodeAgain;
    case ERROR_NOT_LOCKED:  // 158: [MS-UnlockFileEx] "The region to unlock must
                            // correspond exactly to an existing locked region."
      return kUvEnoent;
    case ERROR_INVALID_HANDLE:  // 6
      return kUvEbadf;
    case ERROR_ACCESS_DENIED:  // 5: [MS-LockFileEx] "The handle must have been created
                               // with either the GENERIC_READ or GENERIC_WRITE access
                               // right." (e.g. a Node fd opened with flag 'a')
      return kUvEacces;
    case ERROR_SHARING_VIOLATION:  // 32: an open-mode conflict, not a lock: libuv's
                                   // own mapping (src/win/error.c) is EBUSY
      return kUvEbusy;
    case ERROR_INVALID_PARAMETER:  // 87
      return kCodeInvalid;
    case ERROR_INVALID_FUNCTION:  // 1: a pipe, console or device has no byte locks
    case ERROR_NOT_SUPPORTED:     // 50
      return kUvEnotsup;
    case ERROR_NOT_ENOUGH_MEMORY:    // 8
    case ERROR_OUTOFMEMORY:          // 14
    case ERROR_NO_SYSTEM_RESOURCES:  // 1450
      return kUvEnomem;
    default:
      return kUvEio;
  }
}

LockResult Fail(DWORD err) {
  LockResult r;
  r.code = MapWinError(err);
  r.winerror = static_cast<uint32_t>(err);
  return r;
}

LockResult Code(int32_t code) {
  LockResult r;
  r.code = code;
  return r;
}

// A zeroed OVERLAPPED carrying the start offset: [MS-LockFileEx] "This structure, which
// is required, contains the file offset of the beginning of the lock range. You must
// initialize the hEvent member to a valid handle or zero."
void FillOverlapped(uint64_t start, OVERLAPPED* ov) {
  std::memset(ov, 0, sizeof(*ov));
  ov->Offset = static_cast<DWORD>(start & 0xFFFFFFFFu);
  ov->OffsetHigh = static_cast<DWORD>(start >> 32);
}

// Length 0 -> from start to the end of the 64-bit range: 2^64 - 1 - start bytes, so
// that start + length never wraps (for start 0 that is the customary 0xFFFFFFFF:
// 0xFFFFFFFF of Rust std and fs-native-extensions). A literal all-ones length from a
// non-zero start wraps past 2^64 and is refused: Wine answers ERROR_INVALID_PARAMETER,
// and Windows' lock package rejects ranges whose end overflows (STATUS_INVALID_LOCK_RANGE).
void SplitLength(int64_t start, int64_t length, DWORD* low, DWORD* high) {
  uint64_t len =
      length == 0 ? ~uint64_t{0} - static_cast<uint64_t>(start) : static_cast<uint64_t>(length);
  *low = static_cast<DWORD>(len & 0xFFFFFFFFu);
  *high = static_cast<DWORD>(len >> 32);
}

// If a call on a handle opened for asynchronous I/O returned ERROR_IO_PENDING, the
// OVERLAPPED on our stack is still in use by the system: wait for that operation to
// finish before the frame goes away (never report "would block" for a pending
// operation; rust-lang/rust#140718). [MS-LockFileEx]: "The LockFileEx function operates
// asynchronously if the file handle was opened for asynchronous I/O, unless the
// LOCKFILE_FAIL_IMMEDIATELY flag is specified", so only UnlockFileEx can get here; Node
// opens files synchronously, so this is a safety net for foreign handles.
bool FinishPending(HANDLE h, OVERLAPPED* ov, DWORD* err) {
  DWORD ignored = 0;
  if (GetOverlappedResult(h, ov, &ignored, TRUE)) return true;
  *err = GetLastError();
  return false;
}

}  // namespace

bool KindCompiledIn(int32_t kind) { return kind == kKindWindows; }

LockResult TrySetLock(const LockRequest& req) {
  if (req.kind != kKindWindows) return Code(kCodeNotSupported);
  if (req.start < 0 || req.length < 0) return Code(kCodeInvalid);
  if (req.type != kTypeShared && req.type != kTypeExclusive && req.type != kTypeUnlock) {
    return Code(kCodeInvalid);
  }
  // A negative fd never names a CRT slot; don't hand it to the CRT at all.
  if (req.fd < 0) return Code(kUvEbadf);
  HANDLE h = uv_get_osfhandle(req.fd);
  if (h == INVALID_HANDLE_VALUE || h == nullptr) return Code(kUvEbadf);

  OVERLAPPED ov;
  FillOverlapped(static_cast<uint64_t>(req.start), &ov);
  DWORD low = 0, high = 0;
  SplitLength(req.start, req.length, &low, &high);

  BOOL ok;
  if (req.type == kTypeUnlock) {
    // [MS-UnlockFileEx]: "The region to unlock must correspond exactly to an existing
    // locked region. Two adjacent regions of a file cannot be locked separately and
    // then unlocked using a single region that spans both locked regions."
    ok = UnlockFileEx(h, 0, low, high, &ov);
  } else {
    // [MS-LockFileEx] LOCKFILE_FAIL_IMMEDIATELY: "The function returns immediately if it
    // is unable to acquire the requested lock. Otherwise, it waits." and
    // LOCKFILE_EXCLUSIVE_LOCK: "The function requests an exclusive lock. Otherwise, it
    // requests a shared lock."
    DWORD flags = LOCKFILE_FAIL_IMMEDIATELY;
    if (req.type == kTypeExclusive) flags |= LOCKFILE_EXCLUSIVE_LOCK;
    ok = LockFileEx(h, flags, 0, low, high, &ov);
  }
  if (ok) return LockResult();
  DWORD err = GetLastError();
  if (err == ERROR_IO_PENDING) {
    if (FinishPending(h, &ov, &err)) return LockResult();
  }
  return Fail(err);
}

// The wait is a LOCKFILE_FAIL_IMMEDIATELY try in a loop with a Sleep backoff of 1, 2, 4,
// 8, 8, ... ms, checking `cancelled` between tries. Why not a blocking LockFileEx:
// [MS-LockFileEx] "If the file handle was not opened for asynchronous I/O and the lock
// is not available, this call waits until the lock is granted or an error occurs" -- a
// wait nothing can end except the holder: no signals on Windows, CancelSynchronousIo
// finds nothing to cancel under Wine (and may let the lock be granted after the caller
// gave up), and Node's handles are synchronous, so the overlapped form ("The system
// will signal the event specified in the OVERLAPPED structure after the lock is
// granted") would need a second handle, and Wine never completes it. The loop is the
// only wait that ends promptly on Windows and under Wine
// (the project's Windows probe, summarised in docs/WINDOWS.md). Costs: grant latency
// about half the cap (plus up to one timer tick on Windows, where Sleep rounds up to
// the ~15.6 ms tick), no FIFO fairness against other waiters.
LockResult BlockingSetLock(const LockRequest& req, const std::atomic<bool>& cancelled) {
  if (req.type == kTypeUnlock) return TrySetLock(req);
  DWORD sleep_ms = kFirstSleepMs;
  for (;;) {
    if (cancelled.load(std::memory_order_acquire)) return Code(kCodeCanceled);
    LockResult r = TrySetLock(req);
    if (r.code != kCodeAgain) return r;
    Sleep(sleep_ms);
    if (sleep_ms < kMaxSleepMs) sleep_ms *= 2;
    if (sleep_ms > kMaxSleepMs) sleep_ms = kMaxSleepMs;
  }
}

// Windows has no F_GETLK: a try-lock is the only probe (SEMANTICS.md row 13).
LockResult QueryLock(const LockRequest& req, bool* found, LockHolder* holder) {
  (void)req;
  (void)holder;
  *found = false;
  return Code(kCodeNotSupported);
}

// [MS-GetFileInformationByHandle] BY_HANDLE_FILE_INFORMATION: "The identifier that
// is stored in the nFileIndexHigh and nFileIndexLow members is called the file ID
// ... In the NTFS file system, a file keeps the same file ID until it is deleted",
// and "you can compare the VolumeSerialNumber and FileIndex members ... to determine
// if two paths map to the same target".
int32_t FileIdentity(int32_t fd, FileId* out) {
  if (fd < 0) return kUvEbadf;
  HANDLE h = uv_get_osfhandle(fd);
  if (h == INVALID_HANDLE_VALUE || h == nullptr) return kUvEbadf;
  BY_HANDLE_FILE_INFORMATION info;
  if (!GetFileInformationByHandle(h, &info)) return Fail(GetLastError()).code;
  out->dev = info.dwVolumeSerialNumber;
  out->ino = (static_cast<uint64_t>(info.nFileIndexHigh) << 32) | info.nFileIndexLow;
  return 0;
}

}  // namespace syslocks
