// open_file.cc - see open_file.h.
#include "open_file.h"

#include "errors.h"
#include "lock_table.h"

#ifndef _WIN32
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

namespace syslocks {

#ifdef _WIN32

int32_t OpenForLock(const char*, int32_t, int32_t, const void*) { return kCodeNotSupported; }

#else

int32_t OpenForLock(const char* path, int32_t flags, int32_t mode, const void* env) {
  const bool nofollow = (flags & O_NOFOLLOW) != 0;
  if (HasDeferredFds()) {
    // SQLite os_unix.c findReusableFd: an fd of this file whose close waits for the
    // process's POSIX locks serves the next open of the same file and access mode,
    // so repeated tries and queries never pile fds up.
    struct stat st;
    if ((nofollow ? lstat(path, &st) : stat(path, &st)) == 0 && S_ISREG(st.st_mode)) {
      FileId id{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)};
      int32_t fd = TakeDeferredFd(id, flags & O_ACCMODE, env);
      if (fd >= 0) return fd;
    }
  }
  // open(2) O_NONBLOCK: "When possible, the file is opened in nonblocking mode" --
  // opening a FIFO for reading otherwise waits for a writer (fifo(7)), which would
  // hang the calling thread. O_CLOEXEC keeps the fd (and an flock/OFD lock on its
  // description) out of child processes; O_NOCTTY keeps a terminal from becoming ours.
  int fd;
  do {
    fd = open(path, flags | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, static_cast<mode_t>(mode));
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return -errno;
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int32_t code = -errno;
    close(fd);
    return code;
  }
  if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
    close(fd);
    return kCodeNotLockable;
  }
  // O_NONBLOCK stays: open(2) "Neither the open() nor any subsequent I/O operations
  // on the file descriptor which is returned will cause the calling process to wait",
  // which regular files and directories never do anyway (no syscall spent clearing it).
  AdoptFd(fd, FileId{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)}, env);
  return fd;
}

#endif

}  // namespace syslocks
