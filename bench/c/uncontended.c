/*
 * Baseline for bench/run.mjs, part 1: the raw syscalls of an uncontended
 * exclusive lock + unlock pair, in a tight C loop on one fd.
 *
 *   uncontended <flock|posix|ofd> <path> <pairs> <repetitions> [identity]
 *
 * Prints one line per repetition: the nanoseconds per pair (CLOCK_MONOTONIC).
 * The calls are exactly the ones syslocks makes on its fast path:
 *   flock: flock(fd, LOCK_EX | LOCK_NB) + flock(fd, LOCK_UN)
 *   posix: fcntl(fd, F_SETLK, F_WRLCK) + fcntl(fd, F_SETLK, F_UNLCK)
 *   ofd:   fcntl(fd, F_OFD_SETLK, F_WRLCK) + fcntl(fd, F_OFD_SETLK, F_UNLCK)
 * (whole file: l_whence SEEK_SET, l_start 0, l_len 0).
 * With "identity", each pair also makes the two fstat(2) calls of a FileLock (its
 * file's identity, recorded at the grant and checked before the unlock): the syscall
 * floor of tryLock + release (docs/DESIGN.md, "Ownership, identity and teardown").
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int set_fcntl(int fd, int cmd, short type) {
  struct flock fl;
  memset(&fl, 0, sizeof fl);
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  fl.l_start = 0;
  fl.l_len = 0;
  fl.l_pid = 0;
  return fcntl(fd, cmd, &fl);
}

int main(int argc, char** argv) {
  if (argc != 5 && argc != 6) {
    fprintf(stderr, "usage: %s <flock|posix|ofd> <path> <pairs> <repetitions> [identity]\n",
            argv[0]);
    return 2;
  }
  const char* kind = argv[1];
  long pairs = atol(argv[3]);
  int reps = atoi(argv[4]);
  int identity = argc == 6 && strcmp(argv[5], "identity") == 0;
  struct stat st;
  int fd = open(argv[2], O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0) {
    perror("open");
    return 1;
  }
  int k = strcmp(kind, "flock") == 0   ? 0
          : strcmp(kind, "posix") == 0 ? 1
          : strcmp(kind, "ofd") == 0   ? 2
                                       : -1;
  if (k < 0) {
    fprintf(stderr, "unknown kind %s\n", kind);
    return 2;
  }
#ifndef F_OFD_SETLK
  if (k == 2) {
    fprintf(stderr, "F_OFD_SETLK not available\n");
    return 3;
  }
#endif
  for (int r = 0; r < reps; r++) {
    long long t0 = now_ns();
    for (long i = 0; i < pairs; i++) {
      int a, b, c = 0, d = 0;
      if (identity) c = fstat(fd, &st);
      if (k == 0) {
        a = flock(fd, LOCK_EX | LOCK_NB);
        b = flock(fd, LOCK_UN);
      } else if (k == 1) {
        a = set_fcntl(fd, F_SETLK, F_WRLCK);
        b = set_fcntl(fd, F_SETLK, F_UNLCK);
      } else {
#ifdef F_OFD_SETLK
        a = set_fcntl(fd, F_OFD_SETLK, F_WRLCK);
        b = set_fcntl(fd, F_OFD_SETLK, F_UNLCK);
#else
        a = b = -1;
#endif
      }
      if (identity) d = fstat(fd, &st);
      if (a != 0 || b != 0 || c != 0 || d != 0) {
        fprintf(stderr, "%s: lock/unlock failed: %s\n", kind, strerror(errno));
        return 1;
      }
    }
    long long t1 = now_ns();
    printf("%.1f\n", (double)(t1 - t0) / (double)pairs);
  }
  return 0;
}
