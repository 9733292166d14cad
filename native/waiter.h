// waiter.h - blocking lock waits on threads the addon owns, never on libuv's pool.
//
// libuv's threadpool has 4 threads by default (STYLE.md section 7); a lock wait that
// sat on it would freeze every fs call in the process after four waiters (fs-ext#49,
// deno#22504). So each contended wait runs on a waiter thread that sits in the
// kernel's own blocking call (keeping the kernel's wake-up order). docs/DESIGN.md,
// "Waiting", describes the engine; in short:
//
//   - Threads are pooled per process (waiter_pool.h): a thread that delivered its
//     completion parks and serves the next wait; kIdleThreads stay parked for
//     kLingerMs, any more for kSurplusLingerMs. A thread never allocates or frees memory.
//   - Completions reach the JS thread through one wake-up per environment (a libuv
//     async handle on POSIX, a thread-safe function on Windows) and a lock-free list.
//   - Every wait carries an epoch: a cancel interrupts only the wait it was meant for.
//   - A wait whose thread does not return within kGraceMs of its cancel (a FUSE
//     filesystem that ignores the signal, a foreign SA_RESTART handler) is abandoned:
//     the caller gets its answer, and the thread undoes any late grant by itself.
//   - No thread to be had (RLIMIT_NPROC, a cgroup pids limit, kMaxThreads): the
//     caller polls with try-locks and a backoff instead (lib/wait.ts, WaitSync).
//   - Synchronous waits run on a waiter thread too; the JS thread sleeps on a condition
//     variable and checks every kProbeMs whether its environment is being stopped
//     (worker.terminate(), process.exit()), which no signal can tell it.
#ifndef SYSLOCKS_WAITER_H_
#define SYSLOCKS_WAITER_H_

#include <node_api.h>

#include <cstdint>
#include <unordered_map>

#include "lock_request.h"

namespace syslocks {

// Cancel() answers.
enum CancelState : int32_t {
  kCancelDone = 0,       // no such wait: its callback has run (or is about to)
  kCancelPending = 1,    // interrupted; the callback will run: call again if it does not
  kCancelAbandoned = 2,  // given up: the callback never runs, settle the wait now
};

struct Slot;
struct Channel;

// What a granted asynchronous wait leaves in the lock table (lock_table.h) before its
// callback runs: nothing (the primitives), or the lock's record, whose id the callback
// receives. The file's identity is read when the wait starts, so no syscall stands
// between the kernel's grant and the caller (docs/DESIGN.md, "Waiting").
enum WaitRecord : int32_t {
  kRecordNone = 0,
  kRecordLock = 1,
  kRecordLockOwningFd = 2,  // the lock owns the fd (a path lock)
};

class WaitRegistry {
 public:
  // Creates the completion channel; must be called on the JS thread at module init.
  explicit WaitRegistry(napi_env env);
  ~WaitRegistry();
  WaitRegistry(const WaitRegistry&) = delete;
  WaitRegistry& operator=(const WaitRegistry&) = delete;

  // Starts an asynchronous wait; `callback(code, winerror, heldId)` runs later on the
  // JS thread, exactly once, unless the wait is abandoned. heldId is the lock's id in
  // the lock table when `record` asked for one and the wait was granted without a
  // Cancel() (else 0); `table_env` names the environment there. Returns the wait's id
  // (> 0), kCodeNoThread when no waiter thread is available (the caller polls
  // instead), the error of reading the fd's identity, or kCodeCanceled after Shutdown().
  int64_t Start(const LockRequest& req, napi_value callback, WaitRecord record,
                const void* table_env);

  // Asks a pending wait to stop (see CancelState). With `abandon`, a wait whose thread
  // is still in the kernel is given up instead of interrupted again.
  CancelState Cancel(int64_t id, bool abandon);

  // Waits on the calling thread. timeout_ms < 0: forever. Returns -ETIMEDOUT
  // (UV_ETIMEDOUT) at the deadline, never leaving a lock behind, and kCodeCanceled
  // when the environment is being stopped.
  LockResult WaitSync(const LockRequest& req, int64_t timeout_ms);

  size_t pending() const { return waits_.size(); }

  // Environment teardown (process exit, worker.terminate()): ends or abandons every
  // wait. No JS runs after this.
  void Shutdown();

  // Called on the JS thread when completions are queued.
  void Drain();

  struct Wait;  // one asynchronous wait (waiter.cc)

 private:
  bool Terminating();
  void Finish(Wait* w, bool call);
  void Abandon(Slot* s);
  LockResult PollSync(const LockRequest& req, int64_t timeout_ms);

  napi_env env_;
  Channel* channel_ = nullptr;
  napi_ref probe_ = nullptr;
  napi_async_context async_context_ = nullptr;
  int64_t next_id_ = 1;
  bool shut_down_ = false;
  std::unordered_map<int64_t, Wait*> waits_;  // JS thread only
};

}  // namespace syslocks

#endif  // SYSLOCKS_WAITER_H_
