// waiter.cc - see waiter.h for why waits run on the addon's own threads.
#include "waiter.h"

#include <errno.h>

#include "errors.h"
#include "late_grant.h"

namespace syslocks {

struct WaitRegistry::Waiter {
  int64_t id = 0;
  LockRequest req{};
  std::atomic<bool> cancelled{false};
  std::atomic<bool> done{false};
  LockResult result;
  Thread thread;
  // Asynchronous waits: where the completion goes.
  napi_threadsafe_function tsfn = nullptr;
  napi_ref callback = nullptr;
  // Synchronous waits with a deadline: the calling thread sleeps on this.
  bool synchronous = false;
  Mutex mutex;
  CondVar finished;
};

WaitRegistry::WaitRegistry(napi_env env) : env_(env) {
  napi_value name;
  napi_create_string_utf8(env, "syslocks.lockWait", NAPI_AUTO_LENGTH, &name);
  // No JS function: CallJs looks the per-wait callback up by id. Unlimited queue,
  // one owner (this registry). Unref'd while nothing waits, so an idle addon never
  // keeps the process alive; Start() refs it for as long as waits are pending.
  if (napi_create_threadsafe_function(env, nullptr, nullptr, name, 0, 1, nullptr, nullptr, this,
                                      CallJs, &tsfn_) == napi_ok) {
    napi_unref_threadsafe_function(env, tsfn_);
  } else {
    tsfn_ = nullptr;
  }
  PrepareWaiterSupport();
}

WaitRegistry::~WaitRegistry() { Shutdown(); }

void WaitRegistry::ThreadMain(void* arg) {
  auto* w = static_cast<Waiter*>(arg);
  LockResult r = BlockingSetLock(w->req, w->cancelled);
  if (r.code == 0 && w->cancelled.load(std::memory_order_acquire)) {
    // Granted just as the caller gave up: nobody will own this lock, so let it go
    // here rather than leave it held by nobody (DESIGN.md section 3).
    UndoLateGrant(w->req);
    r.code = kCodeCanceled;
    r.winerror = 0;
  }
  w->result = r;
  if (w->synchronous) {
    ScopedLock hold(w->mutex);
    w->done.store(true, std::memory_order_release);
    w->finished.Signal();
    return;
  }
  w->done.store(true, std::memory_order_release);
  // The id, not the pointer: after teardown a late queue entry must find nothing.
  napi_call_threadsafe_function(w->tsfn, reinterpret_cast<void*>(static_cast<intptr_t>(w->id)),
                                napi_tsfn_nonblocking);
}

int64_t WaitRegistry::Start(const LockRequest& req, napi_value callback) {
  if (shut_down_ || tsfn_ == nullptr) return kCodeCanceled;
  auto* w = new Waiter();
  w->id = next_id_++;
  w->req = req;
  w->tsfn = tsfn_;
  napi_create_reference(env_, callback, 1, &w->callback);
  if (!w->thread.Start(ThreadMain, w)) {
    napi_delete_reference(env_, w->callback);
    delete w;
    return kCodeNoThread;
  }
  if (waiters_.empty()) napi_ref_threadsafe_function(env_, tsfn_);
  waiters_.emplace(w->id, w);
  return w->id;
}

bool WaitRegistry::Cancel(int64_t id) {
  auto it = waiters_.find(id);
  if (it == waiters_.end()) return false;
  Waiter* w = it->second;
  if (w->done.load(std::memory_order_acquire)) return true;  // completion already queued
  w->cancelled.store(true, std::memory_order_release);
  w->thread.Interrupt();
  return true;
}

void WaitRegistry::CallJs(napi_env env, napi_value, void* context, void* data) {
  // env is null when the function is torn down with entries still queued
  // (napi_threadsafe_function_call_js): nothing to deliver then.
  if (env == nullptr || context == nullptr) return;
  static_cast<WaitRegistry*>(context)->Complete(
      env, static_cast<int64_t>(reinterpret_cast<intptr_t>(data)));
}

void WaitRegistry::Complete(napi_env env, int64_t id) {
  auto it = waiters_.find(id);
  if (it == waiters_.end()) return;
  Waiter* w = it->second;
  waiters_.erase(it);
  if (waiters_.empty()) napi_unref_threadsafe_function(env, tsfn_);
  w->thread.Join();  // the thread has posted its result and is exiting
  napi_value cb = nullptr;
  napi_get_reference_value(env, w->callback, &cb);
  napi_delete_reference(env, w->callback);
  LockResult r = w->result;
  delete w;  // never touch the request after the callback (fs-native-extensions)
  if (cb == nullptr) return;
  napi_value global, argv[2];
  napi_get_global(env, &global);
  napi_create_int32(env, r.code, &argv[0]);
  napi_create_uint32(env, r.winerror, &argv[1]);
  napi_call_function(env, global, cb, 2, argv, nullptr);
}

void WaitRegistry::StopAndJoin(Waiter* w) {
  w->cancelled.store(true, std::memory_order_release);
  // Repeat the interrupt until the thread is out: one sent just before it entered
  // the kernel is consumed by the no-op handler and leaves the syscall blocked.
  while (!w->done.load(std::memory_order_acquire)) {
    w->thread.Interrupt();
    SleepMs(1);
  }
  w->thread.Join();
}

LockResult WaitRegistry::WaitSync(const LockRequest& req, int64_t timeout_ms) {
  if (timeout_ms < 0) {
    static const std::atomic<bool> never{false};
    return BlockingSetLock(req, never);
  }
  Waiter w;
  w.req = req;
  w.synchronous = true;
  if (!w.thread.Start(ThreadMain, &w)) {
    LockResult r;
    r.code = kCodeNoThread;
    return r;
  }
  const int64_t deadline = MonotonicMs() + timeout_ms;
  bool timed_out = false;
  {
    ScopedLock hold(w.mutex);
    while (!w.done.load(std::memory_order_acquire)) {
      int64_t left = deadline - MonotonicMs();
      if (left <= 0) {
        timed_out = true;
        break;
      }
      w.finished.WaitFor(w.mutex, left);
    }
  }
  if (timed_out) {
    StopAndJoin(&w);
  } else {
    w.thread.Join();
  }
  LockResult r = w.result;
  // A grant that raced the deadline was either kept (code 0: the caller owns it) or
  // undone by the thread (canceled): either way no lock is left without an owner.
  if (r.code == kCodeCanceled) r.code = kCodeTimedOut;
  return r;
}

void WaitRegistry::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  for (auto& entry : waiters_) {
    Waiter* w = entry.second;
    StopAndJoin(w);
    napi_delete_reference(env_, w->callback);
    delete w;
  }
  waiters_.clear();
  if (tsfn_ != nullptr) {
    napi_release_threadsafe_function(tsfn_, napi_tsfn_abort);
    tsfn_ = nullptr;
  }
}

}  // namespace syslocks
