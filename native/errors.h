// errors.h - the error-code currency between native/ and lib/.
//
// Native functions never throw for a failed syscall: they return 0 or a negative
// libuv-style code (libuv's own convention, `UV__ERR(errno)` in src/unix/internal.h),
// and lib/errors.ts turns that code into an Error shaped like Node's fs errors with
// util.getSystemErrorName()/getSystemErrorMap(). One place formats every error, and
// the codes are exactly the ones Node reports as `err.errno`.
//
// On POSIX libuv codes are -errno. On Windows libuv has its own negative codes
// (uv/errno.h: UV__EAGAIN -4088, ...); windows_locks.cc translates GetLastError()
// into them and keeps the raw value as `winerror`.
#ifndef SYSLOCKS_ERRORS_H_
#define SYSLOCKS_ERRORS_H_

#include <cstdint>

#ifndef _WIN32
#include <errno.h>
#endif

namespace syslocks {

#ifdef _WIN32
// Values from libuv include/uv/errno.h (Windows branch), the codes Node reports.
constexpr int32_t kCodeAgain = -4088;         // UV__EAGAIN
constexpr int32_t kCodeCanceled = -4081;      // UV__ECANCELED
constexpr int32_t kCodeTimedOut = -4039;      // UV__ETIMEDOUT
constexpr int32_t kCodeNoThread = -4057;      // UV__ENOMEM
constexpr int32_t kCodeNotSupported = -4054;  // UV__ENOSYS
constexpr int32_t kCodeInvalid = -4071;       // UV__EINVAL
#else
constexpr int32_t kCodeAgain = -EAGAIN;
constexpr int32_t kCodeCanceled = -ECANCELED;
constexpr int32_t kCodeTimedOut = -ETIMEDOUT;
// pthread_create(3) fails with EAGAIN for lack of resources; reporting that would
// read as lock contention, so it is reported as ENOMEM.
constexpr int32_t kCodeNoThread = -ENOMEM;
constexpr int32_t kCodeNotSupported = -ENOSYS;
constexpr int32_t kCodeInvalid = -EINVAL;
#endif

}  // namespace syslocks

#endif  // SYSLOCKS_ERRORS_H_
