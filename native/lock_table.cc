// lock_table.cc - see lock_table.h.
#include "lock_table.h"

#include <algorithm>
#include <unordered_map>
#include <vector>

#ifndef _WIN32
#include <fcntl.h>
#include <unistd.h>
#endif

#include "errors.h"
#include "held_ranges.h"
#include "platform_thread.h"

namespace syslocks {
namespace {

constexpr int64_t kToEof = INT64_MAX;  // the end of an open-ended (length 0) range

struct Entry {
  LockRequest req;
  FileId file;
  bool owns_fd;
  const void* env;
};

struct Deferred {
  int32_t fd;
  FileId file;
  int32_t accmode;
};

struct FileIdHash {
  size_t operator()(const FileId& f) const {
    return std::hash<uint64_t>()(f.dev * 1000003u ^ f.ino);
  }
};

struct Table {
  Mutex mu;  // platform_thread.h: mingw-w64 win32 threads have no std::mutex
  int64_t next_id = 1;
  std::unordered_map<int64_t, Entry> locks;
  std::unordered_map<FileId, int32_t, FileIdHash> locks_per_file;  // all kinds
  std::unordered_map<FileId, int32_t, FileIdHash> posix_per_file;  // kind posix only
  // Open owned fds not held by a lock, with the environment that owns them and the
  // file's identity read when they were opened (a lock taken through one needs no
  // second fstat).
  struct Owned {
    const void* env;
    FileId file;
  };
  std::unordered_map<int32_t, Owned> owned;
  std::vector<Deferred> deferred;  // owned fds whose close waits
};

// Never destroyed: waiter threads may still undo a late grant while statics are
// torn down at process exit.
Table& T() {
  static Table* table = new Table();
  return *table;
}

int64_t End(const LockRequest& r) { return r.length == 0 ? kToEof : r.start + r.length; }

int32_t Count(const std::unordered_map<FileId, int32_t, FileIdHash>& m, const FileId& f) {
  auto it = m.find(f);
  return it == m.end() ? 0 : it->second;
}

void Add(std::unordered_map<FileId, int32_t, FileIdHash>* m, const FileId& f, int32_t d) {
  auto it = m->emplace(f, 0).first;
  it->second += d;
  if (it->second <= 0) m->erase(it);
}

// Which locks merge in the kernel with a lock of `kind` through `fd` on `file`:
// fcntl(2) POSIX locks are the process's (any fd, any thread); OFD and flock locks
// belong to the open file description, approximated by the fd number (a dup()ed fd
// shares the description but is not recognised). Windows locks never merge: each
// LockFileEx call is its own region ([MS-UnlockFileEx] "must correspond exactly").
bool SameOwner(const Entry& e, int32_t kind, int32_t fd, const FileId& file) {
  if (e.req.kind != kind || !(e.file == file)) return false;
  if (kind == kKindPosix) return true;
  if (kind == kKindOfd || kind == kKindFlock) return e.req.fd == fd;
  return false;
}

LockResult SetRange(const LockRequest& base, int64_t a, int64_t b, int32_t type) {
  LockRequest x = base;
  x.start = a;
  x.length = b == kToEof ? 0 : b - a;
  x.type = type;
  return TrySetLock(x);
}

// Makes req's range hold exactly what the live locks of req's owner ask for, given
// that the kernel now holds `req.type` there: after a late grant or a POSIX grant
// that replaced the owner's own locks (`after_release` false), or with the kernel
// holding max(req.type, live) after req's own lock left the table (`after_release`).
// Conversions come first, then unlocks: a conversion inside a range the owner holds
// exclusively never waits for anyone (fcntl(2) converts in place), and the
// non-blocking F_SETLK cannot block the mutex.
LockResult Restore(Table& t, const LockRequest& req, const FileId& file, bool after_release) {
  LockResult first;
  auto note = [&](LockResult r) {
    if (first.code == 0 && r.code != 0) first = r;
  };
  if (req.kind == kKindWindows || Count(t.locks_per_file, file) == 0) {
    // Nothing else of the owner can be on the range (the common case): one unlock.
    LockRequest u = req;
    u.type = kTypeUnlock;
    return TrySetLock(u);
  }
  const int64_t s = req.start, e = End(req);
  std::vector<const Entry*> group;
  std::vector<int64_t> cuts{s, e};
  for (const auto& kv : t.locks) {
    const Entry& x = kv.second;
    if (!SameOwner(x, req.kind, req.fd, file)) continue;
    const int64_t xs = x.req.start, xe = End(x.req);
    if (req.kind != kKindFlock && (xe <= s || xs >= e)) continue;
    group.push_back(&x);
    if (req.kind == kKindFlock) continue;
    if (xs > s) cuts.push_back(xs);
    if (xe < e) cuts.push_back(xe);
  }
  if (req.kind == kKindFlock) cuts = {s, e};  // flock: one whole-file "segment"
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  struct Seg {
    int64_t a, b;
    int32_t want;  // -1: nobody holds it
  };
  std::vector<Seg> segs;
  for (size_t i = 0; i + 1 < cuts.size(); i++) {
    int32_t want = -1;
    for (const Entry* x : group) {
      if (req.kind == kKindFlock || (x->req.start <= cuts[i] && End(x->req) >= cuts[i + 1])) {
        want = std::max(want, x->req.type);
      }
    }
    if (!segs.empty() && segs.back().want == want && segs.back().b == cuts[i]) {
      segs.back().b = cuts[i + 1];
    } else {
      segs.push_back({cuts[i], cuts[i + 1], want});
    }
  }
  // After a release, only bytes the owner still holds are converted: what the table
  // remembers may have been dropped meanwhile (held_ranges.h), and a release only ever
  // gives up, it never takes a lock. After a late grant the kernel holds all of req.
  std::vector<HeldRange> held;
  bool held_known = false;
  for (const Seg& g : segs) {
    if (g.want < 0) continue;
    const bool change = after_release ? g.want < req.type : g.want != req.type;
    if (!change) continue;
    if (!after_release) {
      note(SetRange(req, g.a, g.b, g.want));
      continue;
    }
    if (!held_known) {
      held_known = true;
      if (!OwnerHeldRanges(req, file.dev, file.ino, &held)) held.assign(1, HeldRange{0, kToEof});
    }
    for (const HeldRange& h : held) {
      const int64_t a = std::max(g.a, h.start), b = std::min(g.b, h.end);
      if (a < b) note(SetRange(req, a, b, g.want));
    }
  }
  for (const Seg& g : segs) {
    if (g.want < 0) note(SetRange(req, g.a, g.b, kTypeUnlock));
  }
  return first;
}

int32_t CloseFd(int32_t fd) {
#ifdef _WIN32
  return kCodeNotSupported;  // lib/ opens and closes Windows fds itself (open.ts)
#else
  // close(2): "the file descriptor is freed" even when close reports EINTR on Linux,
  // so a close is never retried.
  return close(fd) == 0 ? 0 : -errno;
#endif
}

int32_t AccessMode(int32_t fd) {
#ifdef _WIN32
  return 0;
#else
  int fl = fcntl(fd, F_GETFL);
  return fl < 0 ? -1 : (fl & O_ACCMODE);
#endif
}

// Closes an owned fd of `file`, or defers it while the process holds POSIX locks on
// the file (fcntl(2): any close drops them all).
int32_t CloseOrDefer(Table& t, int32_t fd, const FileId& file) {
  if (Count(t.posix_per_file, file) == 0) return CloseFd(fd);
  t.deferred.push_back({fd, file, AccessMode(fd)});
  return 0;
}

// Closes the deferred fds of `file` once no POSIX lock of the process lives on it.
int32_t CloseDeferredIfFree(Table& t, const FileId& file) {
  if (t.deferred.empty() || Count(t.posix_per_file, file) > 0) return 0;
  int32_t first = 0;
  for (size_t i = t.deferred.size(); i-- > 0;) {
    if (!(t.deferred[i].file == file)) continue;
    int32_t c = CloseFd(t.deferred[i].fd);
    if (first == 0) first = c;
    t.deferred.erase(t.deferred.begin() + static_cast<std::ptrdiff_t>(i));
  }
  return first;
}

void Forget(Table& t, const Entry& e) {
  Add(&t.locks_per_file, e.file, -1);
  if (e.req.kind == kKindPosix) Add(&t.posix_per_file, e.file, -1);
}

// Releases an entry already taken out of t.locks (and out of the counts).
int32_t ReleaseEntry(Table& t, const Entry& e, LockResult* r) {
  FileId now;
  int32_t lost = 0;
  if (FileIdentity(e.req.fd, &now) < 0) {
    lost = kLostClosed;
  } else if (!(now == e.file)) {
    lost = kLostReused;
  }
  if (lost != 0) {
    // Nothing is unlocked or closed through an fd that is not the lock's any more.
    CloseDeferredIfFree(t, e.file);
    return lost;
  }
  *r = Restore(t, e.req, e.file, /*after_release=*/true);
  if (e.owns_fd) {
    int32_t c = CloseOrDefer(t, e.req.fd, e.file);
    if (r->code == 0 && c != 0) r->code = c;
  }
  int32_t c = CloseDeferredIfFree(t, e.file);
  if (r->code == 0 && c != 0) r->code = c;
  return r->code;
}

}  // namespace

int64_t RegisterLock(const LockRequest& req, bool owns_fd, const void* env, LockResult* r) {
  FileId file;
  int32_t c = FileIdentity(req.fd, &file);
  if (c < 0) {
    r->code = c;
    return c;
  }
  return RecordLock(req, owns_fd, env, file);
}

int64_t RecordLock(const LockRequest& req, bool owns_fd, const void* env, const FileId& file) {
  Table& t = T();
  ScopedLock hold(t.mu);
  const int64_t id = t.next_id++;
  t.locks.emplace(id, Entry{req, file, owns_fd, env});
  Add(&t.locks_per_file, file, 1);
  if (req.kind == kKindPosix) Add(&t.posix_per_file, file, 1);
  if (owns_fd) t.owned.erase(req.fd);  // the lock owns it now
  // A grant replaces the owner's own locks on its range, as fcntl(2) says (a shared
  // grant over the owner's exclusive bytes converts them): the kernel's rule is kept
  // here; only releases and late grants restore (see Restore).
  return id;
}

int32_t ReleaseLock(int64_t id, bool forget, LockResult* r) {
  Table& t = T();
  ScopedLock hold(t.mu);
  auto it = t.locks.find(id);
  if (it == t.locks.end()) return 0;
  Entry e = it->second;
  t.locks.erase(it);
  Forget(t, e);
  if (forget) {
    CloseDeferredIfFree(t, e.file);
    return 0;
  }
  return ReleaseEntry(t, e, r);
}

int32_t ChangeLockMode(int64_t id, int32_t type, LockResult* r) {
  Table& t = T();
  ScopedLock hold(t.mu);
  auto it = t.locks.find(id);
  if (it == t.locks.end()) return kCodeInvalid;
  Entry& e = it->second;
  FileId now;
  if (FileIdentity(e.req.fd, &now) < 0 || !(now == e.file)) {
    const int32_t lost = FileIdentity(e.req.fd, &now) < 0 ? kLostClosed : kLostReused;
    Entry gone = e;
    t.locks.erase(it);
    Forget(t, gone);
    CloseDeferredIfFree(t, gone.file);
    return lost;
  }
  LockRequest x = e.req;
  x.type = type;
  *r = TrySetLock(x);
  if (r->code != 0) return r->code;
  e.req.type = type;
  return 0;
}

void AdoptFd(int32_t fd, const FileId& file, const void* env) {
  Table& t = T();
  ScopedLock hold(t.mu);
  t.owned[fd] = {env, file};
}

int32_t CloseOwnedFd(int32_t fd) {
  Table& t = T();
  ScopedLock hold(t.mu);
  t.owned.erase(fd);
  if (t.posix_per_file.empty()) return CloseFd(fd);  // the common case: no fstat
  FileId file;
  if (FileIdentity(fd, &file) < 0) return CloseFd(fd);
  return CloseOrDefer(t, fd, file);
}

int32_t TakeDeferredFd(const FileId& id, int32_t accmode, const void* env) {
  Table& t = T();
  ScopedLock hold(t.mu);
  for (size_t i = 0; i < t.deferred.size(); i++) {
    const Deferred& d = t.deferred[i];
    if (!(d.file == id) || d.accmode != accmode) continue;
    const int32_t fd = d.fd;
    t.deferred.erase(t.deferred.begin() + static_cast<std::ptrdiff_t>(i));
    t.owned[fd] = {env, id};
    return fd;
  }
  return -1;
}

bool HasDeferredFds() {
  Table& t = T();
  ScopedLock hold(t.mu);
  return !t.deferred.empty();
}

LockResult RestoreAfterLateGrant(const LockRequest& req) {
  FileId file;
  int32_t c = FileIdentity(req.fd, &file);
  if (c < 0) {
    LockResult r;
    r.code = c;
    return r;
  }
  Table& t = T();
  ScopedLock hold(t.mu);
  return Restore(t, req, file, /*after_release=*/false);
}

void ReleaseEnvironment(const void* env) {
  Table& t = T();
  ScopedLock hold(t.mu);
  std::vector<Entry> mine;
  for (auto it = t.locks.begin(); it != t.locks.end();) {
    if (it->second.env == env) {
      mine.push_back(it->second);
      Forget(t, it->second);
      it = t.locks.erase(it);
    } else {
      ++it;
    }
  }
  for (const Entry& e : mine) {
    LockResult r;
    ReleaseEntry(t, e, &r);
  }
  std::vector<std::pair<int32_t, FileId>> fds;
  for (const auto& kv : t.owned) {
    if (kv.second.env == env) fds.emplace_back(kv.first, kv.second.file);
  }
  for (const auto& f : fds) {
    t.owned.erase(f.first);
    // An fd closed by other code whose number now names another file is not ours.
    FileId now;
    if (FileIdentity(f.first, &now) < 0 || !(now == f.second)) continue;
    CloseOrDefer(t, f.first, f.second);
  }
}

int64_t DeferredFdCount() {
  Table& t = T();
  ScopedLock hold(t.mu);
  return static_cast<int64_t>(t.deferred.size());
}

int64_t LiveLockCount() {
  Table& t = T();
  ScopedLock hold(t.mu);
  return static_cast<int64_t>(t.locks.size());
}

}  // namespace syslocks
