/*
 * Baseline for bench/run.mjs, part 2: one side of a two-process hand-off, driven
 * line by line over stdin/stdout by the bench (bench/child.mjs is the same protocol
 * for syslocks):
 *
 *   handoff <flock|posix|ofd> <path>
 *
 *   "hold"    -> take the lock (blocking call, expected free)   -> "held"
 *   "wait"    -> print "waiting", then block in the kernel       -> "granted <ns>"
 *   "release" -> take the timestamp, then unlock                 (no reply)
 *   "when"    -> the timestamp of the last release               -> "released <ns>"
 *   "quit"    -> exit 0
 *
 * Timestamps are CLOCK_MONOTONIC in nanoseconds, the clock that Node's
 * process.hrtime.bigint() reads on Linux, so they compare across processes.
 * Blocking calls: flock(LOCK_EX), fcntl(F_SETLKW), fcntl(F_OFD_SETLKW).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int kind;  /* 0 flock, 1 posix, 2 ofd */
static int fd;

static int set_fcntl(int cmd, short type) {
  struct flock fl;
  memset(&fl, 0, sizeof fl);
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  return fcntl(fd, cmd, &fl);
}

static int lock_blocking(void) {
  int rc;
  do {
    if (kind == 0) {
      rc = flock(fd, LOCK_EX);
    } else if (kind == 1) {
      rc = set_fcntl(F_SETLKW, F_WRLCK);
    } else {
#ifdef F_OFD_SETLKW
      rc = set_fcntl(F_OFD_SETLKW, F_WRLCK);
#else
      errno = EINVAL;
      rc = -1;
#endif
    }
  } while (rc != 0 && errno == EINTR);
  return rc;
}

static int unlock(void) {
  if (kind == 0) return flock(fd, LOCK_UN);
  if (kind == 1) return set_fcntl(F_SETLK, F_UNLCK);
#ifdef F_OFD_SETLK
  return set_fcntl(F_OFD_SETLK, F_UNLCK);
#else
  return -1;
#endif
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s <flock|posix|ofd> <path>\n", argv[0]);
    return 2;
  }
  kind = strcmp(argv[1], "flock") == 0 ? 0 : strcmp(argv[1], "posix") == 0 ? 1 : strcmp(argv[1], "ofd") == 0 ? 2 : -1;
  if (kind < 0) {
    fprintf(stderr, "unknown kind %s\n", argv[1]);
    return 2;
  }
  fd = open(argv[2], O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0) {
    perror("open");
    return 1;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  long long released_at = 0;
  char line[64];
  while (fgets(line, sizeof line, stdin)) {
    if (strncmp(line, "hold", 4) == 0) {
      if (lock_blocking() != 0) { perror("lock"); return 1; }
      printf("held\n");
    } else if (strncmp(line, "wait", 4) == 0) {
      printf("waiting\n");
      if (lock_blocking() != 0) { perror("lock"); return 1; }
      long long t = now_ns();
      printf("granted %lld\n", t);
    } else if (strncmp(line, "release", 7) == 0) {
      /* No reply: the process goes idle at once, and the bench is not woken by a pipe
         while the waiter is being woken. It asks for the timestamp afterwards. */
      released_at = now_ns();
      if (unlock() != 0) { perror("unlock"); return 1; }
    } else if (strncmp(line, "when", 4) == 0) {
      printf("released %lld\n", released_at);
    } else if (strncmp(line, "quit", 4) == 0) {
      return 0;
    }
  }
  return 0;
}
