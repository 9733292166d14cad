// addon.cc - module init: the JS-facing functions, one per operation.
//
// Context-aware (NODE_API_MODULE): every environment (main thread, each worker) gets
// its own WaitRegistry, passed to each function as its data rather than as instance
// data, so two copies of the addon can live in one environment (better-sqlite3).
// Arguments arrive validated by lib/; the checks here only keep a misuse of the raw
// binding from crashing the process.
#include <napi.h>

#include <string>

#include "channel.h"
#include "constants.h"
#include "errors.h"
#include "late_grant.h"
#include "lock_request.h"
#include "lock_table.h"
#include "open_file.h"
#include "waiter.h"
#include "waiter_pool.h"

#ifndef _WIN32
#include <dlfcn.h>

#include "interrupt_signal.h"
#endif

namespace syslocks {
namespace {

struct AddonState {
  explicit AddonState(napi_env e) : env(e), waits(e) {}
  napi_env env;
  WaitRegistry waits;
  uint32_t last_winerror = 0;
  // The state's address is the environment's tag in the process-wide lock table
  // (lock_table.h): the locks and fds this environment owns, released and closed at
  // its teardown.
};

bool ToInt64(const Napi::Value& v, int64_t* out) {
  if (v.IsNumber()) {
    *out = v.As<Napi::Number>().Int64Value();
    return true;
  }
  if (v.IsBigInt()) {
    bool lossless = false;
    *out = v.As<Napi::BigInt>().Int64Value(&lossless);
    return lossless;
  }
  return false;
}

// Reads (kind, fd, type, start, length) from info[0..4].
bool ReadRequest(const Napi::CallbackInfo& info, LockRequest* req) {
  if (info.Length() < 5 || !info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsNumber()) {
    Napi::TypeError::New(info.Env(), "syslocks native: expected (kind, fd, type, start, length)")
        .ThrowAsJavaScriptException();
    return false;
  }
  req->kind = info[0].As<Napi::Number>().Int32Value();
  req->fd = info[1].As<Napi::Number>().Int32Value();
  req->type = info[2].As<Napi::Number>().Int32Value();
  if (!ToInt64(info[3], &req->start) || !ToInt64(info[4], &req->length)) {
    Napi::TypeError::New(info.Env(), "syslocks native: start and length must be int64")
        .ThrowAsJavaScriptException();
    return false;
  }
  return true;
}

AddonState* State(const Napi::CallbackInfo& info) { return static_cast<AddonState*>(info.Data()); }

// trySetLock(kind, fd, type, start, length) -> code
Napi::Value TrySetLockJs(const Napi::CallbackInfo& info) {
  LockRequest req;
  if (!ReadRequest(info, &req)) return info.Env().Undefined();
  LockResult r = TrySetLock(req);
  State(info)->last_winerror = r.winerror;
  return Napi::Number::New(info.Env(), r.code);
}

// undoLateGrant(kind, fd, type, start, length) -> code: see late_grant.h
Napi::Value UndoLateGrantJs(const Napi::CallbackInfo& info) {
  LockRequest req;
  if (!ReadRequest(info, &req)) return info.Env().Undefined();
  LockResult r = UndoLateGrant(req);
  State(info)->last_winerror = r.winerror;
  return Napi::Number::New(info.Env(), r.code);
}

// The optional WaitRecord (waiter.h) argument at `index`; anything else records nothing.
WaitRecord ReadRecord(const Napi::CallbackInfo& info, size_t index) {
  if (info.Length() <= index || !info[index].IsNumber()) return kRecordNone;
  int32_t v = info[index].As<Napi::Number>().Int32Value();
  return v == kRecordLock || v == kRecordLockOwningFd ? static_cast<WaitRecord>(v) : kRecordNone;
}

// waitSync(kind, fd, type, start, length, timeoutMs[, record]) -> code, or with record
// (WaitRecord, waiter.h) the granted lock's id in the lock table (> 0); timeoutMs < 0 =
// forever. The identity is read before the wait, as for an asynchronous wait: another
// thread may close the fd and reuse its number while this one waits.
Napi::Value WaitSyncJs(const Napi::CallbackInfo& info) {
  LockRequest req;
  if (!ReadRequest(info, &req)) return info.Env().Undefined();
  int64_t timeout = -1;
  if (info.Length() > 5 && info[5].IsNumber()) timeout = info[5].As<Napi::Number>().Int64Value();
  const WaitRecord record = ReadRecord(info, 6);
  AddonState* state = State(info);
  FileId file;
  if (record != kRecordNone) {
    int32_t c = FileIdentity(req.fd, &file);
    if (c < 0) return Napi::Number::New(info.Env(), c);
  }
  LockResult r = state->waits.WaitSync(req, timeout);
  state->last_winerror = r.winerror;
  if (r.code != 0 || record == kRecordNone) return Napi::Number::New(info.Env(), r.code);
  int64_t id = RecordLock(req, record == kRecordLockOwningFd, state, file);
  return Napi::Number::New(info.Env(), static_cast<double>(id));
}

// waitStart(kind, fd, type, start, length, callback(code, winerror, heldId)[, record])
//   -> id > 0 | code < 0; record: WaitRecord (waiter.h), default none
Napi::Value WaitStartJs(const Napi::CallbackInfo& info) {
  LockRequest req;
  if (!ReadRequest(info, &req)) return info.Env().Undefined();
  if (info.Length() < 6 || !info[5].IsFunction()) {
    Napi::TypeError::New(info.Env(), "syslocks native: waitStart needs a callback")
        .ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  AddonState* state = State(info);
  int64_t id = state->waits.Start(req, info[5], ReadRecord(info, 6), state);
  return Napi::Number::New(info.Env(), static_cast<double>(id));
}

// waitCancel(id, abandon) -> CancelState (waiter.h): 0 done, 1 pending (call again
// until the callback runs), 2 abandoned (the callback never runs)
Napi::Value WaitCancelJs(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsNumber()) return Napi::Number::New(info.Env(), kCancelDone);
  int64_t id = info[0].As<Napi::Number>().Int64Value();
  bool abandon = info.Length() > 1 && info[1].ToBoolean().Value();
  return Napi::Number::New(info.Env(), State(info)->waits.Cancel(id, abandon));
}

// waiterThreads() -> [live, idle]: the process's waiter threads (tests, bench).
Napi::Value WaiterThreadsJs(const Napi::CallbackInfo& info) {
  Napi::Array out = Napi::Array::New(info.Env(), 2);
  out.Set(0u, Napi::Number::New(info.Env(), LiveThreads()));
  out.Set(1u, Napi::Number::New(info.Env(), IdleThreads()));
  return out;
}

// waiterLinger([ms]) -> the linger of parked waiter threads, set first when given (tests).
Napi::Value WaiterLingerJs(const Napi::CallbackInfo& info) {
  if (info.Length() > 0 && info[0].IsNumber()) {
    int64_t ms = info[0].As<Napi::Number>().Int64Value();
    if (ms >= 0) SetLingerMs(ms);
  }
  return Napi::Number::New(info.Env(), static_cast<double>(LingerMs()));
}

// waiterHoldUndos([hold]) -> granted abandoned waits stopped before their undo (tests).
Napi::Value WaiterHoldUndosJs(const Napi::CallbackInfo& info) {
  int hold =
      info.Length() > 0 && info[0].IsBoolean() ? (info[0].As<Napi::Boolean>().Value() ? 1 : 0) : -1;
  return Napi::Number::New(info.Env(), HoldAbandonedUndos(hold));
}

// waiterSurplusLinger([ms]) -> the linger of parked threads beyond the idle few (tests).
Napi::Value WaiterSurplusLingerJs(const Napi::CallbackInfo& info) {
  if (info.Length() > 0 && info[0].IsNumber()) {
    int64_t ms = info[0].As<Napi::Number>().Int64Value();
    if (ms >= 0) SetSurplusLingerMs(ms);
  }
  return Napi::Number::New(info.Env(), static_cast<double>(SurplusLingerMs()));
}

#ifndef _WIN32
// interruptSignal() -> the signal that ends a kernel wait now (interrupt_signal.h).
Napi::Value InterruptSignalJs(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), InterruptSignal());
}
#endif

// queryLock(kind, fd, type, start, length, out: BigInt64Array(4)) -> code
// out = [type (-1: nothing would block), start, length, pid]
Napi::Value QueryLockJs(const Napi::CallbackInfo& info) {
  LockRequest req;
  if (!ReadRequest(info, &req)) return info.Env().Undefined();
  if (info.Length() < 6 || !info[5].IsTypedArray() ||
      info[5].As<Napi::TypedArray>().TypedArrayType() != napi_bigint64_array ||
      info[5].As<Napi::TypedArray>().ElementLength() < 4) {
    Napi::TypeError::New(info.Env(), "syslocks native: queryLock needs a BigInt64Array(4)")
        .ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  auto out = info[5].As<Napi::TypedArrayOf<int64_t>>();
  bool found = false;
  LockHolder holder;
  LockResult r = QueryLock(req, &found, &holder);
  State(info)->last_winerror = r.winerror;
  if (r.code == 0) {
    out[0] = found ? holder.type : -1;
    out[1] = holder.start;
    out[2] = holder.length;
    out[3] = holder.pid;
  }
  return Napi::Number::New(info.Env(), r.code);
}

Napi::Value LastWinErrorJs(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), State(info)->last_winerror);
}

#ifndef _WIN32
bool ReadOpen(const Napi::CallbackInfo& info, std::string* path, int32_t* flags, int32_t* mode) {
  if (info.Length() < 3 || !info[0].IsString() || !info[1].IsNumber() || !info[2].IsNumber()) {
    Napi::TypeError::New(info.Env(), "syslocks native: expected (path, flags, mode)")
        .ThrowAsJavaScriptException();
    return false;
  }
  *path = info[0].As<Napi::String>().Utf8Value();
  *flags = info[1].As<Napi::Number>().Int32Value();
  *mode = info[2].As<Napi::Number>().Int32Value();
  return true;
}

// openSync(path, flags, mode) -> fd | code < 0: see open_file.h.
Napi::Value OpenSyncJs(const Napi::CallbackInfo& info) {
  std::string path;
  int32_t flags, mode;
  if (!ReadOpen(info, &path, &flags, &mode)) return info.Env().Undefined();
  return Napi::Number::New(info.Env(), OpenForLock(path.c_str(), flags, mode, State(info)));
}

// An open on libuv's pool: one short operation (O_NONBLOCK: a FIFO cannot hold it).
class OpenWorker : public Napi::AsyncWorker {
 public:
  OpenWorker(Napi::Function cb, std::string path, int32_t flags, int32_t mode, const void* env)
      : Napi::AsyncWorker(cb, "syslocks.open"),
        path_(std::move(path)),
        flags_(flags),
        mode_(mode),
        env_(env) {}
  void Execute() override { result_ = OpenForLock(path_.c_str(), flags_, mode_, env_); }
  void OnOK() override { Callback().Call({Napi::Number::New(Env(), result_)}); }

 private:
  std::string path_;
  int32_t flags_, mode_;
  const void* env_;
  int32_t result_ = 0;
};

// openAsync(path, flags, mode, callback(fd | code < 0))
Napi::Value OpenAsyncJs(const Napi::CallbackInfo& info) {
  std::string path;
  int32_t flags, mode;
  if (!ReadOpen(info, &path, &flags, &mode)) return info.Env().Undefined();
  if (info.Length() < 4 || !info[3].IsFunction()) {
    Napi::TypeError::New(info.Env(), "syslocks native: openAsync needs a callback")
        .ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  (new OpenWorker(info[3].As<Napi::Function>(), std::move(path), flags, mode, State(info)))
      ->Queue();
  return info.Env().Undefined();
}

// closeOwned(fd) -> code: closes an fd openSync/openAsync gave out (or defers it).
Napi::Value CloseOwnedJs(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsNumber()) return Napi::Number::New(info.Env(), kCodeInvalid);
  return Napi::Number::New(info.Env(), CloseOwnedFd(info[0].As<Napi::Number>().Int32Value()));
}
#endif

// channel(ArrayBuffer(channelLayout.bytes)): see channel.h.
Napi::Value ChannelJs(const Napi::CallbackInfo& info) {
  AddonState* state = State(info);
  return CreateChannel(info, state, &state->last_winerror);
}

// For tests: the lock table's counts, process-wide.
Napi::Value TableStatsJs(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("deferredFds", static_cast<double>(DeferredFdCount()));
  o.Set("liveLocks", static_cast<double>(LiveLockCount()));
  return o;
}

Napi::Value PendingWaitsJs(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(State(info)->waits.pending()));
}

void Cleanup(void* arg) {
  // Runs at environment teardown, before Node finalizes the thread-safe function
  // (cleanup hooks run last-added-first; the registry created it before this hook).
  auto* state = static_cast<AddonState*>(arg);
  state->waits.Shutdown();  // first: no waiter thread may still use an fd
  // Then this environment's locks and owned fds, each once: other environments'
  // POSIX locks on the same files stay (lock_table.h). Node never closes these fds
  // itself: the addon opened them, so `trackUnmanagedFds` does not know them.
  // Windows: lib/ opens path fds with fs (node.exe's C runtime, which this addon
  // cannot close), so Node closes them; the table only unlocks.
  ReleaseEnvironment(state);
  delete state;
}

// Keeps this library loaded until the process ends. Node.js unloads an addon with the
// last environment that loaded it (a worker that alone used it), but the thread of an
// abandoned wait (waiter.h) may still sit in the kernel and return into this code after
// that: the process died with SIGSEGV when the lock came free. (zig-built libraries also
// leave their static destructors to run at exit, after the unmap: ziglang/zig#17908.)
// dlopen(3): RTLD_NOLOAD "can be used to promote the flags on a shared object that is
// already loaded", RTLD_NODELETE "Do not unload the shared object during dlclose()".
// GetModuleHandleExW: with GET_MODULE_HANDLE_EX_FLAG_PIN "the module stays loaded until
// the process is terminated, no matter how many times FreeLibrary is called".
void PinLibrary() {
#ifdef _WIN32
  HMODULE self = nullptr;
  GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_PIN,
                     reinterpret_cast<LPCWSTR>(&PinLibrary), &self);
#else
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(&PinLibrary), &info) != 0 && info.dli_fname != nullptr) {
    dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD | RTLD_NODELETE);  // never closed
  }
#endif
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  PinLibrary();
  auto* state = new AddonState(env);
  napi_add_env_cleanup_hook(env, Cleanup, state);

  auto fn = [&](const char* name, Napi::Function::Callback cb) {
    exports.Set(name, Napi::Function::New(env, cb, name, state));
  };
  fn("trySetLock", TrySetLockJs);
  fn("channel", ChannelJs);
  fn("undoLateGrant", UndoLateGrantJs);
  fn("waitSync", WaitSyncJs);
  fn("waitStart", WaitStartJs);
  fn("waitCancel", WaitCancelJs);
  fn("queryLock", QueryLockJs);
  fn("lastWinError", LastWinErrorJs);
  fn("pendingWaits", PendingWaitsJs);
  fn("tableStats", TableStatsJs);
#ifndef _WIN32
  fn("openSync", OpenSyncJs);
  fn("openAsync", OpenAsyncJs);
  fn("closeOwned", CloseOwnedJs);
#endif
  fn("waiterThreads", WaiterThreadsJs);
  fn("waiterLinger", WaiterLingerJs);
  fn("waiterSurplusLinger", WaiterSurplusLingerJs);
  fn("waiterHoldUndos", WaiterHoldUndosJs);

  Napi::Object kinds = Napi::Object::New(env);
  kinds.Set("flock", KindCompiledIn(kKindFlock));
  kinds.Set("posix", KindCompiledIn(kKindPosix));
  kinds.Set("ofd", KindCompiledIn(kKindOfd));
  kinds.Set("windows", KindCompiledIn(kKindWindows));
  exports.Set("kinds", kinds);
  exports.Set("constants", LockConstants(env));
  exports.Set("channelLayout", ChannelLayout(env));
#ifndef _WIN32
  fn("interruptSignal", InterruptSignalJs);
#endif
  return exports;
}

}  // namespace syslocks

static Napi::Object InitSyslocks(Napi::Env env, Napi::Object exports) {
  return syslocks::Init(env, exports);
}

NODE_API_MODULE(syslocks, InitSyslocks)
