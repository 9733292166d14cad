// open_file.h - opening a path for a lock the library owns (POSIX).
//
// The addon opens these fds itself rather than through fs.open, so Node's worker fd
// tracking (`trackUnmanagedFds`) never sees them and the lock table closes each one
// exactly once, also at environment teardown. Windows fds live in node.exe's C
// runtime, which this addon cannot reach: lib/open.ts opens them with fs there.
#ifndef SYSLOCKS_OPEN_FILE_H_
#define SYSLOCKS_OPEN_FILE_H_

#include <cstdint>

namespace syslocks {

// Returned for a path that is neither a regular file nor a directory (a FIFO, a
// socket, a device): lib/open.ts turns it into ERR_LOCK_FILE_TYPE. Outside the range
// of libuv codes.
constexpr int32_t kCodeNotLockable = -200001;

// open(2)s `path` with `flags` (O_RDWR/O_RDONLY, O_CREAT, O_NOFOLLOW as lib/ passes
// them from fs.constants) plus O_CLOEXEC, O_NOCTTY and O_NONBLOCK, refuses a file
// that is not regular (directories are allowed), and adopts the fd for `env`.
// Reuses a deferred fd of the same file and access mode when there is one. Returns
// the fd or a negative code.
int32_t OpenForLock(const char* path, int32_t flags, int32_t mode, const void* env);

}  // namespace syslocks

#endif  // SYSLOCKS_OPEN_FILE_H_
