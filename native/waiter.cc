// waiter.cc - see waiter.h for how waits run on the addon's own threads.
#include "waiter.h"

#include <atomic>

#ifndef _WIN32
#include <uv.h>
#endif

#include "errors.h"
#include "lock_table.h"
#include "platform_thread.h"
#include "waiter_pool.h"

namespace syslocks {

namespace {
// After a cancel, how long a wait may take to leave the kernel before it is abandoned.
constexpr int64_t kGraceMs = 50;
// How often a synchronous wait checks whether its environment is being stopped.
constexpr int64_t kProbeMs = 50;
// Backoff of the polling fallback (no thread): 1, 2, 4 ... kPollMaxMs.
constexpr int64_t kPollMaxMs = 32;
}  // namespace

struct WaitRegistry::Wait {
  int64_t id = 0;
  Slot* slot = nullptr;
  uint64_t epoch = 0;
  napi_ref callback = nullptr;
  LockResult result;
  // The record to make at the grant (WaitRecord), with what it needs.
  WaitRecord record = kRecordNone;
  LockRequest req{};
  FileId file;
  const void* table_env = nullptr;
  bool cancel_requested = false;  // the caller gave up: a grant is undone, not recorded
  Wait* next = nullptr;           // in the channel's list of finished waits
};

// The wake-up of one environment's JS thread, and the lock-free list of finished
// waits it drains. Posting allocates nothing: a Treiber stack and, only when the list
// was empty, one wake-up (uv_async_send(3) is async-signal-safe and allocation-free;
// a thread-safe function's queue would allocate on the waiter thread).
struct Channel {
  std::atomic<WaitRegistry::Wait*> head{nullptr};
  WaitRegistry* registry = nullptr;
#ifdef _WIN32
  // Windows has no glibc arenas, and mingw builds see no libuv headers: a
  // thread-safe function is the wake-up there.
  napi_threadsafe_function tsfn = nullptr;
#else
  uv_async_t async;
  napi_async_cleanup_hook_handle hook = nullptr;
#endif
};

void PostCompletion(Channel* ch, void* token, const LockResult& r) {
  auto* w = static_cast<WaitRegistry::Wait*>(token);
  w->result = r;
  WaitRegistry::Wait* old = ch->head.load(std::memory_order_relaxed);
  do {
    w->next = old;
  } while (!ch->head.compare_exchange_weak(old, w, std::memory_order_release,
                                           std::memory_order_relaxed));
  if (old != nullptr) return;  // a wake-up is already on its way
#ifdef _WIN32
  napi_call_threadsafe_function(ch->tsfn, nullptr, napi_tsfn_nonblocking);
#else
  uv_async_send(&ch->async);
#endif
}

namespace {

napi_value Noop(napi_env, napi_callback_info) { return nullptr; }

// Deno (globalThis.Deno.version.deno is a string). Its Node-API runs environment cleanup
// hooks with no V8 HandleScope open (ext/napi/lib.rs, NapiState::drop) and its
// napi_open_handle_scope opens none, so a Node-API call that makes a handle there aborts
// the process: "Cannot create a handle without a HandleScope". Its napi_async_destroy
// makes handles (it calls the async_hooks destroy function), so an async context made
// there could never be freed at teardown; and its napi_open_callback_scope takes a null
// context (node_api.rs: "async_id = 0"), which Node.js's does not.
bool HostIsDeno(napi_env env) {
  napi_value global, deno, version, name;
  napi_valuetype type = napi_undefined;
  return napi_get_global(env, &global) == napi_ok &&
         napi_get_named_property(env, global, "Deno", &deno) == napi_ok &&
         napi_typeof(env, deno, &type) == napi_ok && type == napi_object &&
         napi_get_named_property(env, deno, "version", &version) == napi_ok &&
         napi_typeof(env, version, &type) == napi_ok && type == napi_object &&
         napi_get_named_property(env, version, "deno", &name) == napi_ok &&
         napi_typeof(env, name, &type) == napi_ok && type == napi_string;
}

#ifdef _WIN32
void CallJs(napi_env env, napi_value, void* context, void*) {
  // env is null when the function is torn down with entries still queued.
  auto* ch = static_cast<Channel*>(context);
  if (env != nullptr && ch->registry != nullptr) ch->registry->Drain();
}
#else
void OnAsync(uv_async_t* handle) {
  auto* ch = static_cast<Channel*>(handle->data);
  if (ch->registry != nullptr) ch->registry->Drain();
}

// Async cleanup hook (napi_add_async_cleanup_hook): Node keeps the loop running until
// the handle is closed, so the close callback always runs before the loop goes away.
void OnAsyncCleanup(napi_async_cleanup_hook_handle handle, void* arg) {
  auto* ch = static_cast<Channel*>(arg);
  ch->hook = handle;
  if (ch->registry != nullptr) ch->registry->Shutdown();
  uv_close(reinterpret_cast<uv_handle_t*>(&ch->async), [](uv_handle_t* h) {
    auto* c = static_cast<Channel*>(h->data);
    napi_remove_async_cleanup_hook(c->hook);
    delete c;
  });
}
#endif

void KeepAlive(napi_env env, Channel* ch, bool on) {
#ifdef _WIN32
  if (on)
    napi_ref_threadsafe_function(env, ch->tsfn);
  else
    napi_unref_threadsafe_function(env, ch->tsfn);
#else
  if (on)
    uv_ref(reinterpret_cast<uv_handle_t*>(&ch->async));
  else
    uv_unref(reinterpret_cast<uv_handle_t*>(&ch->async));
#endif
}

}  // namespace

WaitRegistry::WaitRegistry(napi_env env) : env_(env) {
  PrepareWaiterSupport();
  auto* ch = new Channel();
  ch->registry = this;
  napi_value name;
  napi_create_string_utf8(env, "syslocks.lockWait", NAPI_AUTO_LENGTH, &name);
#ifdef _WIN32
  // The finalizer frees the channel, after the last queued CallJs (env null then).
  auto finalize = [](napi_env, void* data, void*) { delete static_cast<Channel*>(data); };
  if (napi_create_threadsafe_function(env, nullptr, nullptr, name, 0, 1, ch, finalize, ch, CallJs,
                                      &ch->tsfn) != napi_ok) {
    delete ch;
    ch = nullptr;
  }
#else
  uv_loop_s* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr ||
      uv_async_init(loop, &ch->async, OnAsync) != 0) {
    delete ch;
    ch = nullptr;
  } else {
    ch->async.data = ch;
    napi_add_async_cleanup_hook(env, OnAsyncCleanup, ch, &ch->hook);
  }
#endif
  channel_ = ch;
  // Unref'd while nothing waits, so an idle addon never keeps the process alive.
  if (channel_ != nullptr) KeepAlive(env, channel_, false);
  // The callback scope's async context (Drain). Not under Deno, which needs none and
  // could not destroy it in Shutdown() (HostIsDeno()).
  if (!HostIsDeno(env)) napi_async_init(env, nullptr, name, &async_context_);
  napi_value probe;
  if (napi_create_function(env, "syslocksProbe", NAPI_AUTO_LENGTH, Noop, nullptr, &probe) ==
      napi_ok) {
    napi_create_reference(env, probe, 1, &probe_);
  }
}

WaitRegistry::~WaitRegistry() { Shutdown(); }

int64_t WaitRegistry::Start(const LockRequest& req, napi_value callback, WaitRecord record,
                            const void* table_env) {
  if (shut_down_ || channel_ == nullptr) return kCodeCanceled;
  FileId file;
  if (record != kRecordNone) {
    // The file the kernel will lock is the one the fd names now. Read after the grant,
    // a number the caller closed and reused meanwhile would name another file.
    int32_t c = FileIdentity(req.fd, &file);
    if (c < 0) return c;
  }
  Slot* s = AcquireSlot();
  if (s == nullptr) return kCodeNoThread;
  auto* w = new Wait();
  w->id = next_id_++;
  w->record = record;
  w->req = req;
  w->file = file;
  w->table_env = table_env;
  w->slot = s;
  napi_create_reference(env_, callback, 1, &w->callback);
  if (waits_.empty()) KeepAlive(env_, channel_, true);
  waits_.emplace(w->id, w);
  ScopedLock hold(s->mu);
  s->req = req;
  s->channel = channel_;
  s->token = w;
  s->sync = false;
  AssignLocked(s);
  w->epoch = s->epoch;
  return w->id;
}

void WaitRegistry::Finish(Wait* w, bool call) {
  waits_.erase(w->id);
  if (waits_.empty() && channel_ != nullptr) KeepAlive(env_, channel_, false);
  napi_value cb = nullptr;
  if (call) napi_get_reference_value(env_, w->callback, &cb);
  napi_delete_reference(env_, w->callback);
  LockResult r = w->result;
  int64_t held_id = 0;
  if (cb != nullptr && r.code == 0 && w->record != kRecordNone && !w->cancel_requested) {
    held_id = RecordLock(w->req, w->record == kRecordLockOwningFd, w->table_env, w->file);
  }
  delete w;  // never touch the request after the callback (fs-native-extensions)
  if (cb == nullptr) return;
  napi_value recv, argv[3];
  napi_get_global(env_, &recv);
  napi_create_int32(env_, r.code, &argv[0]);
  napi_create_uint32(env_, r.winerror, &argv[1]);
  napi_create_double(env_, static_cast<double>(held_id), &argv[2]);
  napi_value ignored;
  if (napi_call_function(env_, recv, cb, 3, argv, &ignored) == napi_pending_exception) {
    napi_value err;
    napi_get_and_clear_last_exception(env_, &err);
    napi_fatal_exception(env_, err);
  }
}

void WaitRegistry::Drain() {
  Wait* list =
      channel_ == nullptr ? nullptr : channel_->head.exchange(nullptr, std::memory_order_acquire);
  // The list is newest first: reverse it, so callbacks run in completion order.
  Wait* fifo = nullptr;
  while (list != nullptr) {
    Wait* next = list->next;
    list->next = fifo;
    fifo = list;
    list = next;
  }
  if (fifo == nullptr) return;
  if (shut_down_) {
    // Teardown (Shutdown(), from a cleanup hook): no callback runs, so no handle is
    // made; Deno runs cleanup hooks outside any HandleScope (HostIsDeno()).
    while (fifo != nullptr) {
      Wait* next = fifo->next;
      Finish(fifo, false);
      fifo = next;
    }
    return;
  }
  napi_handle_scope scope;
  napi_open_handle_scope(env_, &scope);
  // One callback scope around every completion of this wake-up: its close runs the
  // promise reactions (microtasks) the callbacks queued, once, as a libuv callback in
  // Node itself would. Windows: the thread-safe function's call already has one.
  napi_callback_scope cb_scope = nullptr;
#ifndef _WIN32
  if (async_context_ != nullptr) {
    napi_value resource;
    napi_create_object(env_, &resource);
    napi_open_callback_scope(env_, resource, async_context_, &cb_scope);
  }
#endif
  while (fifo != nullptr) {
    Wait* next = fifo->next;
    Finish(fifo, true);
    fifo = next;
  }
  if (cb_scope != nullptr) napi_close_callback_scope(env_, cb_scope);
  napi_close_handle_scope(env_, scope);
}

void WaitRegistry::Abandon(Slot* s) {
  AbandonLocked(s);
  s->cancelled.store(true, std::memory_order_release);
}

CancelState WaitRegistry::Cancel(int64_t id, bool abandon) {
  auto it = waits_.find(id);
  if (it == waits_.end()) return kCancelDone;
  Wait* w = it->second;
  w->cancel_requested = true;
  Slot* s = w->slot;
  {
    ScopedLock hold(s->mu);
    // Another epoch, or no longer running: the result is posted, the callback is near.
    if (s->epoch != w->epoch || !(s->running || s->has_job)) return kCancelPending;
    s->cancelled.store(true, std::memory_order_release);
    // A foreign handler on the interrupt signal (InterruptSignalUsable() then moves
    // to another one, which this thread does not listen to yet): give up at once.
    if (!abandon && InterruptSignalUsable()) {
      s->thread.Interrupt();
      return kCancelPending;
    }
    Abandon(s);
  }
  Finish(w, false);
  return kCancelAbandoned;
}

bool WaitRegistry::Terminating() {
  // worker.terminate() and process.exit() mark the environment as stopping (Node's
  // Environment::ExitEnv: set_stopping(true), then TerminateExecution), and a call
  // into JS is then refused (can_call_into_js() is false while stopping). Nothing else
  // reaches a thread that sits in native code.
  if (probe_ == nullptr) return false;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env_, &scope) != napi_ok) return true;
  napi_value fn, recv, ignored;
  napi_get_reference_value(env_, probe_, &fn);
  napi_get_undefined(env_, &recv);
  napi_status st = napi_call_function(env_, recv, fn, 0, nullptr, &ignored);
  napi_close_handle_scope(env_, scope);
  return st != napi_ok;
}

LockResult WaitRegistry::PollSync(const LockRequest& req, int64_t timeout_ms) {
  const int64_t deadline = timeout_ms < 0 ? -1 : MonotonicMs() + timeout_ms;
  int64_t delay = 1;
  int64_t next_probe = MonotonicMs() + kProbeMs;
  for (;;) {
    LockResult r = TrySetLock(req);
    if (r.code != kCodeAgain) return r;
    int64_t now = MonotonicMs();
    if (deadline >= 0 && now >= deadline) {
      r.code = kCodeTimedOut;
      return r;
    }
    if (now >= next_probe) {
      if (Terminating()) {
        r.code = kCodeCanceled;
        return r;
      }
      next_probe = now + kProbeMs;
    }
    int64_t sleep = delay;
    if (deadline >= 0 && deadline - now < sleep) sleep = deadline - now;
    SleepMs(sleep);
    if (delay < kPollMaxMs) delay *= 2;
  }
}

LockResult WaitRegistry::WaitSync(const LockRequest& req, int64_t timeout_ms) {
  Slot* s = shut_down_ ? nullptr : AcquireSlot();
  if (s == nullptr) return PollSync(req, timeout_ms);
  const int64_t deadline = timeout_ms < 0 ? -1 : MonotonicMs() + timeout_ms;
  int64_t next_probe = MonotonicMs() + kProbeMs;
  int32_t reason = 0;  // why we cancelled: kCodeTimedOut or kCodeCanceled
  int64_t cancelled_at = 0;
  s->mu.Lock();
  s->req = req;
  s->channel = nullptr;
  s->token = nullptr;
  s->sync = true;
  AssignLocked(s);
  while (!s->sync_done) {
    int64_t now = MonotonicMs();
    if (reason == 0) {
      if (deadline >= 0 && now >= deadline) {
        reason = kCodeTimedOut;
      } else if (now >= next_probe) {
        s->mu.Unlock();
        bool stop = Terminating();
        s->mu.Lock();
        next_probe = MonotonicMs() + kProbeMs;
        if (stop) reason = kCodeCanceled;
        continue;  // the result may have arrived meanwhile
      }
      if (reason != 0) {
        cancelled_at = now;
        s->cancelled.store(true, std::memory_order_release);
      }
    }
    if (reason != 0) {
      if (now - cancelled_at >= kGraceMs || !InterruptSignalUsable()) {
        // The kernel does not let go (see waiter.h): the thread is on its own now.
        Abandon(s);
        s->mu.Unlock();
        LockResult r;
        r.code = reason;
        return r;
      }
      // Repeated: one sent just before the thread entered the kernel is lost.
      if (s->running) s->thread.Interrupt();
      s->cv.WaitFor(s->mu, 1);
      continue;
    }
    int64_t wait = next_probe - now;
    if (deadline >= 0 && deadline - now < wait) wait = deadline - now;
    s->cv.WaitFor(s->mu, wait);
  }
  LockResult r = s->result;
  s->mu.Unlock();
  ReleaseSlot(s);
  // A grant that raced the deadline was either kept (code 0: the caller owns it) or
  // undone by the thread (canceled): either way no lock is left without an owner.
  if (reason != 0 && r.code == kCodeCanceled) r.code = reason;
  return r;
}

void WaitRegistry::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  // Interrupt every wait, give them kGraceMs together, abandon the ones still stuck.
  for (auto& entry : waits_) {
    Slot* s = entry.second->slot;
    ScopedLock hold(s->mu);
    if (s->epoch == entry.second->epoch && (s->running || s->has_job)) {
      s->cancelled.store(true, std::memory_order_release);
      s->thread.Interrupt();
    }
  }
  const int64_t give_up = MonotonicMs() + kGraceMs;
  for (auto& entry : waits_) {
    Slot* s = entry.second->slot;
    for (;;) {
      ScopedLock hold(s->mu);
      if (s->epoch != entry.second->epoch || !(s->running || s->has_job)) break;
      if (MonotonicMs() >= give_up) {
        Abandon(s);
        break;
      }
      s->thread.Interrupt();
      s->cv.WaitFor(s->mu, 1);
    }
  }
  // Finished ones were posted: free them without calling JS; abandoned ones too.
  Drain();
  while (!waits_.empty()) Finish(waits_.begin()->second, false);
  if (channel_ != nullptr) {
    channel_->registry = nullptr;
#ifdef _WIN32
    napi_release_threadsafe_function(channel_->tsfn, napi_tsfn_abort);
#endif
    channel_ = nullptr;
  }
  if (probe_ != nullptr) napi_delete_reference(env_, probe_);
  probe_ = nullptr;
  if (async_context_ != nullptr) napi_async_destroy(env_, async_context_);
  async_context_ = nullptr;
}

}  // namespace syslocks
