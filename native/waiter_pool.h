// waiter_pool.h - the process's waiter threads: parked, reused, capped, lingering.
//
// A waiter thread serves one wait at a time in a Slot. When its wait ends it posts the
// result and parks in the idle list for the next wait. A parked thread ends after
// kLingerMs without work; while more than kIdleThreads are parked (after a burst of
// grants), the surplus ends after kSurplusLingerMs. Every thread parks first, never
// exits straight after its completion: a thread's exit (glibc's exit path, the stack's
// madvise) costs tens of microseconds of CPU, and 1,000 of them at once took the cores
// from the JS thread that was taking the grants (docs/BENCH.md). Threads are
// detached: nobody joins them, so no JS thread ever waits for one to exit; the memory
// of an ended thread's Slot is freed by the next AcquireSlot() on a JS thread.
// Waiter threads never call malloc/free (glibc would give each one an arena).
#ifndef SYSLOCKS_WAITER_POOL_H_
#define SYSLOCKS_WAITER_POOL_H_

#include <atomic>
#include <cstdint>

#include "lock_request.h"
#include "platform_thread.h"

namespace syslocks {

// At most this many threads stay parked for the whole linger (docs/DESIGN.md).
constexpr int kIdleThreads = 4;
// A parked thread ends after this long without a wait (LingerMs(); tests may change it).
constexpr int64_t kLingerMs = 500;
// Parked threads beyond kIdleThreads end after this long without a wait: late enough
// that their exits do not compete with the JS thread taking a burst of grants.
constexpr int64_t kSurplusLingerMs = 100;
// At most this many waiter threads per process; waits beyond poll instead.
constexpr int kMaxThreads = 4096;

struct Channel;  // waiter.cc: where an asynchronous wait's result goes

struct Slot {
  Thread thread;
  Mutex mu;
  CondVar cv;  // the thread parks on it; a synchronous caller sleeps on it too

  // The current wait, guarded by mu.
  uint64_t epoch = 0;  // one per wait: a cancel names the wait it is for
  LockRequest req{};
  bool has_job = false;  // assigned, not yet taken by the thread
  bool running = false;  // the thread is in (or entering) the blocking call
  std::atomic<bool> cancelled{false};
  Channel* channel = nullptr;  // asynchronous: result goes there with `token`
  void* token = nullptr;
  bool sync = false;  // synchronous: result stays here, sync_done is set
  bool sync_done = false;
  LockResult result;
  // Abandoned wait (see waiter.h): the thread undoes a late grant on its own.
  bool abandoned = false;
  int undo_fd = -1;             // flock/OFD: a dup of the fd (same open file description)
  bool check_identity = false;  // POSIX: undo only if fd still names dev/ino
  uint64_t dev = 0, ino = 0;

  // Thread-local state: the interrupt signal this thread has unblocked.
  int signal = 0;
  // Pool links (idle list, or ended list through next), guarded by the pool mutex.
  Slot* next = nullptr;
  Slot* prev = nullptr;
  bool idle = false;
};

// A parked or new thread, or nullptr when none can be had (kMaxThreads reached, or
// the system refused a thread: RLIMIT_NPROC, cgroup pids.max, memory).
Slot* AcquireSlot();
// Hands the wait to the thread (s->mu held by the caller; fields set by the caller).
void AssignLocked(Slot* s);
// A synchronous caller hands its finished slot back.
void ReleaseSlot(Slot* s);
// Records that nobody waits for this wait's result any more (s->mu held).
void AbandonLocked(Slot* s);

// waiter.cc: posts an asynchronous result (called by a waiter thread, s->mu held).
void PostCompletion(Channel* channel, void* token, const LockResult& r);

// Counts, for tests and the bench: live waiter threads, parked ones.
int LiveThreads();
int IdleThreads();
// The linger of parked threads; SetLingerMs() lets a test take thread reuse out of
// the machine's timing (a loaded CI host can pause a test longer than kLingerMs).
int64_t LingerMs();
void SetLingerMs(int64_t ms);
// The same for the surplus beyond kIdleThreads (kSurplusLingerMs). A parked thread
// re-reads both at least every kLingerRecheckMs, so a shortened linger takes effect.
int64_t SurplusLingerMs();
void SetSurplusLingerMs(int64_t ms);
constexpr int64_t kLingerRecheckMs = 250;
// Tests: while `hold` (1; 0 lets go, -1 leaves it), a granted abandoned wait stops
// before its undo. Returns how many stand there now.
int HoldAbandonedUndos(int hold);

}  // namespace syslocks

#endif  // SYSLOCKS_WAITER_POOL_H_
