// constants.h - the platform's own values of the lock constants, for JS callers who
// build their own calls (exported as `constants`). Read from the system headers at
// build time, so they are right on every platform (F_RDLCK is 0 on Linux, 1 on macOS).
#ifndef SYSLOCKS_CONSTANTS_H_
#define SYSLOCKS_CONSTANTS_H_

#include <napi.h>

#ifdef _WIN32
#include <windows.h>
#else
#include <fcntl.h>
#include <sys/file.h>
#endif

namespace syslocks {

inline Napi::Object LockConstants(Napi::Env env) {
  Napi::Object c = Napi::Object::New(env);
  auto set = [&](const char* name, int64_t value) {
    c.Set(name, Napi::Number::New(env, static_cast<double>(value)));
  };
#ifdef _WIN32
  // LockFileEx dwFlags (Microsoft docs, "LockFileEx function").
  set("LOCKFILE_EXCLUSIVE_LOCK", LOCKFILE_EXCLUSIVE_LOCK);
  set("LOCKFILE_FAIL_IMMEDIATELY", LOCKFILE_FAIL_IMMEDIATELY);
#else
  // flock(2) operations.
  set("LOCK_SH", LOCK_SH);
  set("LOCK_EX", LOCK_EX);
  set("LOCK_UN", LOCK_UN);
  set("LOCK_NB", LOCK_NB);
  // fcntl(2) lock types and commands.
  set("F_RDLCK", F_RDLCK);
  set("F_WRLCK", F_WRLCK);
  set("F_UNLCK", F_UNLCK);
  set("F_SETLK", F_SETLK);
  set("F_SETLKW", F_SETLKW);
  set("F_GETLK", F_GETLK);
#ifdef F_OFD_SETLK
  // Open file description locks (fcntl(2), Linux >= 3.15).
  set("F_OFD_SETLK", F_OFD_SETLK);
  set("F_OFD_SETLKW", F_OFD_SETLKW);
  set("F_OFD_GETLK", F_OFD_GETLK);
#endif
#endif
  c.Freeze();
  return c;
}

}  // namespace syslocks

#endif  // SYSLOCKS_CONSTANTS_H_
