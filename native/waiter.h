// waiter.h - blocking lock waits on threads the addon owns, never on libuv's pool.
//
// libuv's threadpool has 4 threads by default (STYLE.md section 7); a lock wait that
// sat on it would freeze every fs call in the process after four waiters (fs-ext#49,
// deno#22504). So each contended wait gets a small dedicated thread that sits in the
// kernel's own blocking call (keeping the kernel's wake-up order), and completions come
// back to the JS thread through one thread-safe function per addon instance.
#ifndef SYSLOCKS_WAITER_H_
#define SYSLOCKS_WAITER_H_

#include <node_api.h>

#include <atomic>
#include <cstdint>
#include <unordered_map>

#include "lock_request.h"
#include "platform_thread.h"

namespace syslocks {

class WaitRegistry {
 public:
  // Creates the completion channel; must be called on the JS thread at module init,
  // before the registry's cleanup hook is added (see Shutdown()).
  explicit WaitRegistry(napi_env env);
  ~WaitRegistry();
  WaitRegistry(const WaitRegistry&) = delete;
  WaitRegistry& operator=(const WaitRegistry&) = delete;

  // Starts an asynchronous wait; `callback(code, winerror)` runs later on the JS
  // thread, exactly once. Returns the wait's id (> 0), or a negative error code when
  // no thread could be started (nothing is then pending).
  int64_t Start(const LockRequest& req, napi_value callback);

  // Asks a pending wait to stop. Returns true while the wait is still running: the
  // caller repeats the call until the callback has run, because an interrupt that
  // arrives just before the thread enters the kernel is not seen by the kernel.
  bool Cancel(int64_t id);

  // Waits on the calling thread. timeout_ms < 0: forever, in the calling thread's own
  // syscall. Otherwise on a waiter thread, so the deadline can end the kernel wait;
  // returns -ETIMEDOUT (UV_ETIMEDOUT) when it does, and never leaves a lock behind.
  LockResult WaitSync(const LockRequest& req, int64_t timeout_ms);

  size_t pending() const { return waiters_.size(); }

  // Environment teardown (process exit, worker.terminate()): ends every wait, joins
  // every thread and releases the completion channel. No JS runs after this.
  void Shutdown();

 private:
  struct Waiter;
  static void ThreadMain(void* arg);
  static void CallJs(napi_env env, napi_value js_cb, void* context, void* data);
  static void StopAndJoin(Waiter* w);
  void Complete(napi_env env, int64_t id);

  napi_env env_;
  napi_threadsafe_function tsfn_ = nullptr;
  int64_t next_id_ = 1;
  bool shut_down_ = false;
  std::unordered_map<int64_t, Waiter*> waiters_;  // JS thread only
};

}  // namespace syslocks

#endif  // SYSLOCKS_WAITER_H_
