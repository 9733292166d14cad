// channel.h - one request channel per copy of the JS library.
//
// The hot path passes its request through a small ArrayBuffer that the addon reads
// directly, which saves the per-argument Node-API conversions (about half of a
// lock+release pair's cost over the bare syscalls). Each copy of lib/ (a cleared
// require.cache, jest.resetModules(), two bundles) creates its own channel: the
// functions of a channel are bound to that channel's buffer, so no copy can take
// another copy's buffer away, as a buffer registered once per addon instance could.
//
// Layout (the constants below): int32 kind, fd, type, flags; int64 start,
// length; float64 id (a lock's id in the lock table, exact below 2^53); int32 code (what
// the last call returned: each function stores its code there and returns undefined).
// flags: kChannelOwnsFd, kChannelForget.
#ifndef SYSLOCKS_CHANNEL_H_
#define SYSLOCKS_CHANNEL_H_

#include <napi.h>

namespace syslocks {

// The layout, declared here only: the addon exports it (channelLayout) and lib/syscall.ts
// builds its views from that export.
constexpr size_t kChannelBytes = 48;
constexpr size_t kChannelRangeAt = 16;  // int64 start, length (after int32 kind, fd, type, flags)
constexpr size_t kChannelIdAt = 32;     // float64 id
constexpr size_t kChannelCodeAt = 40;   // int32 code of the last call
static_assert(kChannelCodeAt + sizeof(int32_t) <= kChannelBytes, "the code is inside the buffer");
constexpr int32_t kChannelOwnsFd = 1;  // acquire/register: the lock owns the fd
constexpr int32_t kChannelForget = 2;  // release: drop the record, touch nothing

// channel(ArrayBuffer(kChannelBytes)) -> { trySet, acquire, register, release,
// changeMode }, each storing its code at kChannelCodeAt.
// `env_tag` names the environment in the lock table; Windows errors go to
// `*last_winerror` (the environment's lastWinError()), which outlives every channel
// function call (no JS runs after environment teardown).
Napi::Value CreateChannel(const Napi::CallbackInfo& info, const void* env_tag,
                          uint32_t* last_winerror);

// { bytes, rangeAt, idAt, codeAt, ownsFd, forget }: the constants above, for lib/syscall.ts.
Napi::Object ChannelLayout(Napi::Env env);

}  // namespace syslocks

#endif  // SYSLOCKS_CHANNEL_H_
