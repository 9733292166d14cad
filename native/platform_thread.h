// platform_thread.h - the few thread primitives the waiter needs, on pthreads or Win32.
//
// Why not std::thread/std::mutex: mingw-w64's "win32" thread model (the one used to
// cross-compile the Windows addon) ships neither in GCC 12, and the waiter must also
// be able to signal a specific POSIX thread (pthread_kill), which std::thread hides.
#ifndef SYSLOCKS_PLATFORM_THREAD_H_
#define SYSLOCKS_PLATFORM_THREAD_H_

#ifdef _WIN32
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
#else
#include <pthread.h>
#include <signal.h>
#include <time.h>
#endif

#include <cstdint>

namespace syslocks {

class Mutex {
 public:
  Mutex();
  ~Mutex();
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;
  void Lock();
  void Unlock();

 private:
  friend class CondVar;
#ifdef _WIN32
  SRWLOCK lock_;
#else
  pthread_mutex_t lock_;
#endif
};

class ScopedLock {
 public:
  explicit ScopedLock(Mutex& m) : m_(m) { m_.Lock(); }
  ~ScopedLock() { m_.Unlock(); }
  ScopedLock(const ScopedLock&) = delete;
  ScopedLock& operator=(const ScopedLock&) = delete;

 private:
  Mutex& m_;
};

class CondVar {
 public:
  CondVar();
  ~CondVar();
  CondVar(const CondVar&) = delete;
  CondVar& operator=(const CondVar&) = delete;
  void Signal();
  // Waits at most `ms` milliseconds (spurious wake-ups possible; callers loop).
  void WaitFor(Mutex& m, int64_t ms);

 private:
#ifdef _WIN32
  CONDITION_VARIABLE cv_;
#else
  pthread_cond_t cv_;
#endif
};

class Thread {
 public:
  using Entry = void (*)(void* arg);
  // Starts a thread with a small stack and (on POSIX) every signal blocked except
  // the waiter's interrupt signal, so process signals never land on it.
  bool Start(Entry entry, void* arg);
  void Join();
  // POSIX: sends the interrupt signal so a blocking fcntl/flock returns EINTR.
  // Windows: nothing (the Windows wait loop polls its cancel flag).
  void Interrupt();

 private:
#ifdef _WIN32
  HANDLE handle_ = nullptr;
#else
  pthread_t handle_{};
  bool started_ = false;
#endif
};

// Monotonic milliseconds, for deadlines.
int64_t MonotonicMs();
void SleepMs(int64_t ms);

}  // namespace syslocks

#endif  // SYSLOCKS_PLATFORM_THREAD_H_
