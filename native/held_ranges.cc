// held_ranges.cc - see held_ranges.h.
#include "held_ranges.h"

#ifdef __linux__
#include <fcntl.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#endif

namespace syslocks {

#ifdef __linux__
namespace {

constexpr int64_t kToEof = INT64_MAX;

// Reads a whole /proc file with read(2) into `buf` (no stdio: no locale, no malloc of
// a FILE buffer). /proc/locks of a busy host can be long: the buffer grows.
bool ReadProc(const char* path, std::vector<char>* buf) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  buf->assign(8192, 0);
  size_t used = 0;
  for (;;) {
    if (used + 1 >= buf->size()) buf->resize(buf->size() * 2);
    ssize_t n = read(fd, buf->data() + used, buf->size() - used - 1);
    if (n < 0) {
      if (errno == EINTR) continue;
      close(fd);
      return false;
    }
    if (n == 0) break;
    used += static_cast<size_t>(n);
  }
  close(fd);
  (*buf)[used] = '\0';
  buf->resize(used + 1);
  return true;
}

// One lock line, in the format of fs/locks.c lock_get_status():
//   "<id>: [-> ]<POSIX|OFDLCK|FLOCK|...> <ADVISORY|...> <READ|WRITE> <pid> <maj>:<min>:<ino>
//   <start> <end|EOF>"
struct Line {
  bool waiting = false;
  char kind[16] = {0};
  long pid = 0;
  unsigned maj = 0, min = 0;
  uint64_t ino = 0;
  int64_t start = 0, end = 0;  // [start, end)
};

bool ParseLine(const char* p, Line* out) {
  const char* colon = strchr(p, ':');
  if (colon == nullptr) return false;
  p = colon + 1;
  while (*p == ' ' || *p == '\t') p++;
  if (strncmp(p, "->", 2) == 0) {
    out->waiting = true;
    p += 2;
  }
  char mand[16], type[16], last[32];
  unsigned long long ino = 0;
  long long start = 0;
  if (sscanf(p, "%15s %15s %15s %ld %x:%x:%llu %lld %31s", out->kind, mand, type, &out->pid,
             &out->maj, &out->min, &ino, &start, last) != 9) {
    return false;
  }
  out->ino = ino;
  out->start = start;
  out->end = strcmp(last, "EOF") == 0 ? kToEof : strtoll(last, nullptr, 10) + 1;
  return true;
}

// One read of the owner's ranges; false when the file cannot be read.
bool ReadOnce(const LockRequest& req, uint64_t dev, uint64_t ino, std::vector<HeldRange>* out) {
  out->clear();
  const bool posix = req.kind == kKindPosix;
  const char* want = posix ? "POSIX" : req.kind == kKindOfd ? "OFDLCK" : "FLOCK";
  char path[64];
  if (posix) {
    snprintf(path, sizeof path, "/proc/locks");
  } else {
    snprintf(path, sizeof path, "/proc/self/fdinfo/%d", req.fd);
  }
  std::vector<char> buf;
  if (!ReadProc(path, &buf)) return false;
  const long self = static_cast<long>(getpid());
  // btrfs: stat(2) reports the subvolume's device, /proc/locks the superblock's, so
  // the device only narrows the match when some line carries it (holders.ts does the
  // same for holders()).
  std::vector<Line> mine;
  bool dev_seen = false;
  for (char* line = buf.data(); line != nullptr && *line != '\0';) {
    char* nl = strchr(line, '\n');
    if (nl != nullptr) *nl = '\0';
    const char* text = line;
    if (!posix) text = strncmp(line, "lock:", 5) == 0 ? line + 5 : nullptr;
    Line l;
    if (text != nullptr && ParseLine(text, &l) && !l.waiting && strcmp(l.kind, want) == 0 &&
        l.ino == ino && (!posix || l.pid == self)) {
      if (makedev(l.maj, l.min) == dev) dev_seen = true;
      mine.push_back(l);
    }
    line = nl != nullptr ? nl + 1 : nullptr;
  }
  for (const Line& l : mine) {
    if (dev_seen && makedev(l.maj, l.min) != dev) continue;
    out->push_back({l.start, l.end});
  }
  return true;
}

bool Same(const std::vector<HeldRange>& a, const std::vector<HeldRange>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); i++) {
    if (a[i].start != b[i].start || a[i].end != b[i].end) return false;
  }
  return true;
}

}  // namespace

bool OwnerHeldRanges(const LockRequest& req, uint64_t dev, uint64_t ino,
                     std::vector<HeldRange>* out) {
  // A /proc seq_file hands out at most a page per read(2) and restarts each read at a
  // position in the kernel's list, so while other processes lock and unlock, a long
  // /proc/locks can repeat or skip a line. Two equal reads in a row are a consistent
  // view of our own locks (only we change them, under the table's mutex).
  if (!ReadOnce(req, dev, ino, out)) return false;
  std::vector<HeldRange> again;
  for (int i = 0; i < 8; i++) {
    if (!ReadOnce(req, dev, ino, &again)) return false;
    if (Same(*out, again)) return true;
    out->swap(again);
  }
  return true;
}

#else

bool OwnerHeldRanges(const LockRequest&, uint64_t, uint64_t, std::vector<HeldRange>* out) {
  out->clear();
  return false;  // no kernel list of locks: macOS and the BSDs have no /proc/locks
}

#endif

}  // namespace syslocks
