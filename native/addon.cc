// addon.cc - module init: the JS-facing functions, one per operation.
//
// Context-aware (NODE_API_MODULE): every environment (main thread, each worker) gets
// its own WaitRegistry, passed to each function as its data rather than as instance
// data, so two copies of the addon can live in one environment (better-sqlite3).
// Arguments arrive validated by lib/; the checks here only keep a misuse of the raw
// binding from crashing the process.
#include <napi.h>

#include <unordered_set>

#ifndef _WIN32
#include <unistd.h>
#endif

#include "constants.h"
#include "errors.h"
#include "late_grant.h"
#include "lock_request.h"
#include "waiter.h"
#include "waiter_pool.h"

#ifndef _WIN32
#include "interrupt_signal.h"
#endif

namespace syslocks {
namespace {

struct AddonState {
  explicit AddonState(napi_env e) : env(e), waits(e) {}
  napi_env env;
  WaitRegistry waits;
  uint32_t last_winerror = 0;
  // fds that lib/ opened from a path and still owns (held locks, pending waits).
  // Closed at environment teardown, so a worker terminated while it holds or waits
  // for a path lock leaves no fd, and so no lock, behind in the process.
  std::unordered_set<int32_t> owned_fds;
  // The request buffer (see SetRequestBufferJs): JS writes a request into it and calls
  // a function without arguments, which saves the per-argument Node-API calls on the
  // hot path (about half of a lock+unlock pair's cost over the bare syscalls).
  napi_ref request_ref = nullptr;
  const int32_t* request_i32 = nullptr;
  const int64_t* request_i64 = nullptr;
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

// setRequestBuffer(ArrayBuffer(32)): [int32 kind, int32 fd, int32 type, int32 unused,
// int64 start, int64 length]. Kept referenced, so the memory stays valid.
Napi::Value SetRequestBufferJs(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsArrayBuffer() ||
      info[0].As<Napi::ArrayBuffer>().ByteLength() < 32) {
    Napi::TypeError::New(info.Env(), "syslocks native: setRequestBuffer needs an ArrayBuffer(32)")
        .ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  AddonState* state = State(info);
  auto ab = info[0].As<Napi::ArrayBuffer>();
  if (state->request_ref != nullptr) napi_delete_reference(info.Env(), state->request_ref);
  napi_create_reference(info.Env(), ab, 1, &state->request_ref);
  auto* base = static_cast<uint8_t*>(ab.Data());
  state->request_i32 = reinterpret_cast<const int32_t*>(base);
  state->request_i64 = reinterpret_cast<const int64_t*>(base + 16);
  return info.Env().Undefined();
}

// trySetLockBuffered() -> code: trySetLock with the request from the request buffer.
Napi::Value TrySetLockBufferedJs(const Napi::CallbackInfo& info) {
  AddonState* state = State(info);
  if (state->request_i32 == nullptr) return Napi::Number::New(info.Env(), kCodeInvalid);
  LockRequest req;
  req.kind = state->request_i32[0];
  req.fd = state->request_i32[1];
  req.type = state->request_i32[2];
  req.start = state->request_i64[0];
  req.length = state->request_i64[1];
  LockResult r = TrySetLock(req);
  state->last_winerror = r.winerror;
  return Napi::Number::New(info.Env(), r.code);
}

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

// waitSync(kind, fd, type, start, length, timeoutMs) -> code; timeoutMs < 0 = forever
Napi::Value WaitSyncJs(const Napi::CallbackInfo& info) {
  LockRequest req;
  if (!ReadRequest(info, &req)) return info.Env().Undefined();
  int64_t timeout = -1;
  if (info.Length() > 5 && info[5].IsNumber()) timeout = info[5].As<Napi::Number>().Int64Value();
  LockResult r = State(info)->waits.WaitSync(req, timeout);
  State(info)->last_winerror = r.winerror;
  return Napi::Number::New(info.Env(), r.code);
}

// waitStart(kind, fd, type, start, length, callback(code, winerror)) -> id > 0 | code < 0
Napi::Value WaitStartJs(const Napi::CallbackInfo& info) {
  LockRequest req;
  if (!ReadRequest(info, &req)) return info.Env().Undefined();
  if (info.Length() < 6 || !info[5].IsFunction()) {
    Napi::TypeError::New(info.Env(), "syslocks native: waitStart needs a callback")
        .ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  int64_t id = State(info)->waits.Start(req, info[5]);
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

// trackFd(fd) / untrackFd(fd): see AddonState::owned_fds.
Napi::Value TrackFdJs(const Napi::CallbackInfo& info) {
  if (info.Length() > 0 && info[0].IsNumber())
    State(info)->owned_fds.insert(info[0].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

Napi::Value UntrackFdJs(const Napi::CallbackInfo& info) {
  if (info.Length() > 0 && info[0].IsNumber())
    State(info)->owned_fds.erase(info[0].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

Napi::Value PendingWaitsJs(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(State(info)->waits.pending()));
}

void Cleanup(void* arg) {
  // Runs at environment teardown, before Node finalizes the thread-safe function
  // (cleanup hooks run last-added-first; the registry created it before this hook).
  auto* state = static_cast<AddonState*>(arg);
  state->waits.Shutdown();  // first: no waiter thread may still use an fd
  if (state->request_ref != nullptr) napi_delete_reference(state->env, state->request_ref);
#ifndef _WIN32
  // close(2) releases this description's flock and OFD locks once no other fd refers
  // to it, and the process's POSIX locks on the file.
  for (int32_t fd : state->owned_fds) close(fd);
#endif
  // Windows: Node's fds live in node.exe's C runtime, which this addon (another CRT)
  // cannot close; a terminated worker's handles close when the process exits.
  delete state;
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* state = new AddonState(env);
  napi_add_env_cleanup_hook(env, Cleanup, state);

  auto fn = [&](const char* name, Napi::Function::Callback cb) {
    exports.Set(name, Napi::Function::New(env, cb, name, state));
  };
  fn("trySetLock", TrySetLockJs);
  fn("setRequestBuffer", SetRequestBufferJs);
  fn("trySetLockBuffered", TrySetLockBufferedJs);
  fn("undoLateGrant", UndoLateGrantJs);
  fn("waitSync", WaitSyncJs);
  fn("waitStart", WaitStartJs);
  fn("waitCancel", WaitCancelJs);
  fn("queryLock", QueryLockJs);
  fn("lastWinError", LastWinErrorJs);
  fn("pendingWaits", PendingWaitsJs);
  fn("waiterThreads", WaiterThreadsJs);
  fn("trackFd", TrackFdJs);
  fn("untrackFd", UntrackFdJs);

  Napi::Object kinds = Napi::Object::New(env);
  kinds.Set("flock", KindCompiledIn(kKindFlock));
  kinds.Set("posix", KindCompiledIn(kKindPosix));
  kinds.Set("ofd", KindCompiledIn(kKindOfd));
  kinds.Set("windows", KindCompiledIn(kKindWindows));
  exports.Set("kinds", kinds);
  exports.Set("constants", LockConstants(env));
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
