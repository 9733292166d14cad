// channel.cc - see channel.h.
#include "channel.h"

#include "errors.h"
#include "lock_request.h"
#include "lock_table.h"

namespace syslocks {
namespace {

struct Channel {
  const void* env = nullptr;  // the environment's tag in the lock table
  napi_ref buffer = nullptr;  // keeps the ArrayBuffer (and so the memory) alive
  int32_t* i32 = nullptr;
  int64_t* i64 = nullptr;
  double* id = nullptr;               // a double: JS reads a number, not a BigInt (no allocation)
  int32_t* code = nullptr;            // each call's result (see Finish)
  uint32_t* last_winerror = nullptr;  // the environment's, read by lastWinError()
  int32_t functions = 0;              // freed when the last of its functions is collected

  LockRequest Request() const {
    LockRequest req;
    req.kind = i32[0];
    req.fd = i32[1];
    req.type = i32[2];
    req.start = i64[0];
    req.length = i64[1];
    return req;
  }
};

// The channel's functions are plain Node-API callbacks, not node-addon-api ones: the
// wrapper's CallbackInfo (argument vector, exception plumbing) cost about 300 ns per
// call on the bench VM, against 12 ns for a bare napi_get_cb_info that fetches only
// the data pointer; a lock+release pair makes two such calls (docs/BENCH.md).
SYSLOCKS_HOT Channel* Of(napi_env env, napi_callback_info info) {
  void* data = nullptr;
  napi_get_cb_info(env, info, nullptr, nullptr, nullptr, &data);
  return static_cast<Channel*>(data);
}

// Each call's code goes into the buffer, and the call returns nothing: creating the
// return value (napi_create_int32, a page of Node's code and one of V8's) cost 30-45 ns
// per call on the bench VM (its kernel empties the TLB at each syscall), against a
// store into the buffer page the request already touched (docs/BENCH.md, part 1).
SYSLOCKS_HOT napi_value Finish(Channel* ch, int32_t code, const LockResult& r) {
#ifdef _WIN32
  *ch->last_winerror = r.winerror;  // POSIX has none: its 0 stays (one page less per call)
#else
  (void)r;
#endif
  *ch->code = code;
  return nullptr;  // undefined
}

// trySet(): one non-blocking attempt (or unlock) of the buffered request.
SYSLOCKS_HOT napi_value TrySet(napi_env env, napi_callback_info info) {
  Channel* ch = Of(env, info);
  LockResult r = TrySetLock(ch->Request());
  return Finish(ch, r.code, r);
}

// Records a granted request in the lock table; id into the buffer.
int32_t Register(Channel* ch, const LockRequest& req, LockResult* r) {
  int64_t id = RegisterLock(req, (ch->i32[3] & kChannelOwnsFd) != 0, ch->env, r);
  if (id < 0) {
    LockRequest undo = req;
    undo.type = kTypeUnlock;
    TrySetLock(undo);
    return static_cast<int32_t>(id);
  }
  *ch->id = static_cast<double>(id);
  return 0;
}

// acquire(): trySet, and on a grant the lock's record (one call, one fstat).
SYSLOCKS_HOT napi_value Acquire(napi_env env, napi_callback_info info) {
  Channel* ch = Of(env, info);
  LockRequest req = ch->Request();
  LockResult r = TrySetLock(req);
  if (r.code != 0) return Finish(ch, r.code, r);
  int32_t code = Register(ch, req, &r);
  return Finish(ch, code, r);
}

// register(): the record of a request a wait was granted.
napi_value RegisterJs(napi_env env, napi_callback_info info) {
  Channel* ch = Of(env, info);
  LockResult r;
  int32_t code = Register(ch, ch->Request(), &r);
  return Finish(ch, code, r);
}

// release(): 0 | kLostClosed | kLostReused | code < 0, for the lock whose id is buffered.
SYSLOCKS_HOT napi_value Release(napi_env env, napi_callback_info info) {
  Channel* ch = Of(env, info);
  LockResult r;
  int32_t code = ReleaseLock(static_cast<int64_t>(*ch->id), (ch->i32[3] & kChannelForget) != 0, &r);
  return Finish(ch, code, r);
}

// changeMode(): like release(), plus kCodeAgain: buffered id to buffered type.
napi_value ChangeMode(napi_env env, napi_callback_info info) {
  Channel* ch = Of(env, info);
  LockResult r;
  int32_t code = ChangeLockMode(static_cast<int64_t>(*ch->id), ch->i32[2], &r);
  return Finish(ch, code, r);
}

void Finalize(napi_env env, void* data, void*) {
  auto* ch = static_cast<Channel*>(data);
  if (--ch->functions > 0) return;
  if (ch->buffer != nullptr) napi_delete_reference(env, ch->buffer);
  delete ch;
}

}  // namespace

Napi::Value CreateChannel(const Napi::CallbackInfo& info, const void* env_tag,
                          uint32_t* last_winerror) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsArrayBuffer() ||
      info[0].As<Napi::ArrayBuffer>().ByteLength() < kChannelBytes) {
    Napi::TypeError::New(env, "syslocks native: channel needs an ArrayBuffer(channelLayout.bytes)")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto ab = info[0].As<Napi::ArrayBuffer>();
  auto* ch = new Channel();
  ch->env = env_tag;
  ch->last_winerror = last_winerror;
  napi_create_reference(env, ab, 1, &ch->buffer);
  auto* base = static_cast<uint8_t*>(ab.Data());
  ch->i32 = reinterpret_cast<int32_t*>(base);
  ch->i64 = reinterpret_cast<int64_t*>(base + kChannelRangeAt);
  ch->id = reinterpret_cast<double*>(base + kChannelIdAt);
  ch->code = reinterpret_cast<int32_t*>(base + kChannelCodeAt);
  Napi::Object obj = Napi::Object::New(env);
  auto fn = [&](const char* name, napi_callback cb) {
    napi_value f;
    if (napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, ch, &f) != napi_ok) return;
    // Each function may outlive the object (`const { acquire } = channel`), so the
    // channel goes with the last of them.
    ch->functions++;
    napi_add_finalizer(env, f, ch, Finalize, nullptr, nullptr);
    obj.Set(name, Napi::Value(env, f));
  };
  fn("trySet", TrySet);
  fn("acquire", Acquire);
  fn("register", RegisterJs);
  fn("release", Release);
  fn("changeMode", ChangeMode);
  return obj;
}

Napi::Object ChannelLayout(Napi::Env env) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("bytes", static_cast<double>(kChannelBytes));
  o.Set("rangeAt", static_cast<double>(kChannelRangeAt));
  o.Set("idAt", static_cast<double>(kChannelIdAt));
  o.Set("codeAt", static_cast<double>(kChannelCodeAt));
  o.Set("ownsFd", kChannelOwnsFd);
  o.Set("forget", kChannelForget);
  return o;
}

}  // namespace syslocks
