// platform_thread_posix.cc - the pthreads implementation of platform_thread.h, and
// the interrupt signal (choice, handler, mask, pthread_kill).
#include <errno.h>
#include <string.h>
#if defined(__linux__)
#include <sys/prctl.h>
#endif

#include <atomic>

#include "interrupt_signal.h"
#include "platform_thread.h"

namespace syslocks {

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

std::atomic<int> current_signal{0};

void NoopHandler(int) {}

int FirstSignal() {
#ifdef SIGRTMIN
  return SIGRTMIN + 7;
#else
  return SIGUSR2;
#endif
}

// Ours: our handler, and no SA_RESTART (which would make the wait restart).
bool IsOurs(const struct sigaction& sa) {
  return (sa.sa_flags & SA_SIGINFO) == 0 && sa.sa_handler == NoopHandler &&
         (sa.sa_flags & SA_RESTART) == 0;
}

bool Install(int sig) {
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = NoopHandler;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // deliberately no SA_RESTART: the wait must return EINTR
  return sigaction(sig, &sa, nullptr) == 0;
}

// A signal nobody handles (SIG_DFL): takes it. Realtime signals only: glibc keeps the
// first two for itself (SIGRTMIN is already past them, signal(7)).
int ClaimFreeSignal() {
#ifdef SIGRTMIN
  for (int sig = SIGRTMIN + 1; sig <= SIGRTMAX; sig++) {
    struct sigaction old;
    if (sigaction(sig, nullptr, &old) != 0) continue;
    if (IsOurs(old)) return sig;
    if ((old.sa_flags & SA_SIGINFO) == 0 && old.sa_handler == SIG_DFL && Install(sig)) return sig;
  }
#endif
  return 0;
}

Mutex signal_mutex;

}  // namespace

int InterruptSignal() { return current_signal.load(std::memory_order_acquire); }

void PrepareWaiterSupport() {
  ScopedLock hold(signal_mutex);
  if (current_signal.load(std::memory_order_relaxed) != 0) return;
  int sig = FirstSignal();
  struct sigaction old;
  // Take the usual signal unless someone already handles it; then any free one.
  if (sigaction(sig, nullptr, &old) == 0 && (old.sa_flags & SA_SIGINFO) == 0 &&
      (old.sa_handler == SIG_DFL || old.sa_handler == NoopHandler) && Install(sig)) {
    current_signal.store(sig, std::memory_order_release);
    return;
  }
  current_signal.store(ClaimFreeSignal(), std::memory_order_release);
}

bool InterruptSignalUsable() {
  ScopedLock hold(signal_mutex);
  int sig = current_signal.load(std::memory_order_relaxed);
  struct sigaction now;
  if (sig != 0 && sigaction(sig, nullptr, &now) == 0 && IsOurs(now)) return true;
  int next = ClaimFreeSignal();
  current_signal.store(next, std::memory_order_release);
  return false;
}

void ThreadInterruptible(int* mine) {
  int sig = current_signal.load(std::memory_order_acquire);
  if (sig == *mine) return;
  sigset_t set;
  if (*mine != 0) {
    sigemptyset(&set);
    sigaddset(&set, *mine);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
  }
  if (sig != 0) {
    sigemptyset(&set);
    sigaddset(&set, sig);
    pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
  }
  *mine = sig;
}

void* Thread::Main(void* self) {
  auto* t = static_cast<Thread*>(self);
  // A name tools (ps -L, top -H, /proc/<pid>/task/<tid>/comm) and tests can count by.
#if defined(__linux__)
  prctl(PR_SET_NAME, "syslocks-wait", 0, 0, 0);
#elif defined(__APPLE__)
  pthread_setname_np("syslocks-wait");
#endif
  t->entry_(t->arg_);
  return nullptr;
}

namespace {
int CreateWithStack(pthread_t* handle, size_t stack, void* (*main)(void*), void* self) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, stack);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  int rc = pthread_create(handle, &attr, main, self);
  pthread_attr_destroy(&attr);
  return rc;
}
}  // namespace

int Thread::Start(Entry entry, void* arg) {
  entry_ = entry;
  arg_ = arg;
  // A new thread inherits the creator's signal mask (pthread_create(3)), so block
  // everything around the create: process-directed signals (SIGINT, SIGCHLD, ...)
  // then keep going to Node's own threads, as libuv does for its threadpool.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int rc = CreateWithStack(&handle_, kThreadStackBytes, Main, this);
  // EINVAL: the stack is too small for this process's static TLS (glibc takes it
  // from the stack); retry with the size used before.
  if (rc == EINVAL) rc = CreateWithStack(&handle_, 256 * 1024, Main, this);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return rc;
}

void Thread::Interrupt() {
  int sig = InterruptSignal();
  if (sig != 0) pthread_kill(handle_, sig);
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

}  // namespace syslocks
