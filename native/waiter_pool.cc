// waiter_pool.cc - see waiter_pool.h.
#include "waiter_pool.h"

#ifndef _WIN32
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

#include "errors.h"
#include "late_grant.h"

namespace syslocks {

namespace {

struct Pool {
  Mutex mu;
  Slot* idle = nullptr;  // parked threads, most recent first
  int idle_count = 0;
  int live = 0;
  Slot* ended = nullptr;  // slots of ended threads, freed by the next AcquireSlot()
};

std::atomic<int64_t> g_linger_ms{kLingerMs};
std::atomic<int64_t> g_surplus_linger_ms{kSurplusLingerMs};

// Waits on the slot's condition variable for `ms`, but never longer than
// kLingerRecheckMs (a test may shorten the linger meanwhile).
void ParkFor(Slot* s, int64_t ms) {
  s->cv.WaitFor(s->mu, ms < kLingerRecheckMs ? ms : kLingerRecheckMs);
}

// Never destroyed: a thread may still be ending when the process exits.
Pool& pool() {
  static Pool* p = new Pool();
  return *p;
}

// Ends the calling waiter thread: nothing of the slot is touched after the unlock.
void EndLocked(Pool& p, Slot* s) {
  p.live--;
  s->next = p.ended;
  p.ended = s;
}

// Parks `s` for reuse. Always: a thread that cannot be kept ends later, from the idle
// list (ThreadMain), never straight after its completion (waiter_pool.h).
void ParkLocked(Pool& p, Slot* s) {
  s->idle = true;
  s->prev = nullptr;
  s->next = p.idle;
  if (p.idle != nullptr) p.idle->prev = s;
  p.idle = s;
  p.idle_count++;
}

// O(1): after a burst, a thousand parked threads leave the list one by one.
void UnparkLocked(Pool& p, Slot* s) {
  if (s->prev != nullptr)
    s->prev->next = s->next;
  else
    p.idle = s->next;
  if (s->next != nullptr) s->next->prev = s->prev;
  s->idle = false;
  s->next = nullptr;
  s->prev = nullptr;
  p.idle_count--;
}

// The undo of an abandoned wait that was granted: only through a reference that still
// names the caller's file (the caller may have closed the fd, and the number may name
// another file by now).
void UndoAbandoned(Slot* s, const LockRequest& req) {
  LockRequest undo = req;
#ifndef _WIN32
  if (s->undo_fd >= 0) {
    undo.fd = s->undo_fd;
  } else if (s->check_identity) {
    struct stat st;
    if (fstat(req.fd, &st) != 0 || static_cast<uint64_t>(st.st_dev) != s->dev ||
        static_cast<uint64_t>(st.st_ino) != s->ino) {
      // Closed (close(2) dropped the process's POSIX locks on the file, and fcntl(2)
      // drops a lock granted to a closed fd), or reused for another file: nothing here
      // is ours to undo.
      return;
    }
  }
#endif
  UndoLateGrant(undo);
}

std::atomic<bool> g_hold_undos{false};
std::atomic<int> g_held_undos{0};

// Test hook (HoldAbandonedUndos): keeps a granted abandoned wait between the kernel's
// answer and its undo, the window where the caller may close and reuse the fd number.
void HoldUndoForTest(Slot* s) {
  if (!g_hold_undos.load(std::memory_order_acquire)) return;
  s->mu.Unlock();
  g_held_undos.fetch_add(1);
  while (g_hold_undos.load(std::memory_order_acquire)) SleepMs(1);
  g_held_undos.fetch_sub(1);
  s->mu.Lock();
}

void ThreadMain(void* arg) {
  auto* s = static_cast<Slot*>(arg);
  Pool& p = pool();
  s->mu.Lock();
  for (;;) {
    // Park until a wait is assigned or the linger ends: kLingerMs for the first
    // kIdleThreads parked threads, kSurplusLingerMs for any beyond (waiter_pool.h).
    int64_t parked_at = MonotonicMs();
    while (!s->has_job) {
      const int64_t linger = g_linger_ms.load(std::memory_order_relaxed);
      const int64_t surplus = g_surplus_linger_ms.load(std::memory_order_relaxed);
      const int64_t surplus_linger = linger < surplus ? linger : surplus;
      const int64_t idle_for = MonotonicMs() - parked_at;
      if (idle_for < surplus_linger) {
        ParkFor(s, surplus_linger - idle_for);
        continue;
      }
      bool was_idle;
      s->mu.Unlock();
      {
        ScopedLock hold(p.mu);
        was_idle = s->idle;
        if (was_idle && (idle_for >= linger || p.idle_count > kIdleThreads)) {
          UnparkLocked(p, s);
          EndLocked(p, s);
          return;
        }
      }
      s->mu.Lock();
      if (!was_idle) {
        // Taken for a wait in the meantime (or not parked yet): keep serving.
        parked_at = MonotonicMs();
        continue;
      }
      // One of the few kept: linger on to the full linger.
      if (!s->has_job) ParkFor(s, parked_at + linger - MonotonicMs());
    }
    s->has_job = false;
    s->running = true;
    const LockRequest req = s->req;
    s->mu.Unlock();

    ThreadInterruptible(&s->signal);
    LockResult r = BlockingSetLock(req, s->cancelled);

    s->mu.Lock();
    s->running = false;
    bool post = false;
    if (s->abandoned) {
      // Nobody waits for this result: undo a grant, close our reference, move on.
      if (r.code == 0) {
        HoldUndoForTest(s);
        UndoAbandoned(s, req);
      }
#ifndef _WIN32
      if (s->undo_fd >= 0) close(s->undo_fd);
#endif
      s->undo_fd = -1;
      s->check_identity = false;
      s->abandoned = false;
    } else {
      if (r.code == 0 && s->cancelled.load(std::memory_order_acquire)) {
        // Granted just as the caller gave up: nobody will own this lock, so undo it
        // here rather than leave it held by nobody (DESIGN.md, "Waiting").
        UndoLateGrant(req);
        r.code = kCodeCanceled;
        r.winerror = 0;
      }
      if (s->sync) {
        s->result = r;
        s->sync_done = true;
        s->cv.Signal();
        // The caller reads the result, then ReleaseSlot() parks this thread.
        s->channel = nullptr;
        s->token = nullptr;
        continue;
      }
      post = s->channel != nullptr;
    }
    s->sync = false;
    // Park before the completion is posted, not after: the JS thread may run the
    // callback (and start its next wait) before this thread is scheduled again, and
    // that wait must find this thread parked rather than create another one. s->mu
    // stays held, so a wait assigned meanwhile is seen at the top of the loop.
    // Lock order s->mu -> pool mutex; nothing takes them the other way round.
    {
      ScopedLock hold(p.mu);
      ParkLocked(p, s);
    }
    if (post) PostCompletion(s->channel, s->token, r);
    s->channel = nullptr;
    s->token = nullptr;
  }
}

}  // namespace

Slot* AcquireSlot() {
  Pool& p = pool();
  Slot* ended = nullptr;
  Slot* s = nullptr;
  bool create = false;
  {
    ScopedLock hold(p.mu);
    ended = p.ended;
    p.ended = nullptr;
    if (p.idle != nullptr) {
      s = p.idle;
      UnparkLocked(p, s);
    } else if (p.live < kMaxThreads) {
      p.live++;
      create = true;
    }
  }
  while (ended != nullptr) {
    Slot* next = ended->next;
    delete ended;
    ended = next;
  }
  if (!create) return s;
  s = new Slot();
  if (s->thread.Start(ThreadMain, s) != 0) {
    delete s;
    ScopedLock hold(p.mu);
    p.live--;
    return nullptr;
  }
  return s;
}

void AssignLocked(Slot* s) {
  s->epoch++;
  s->cancelled.store(false, std::memory_order_release);
  s->sync_done = false;
  s->has_job = true;
  s->cv.Signal();
}

void ReleaseSlot(Slot* s) {
  Pool& p = pool();
  {
    ScopedLock hold(s->mu);
    s->sync = false;
    s->sync_done = false;
  }
  ScopedLock hold(p.mu);
  ParkLocked(p, s);
}

void AbandonLocked(Slot* s) {
  s->abandoned = true;
  s->channel = nullptr;
  s->token = nullptr;
  s->sync = false;
#ifndef _WIN32
  if (s->req.kind == kKindPosix) {
    // POSIX locks belong to the process, not to the fd (fcntl(2)), and closing any fd
    // of the file drops them all: no dup here, an identity check before the undo.
    struct stat st;
    if (fstat(s->req.fd, &st) == 0) {
      s->check_identity = true;
      s->dev = static_cast<uint64_t>(st.st_dev);
      s->ino = static_cast<uint64_t>(st.st_ino);
    }
  } else {
    // flock and OFD locks belong to the open file description: a dup names the same
    // one for as long as the thread needs it, whatever the caller closes.
    s->undo_fd = fcntl(s->req.fd, F_DUPFD_CLOEXEC, 0);
  }
#endif
}

int LiveThreads() {
  ScopedLock hold(pool().mu);
  return pool().live;
}

int64_t LingerMs() { return g_linger_ms.load(std::memory_order_relaxed); }

void SetLingerMs(int64_t ms) { g_linger_ms.store(ms, std::memory_order_relaxed); }

int HoldAbandonedUndos(int hold) {
  if (hold >= 0) g_hold_undos.store(hold != 0, std::memory_order_release);
  return g_held_undos.load();
}

int64_t SurplusLingerMs() { return g_surplus_linger_ms.load(std::memory_order_relaxed); }

void SetSurplusLingerMs(int64_t ms) { g_surplus_linger_ms.store(ms, std::memory_order_relaxed); }

int IdleThreads() {
  ScopedLock hold(pool().mu);
  return pool().idle_count;
}

}  // namespace syslocks
