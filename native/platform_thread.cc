// platform_thread.cc - pthreads and Win32 implementations of platform_thread.h.
#include "platform_thread.h"

#include "interrupt_signal.h"

#ifndef _WIN32
#include <errno.h>
#endif

namespace syslocks {

#ifdef _WIN32

Mutex::Mutex() { InitializeSRWLock(&lock_); }
Mutex::~Mutex() = default;
void Mutex::Lock() { AcquireSRWLockExclusive(&lock_); }
void Mutex::Unlock() { ReleaseSRWLockExclusive(&lock_); }

CondVar::CondVar() { InitializeConditionVariable(&cv_); }
CondVar::~CondVar() = default;
void CondVar::Signal() { WakeAllConditionVariable(&cv_); }
void CondVar::WaitFor(Mutex& m, int64_t ms) {
  // SleepConditionVariableSRW: "If the timeout interval elapses, the function
  // re-acquires the lock and returns zero"; callers loop on their own predicate.
  SleepConditionVariableSRW(&cv_, &m.lock_, ms < 0 ? 0 : static_cast<DWORD>(ms), 0);
}

namespace {
struct StartInfo {
  Thread::Entry entry;
  void* arg;
};
DWORD WINAPI ThreadMain(LPVOID p) {
  StartInfo info = *static_cast<StartInfo*>(p);
  delete static_cast<StartInfo*>(p);
  info.entry(info.arg);
  return 0;
}
}  // namespace

bool Thread::Start(Entry entry, void* arg) {
  auto* info = new StartInfo{entry, arg};
  // CreateThread: with STACK_SIZE_PARAM_IS_A_RESERVATION "the dwStackSize parameter
  // specifies the initial reserve size of the stack"; 256 KiB as on POSIX. Windows
  // delivers no signals to threads, so there is no mask to set.
  handle_ = CreateThread(nullptr, 256 * 1024, ThreadMain, info, STACK_SIZE_PARAM_IS_A_RESERVATION,
                         nullptr);
  if (handle_ == nullptr) {
    delete info;
    return false;
  }
  return true;
}

void Thread::Join() {
  if (handle_ != nullptr) {
    WaitForSingleObject(handle_, INFINITE);
    CloseHandle(handle_);
    handle_ = nullptr;
  }
}

void Thread::Interrupt() {}

int64_t MonotonicMs() { return static_cast<int64_t>(GetTickCount64()); }
void SleepMs(int64_t ms) { Sleep(static_cast<DWORD>(ms)); }

#else  // POSIX

Mutex::Mutex() { pthread_mutex_init(&lock_, nullptr); }
Mutex::~Mutex() { pthread_mutex_destroy(&lock_); }
void Mutex::Lock() { pthread_mutex_lock(&lock_); }
void Mutex::Unlock() { pthread_mutex_unlock(&lock_); }

CondVar::CondVar() {
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
#if !defined(__APPLE__)
  // Deadlines must not move when the wall clock is set (pthread_condattr_setclock(3)).
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
#endif
  pthread_cond_init(&cv_, &attr);
  pthread_condattr_destroy(&attr);
}
CondVar::~CondVar() { pthread_cond_destroy(&cv_); }
void CondVar::Signal() { pthread_cond_broadcast(&cv_); }

void CondVar::WaitFor(Mutex& m, int64_t ms) {
  if (ms < 0) ms = 0;
#if defined(__APPLE__)
  struct timespec rel;
  rel.tv_sec = static_cast<time_t>(ms / 1000);
  rel.tv_nsec = static_cast<long>((ms % 1000) * 1000000);
  pthread_cond_timedwait_relative_np(&cv_, &m.lock_, &rel);
#else
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  ts.tv_sec += static_cast<time_t>(ms / 1000);
  ts.tv_nsec += static_cast<long>((ms % 1000) * 1000000);
  if (ts.tv_nsec >= 1000000000L) {
    ts.tv_sec += 1;
    ts.tv_nsec -= 1000000000L;
  }
  pthread_cond_timedwait(&cv_, &m.lock_, &ts);
#endif
}

namespace {
struct StartInfo {
  Thread::Entry entry;
  void* arg;
};
void* ThreadMain(void* p) {
  StartInfo info = *static_cast<StartInfo*>(p);
  delete static_cast<StartInfo*>(p);
  // The thread was created with every signal blocked; let only the interrupt in.
  sigset_t only_interrupt;
  sigemptyset(&only_interrupt);
  sigaddset(&only_interrupt, InterruptSignal());
  pthread_sigmask(SIG_UNBLOCK, &only_interrupt, nullptr);
  info.entry(info.arg);
  return nullptr;
}
}  // namespace

bool Thread::Start(Entry entry, void* arg) {
  auto* info = new StartInfo{entry, arg};
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  // The thread only sits in one syscall; 256 KiB is plenty and keeps hundreds cheap.
  pthread_attr_setstacksize(&attr, 256 * 1024);
  // A new thread inherits the creator's signal mask (pthread_create(3)), so block
  // everything around the create: process-directed signals (SIGINT, SIGCHLD, ...)
  // then keep going to Node's own threads, as libuv does for its threadpool.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int rc = pthread_create(&handle_, &attr, ThreadMain, info);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  pthread_attr_destroy(&attr);
  if (rc != 0) {
    delete info;
    return false;
  }
  started_ = true;
  return true;
}

void Thread::Join() {
  if (started_) {
    pthread_join(handle_, nullptr);
    started_ = false;
  }
}

void Thread::Interrupt() {
  if (started_) pthread_kill(handle_, InterruptSignal());
}

int64_t MonotonicMs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

void SleepMs(int64_t ms) {
  struct timespec ts;
  ts.tv_sec = static_cast<time_t>(ms / 1000);
  ts.tv_nsec = static_cast<long>((ms % 1000) * 1000000);
  while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
  }
}

#endif

}  // namespace syslocks
