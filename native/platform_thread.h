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

// A detached thread with a small stack (kThreadStackBytes) and, on POSIX, every
// signal blocked: ThreadInterruptible() lets the interrupt signal in. Nothing joins
// it: it ends by returning. The Thread object must outlive the thread (the waiter
// keeps it in the thread's own slot), so starting allocates nothing.
class Thread {
 public:
  using Entry = void (*)(void* arg);
  // 0, or the error of the create call (EAGAIN: no thread left under RLIMIT_NPROC or a
  // cgroup pids limit; Windows: GetLastError()).
  int Start(Entry entry, void* arg);
  // POSIX: sends the interrupt signal so a blocking fcntl/flock returns EINTR.
  // Windows: nothing (the Windows wait loop polls its cancel flag).
  void Interrupt();

 private:
#ifdef _WIN32
  static DWORD WINAPI Main(LPVOID self);
#else
  static void* Main(void* self);
  pthread_t handle_{};
#endif
  Entry entry_ = nullptr;
  void* arg_ = nullptr;
};

// Stack of a waiter thread. It only sits in one syscall (plus the late-grant undo);
// the thread's static TLS comes out of it too (glibc), so a build that fails with
// 64 KiB retries with 256 KiB.
constexpr size_t kThreadStackBytes = 64 * 1024;

// The interrupt signal (POSIX; see interrupt_signal.h). On Windows these do nothing.
//
// Installs the handler on the current signal once per process.
void PrepareWaiterSupport();
// True while the handler syslocks installed is still the one on the current signal
// (no SA_RESTART). When another library replaced it, moves to a free realtime signal
// and returns whether one was found: waits that were already in the kernel under the
// old signal cannot be interrupted any more (the caller abandons them, waiter.cc).
bool InterruptSignalUsable();
// Called by a waiter thread before each wait: unblocks the current signal for this
// thread (and blocks the one it had before, if the signal changed). `*mine` is the
// thread's record of which signal it has unblocked (0 at first).
void ThreadInterruptible(int* mine);

// Monotonic milliseconds, for deadlines.
int64_t MonotonicMs();
void SleepMs(int64_t ms);

}  // namespace syslocks

#endif  // SYSLOCKS_PLATFORM_THREAD_H_
