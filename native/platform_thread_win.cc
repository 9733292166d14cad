// platform_thread_win.cc - the Win32 implementation of platform_thread.h (SRW locks,
// condition variables, CreateThread). Windows delivers no signals to threads, so the
// interrupt-signal functions do nothing here (windows_locks.cc waits in a polling loop
// that checks its cancel flag).
#include "platform_thread.h"

namespace syslocks {

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

DWORD WINAPI Thread::Main(LPVOID self) {
  auto* t = static_cast<Thread*>(self);
  t->entry_(t->arg_);
  return 0;
}

int Thread::Start(Entry entry, void* arg) {
  entry_ = entry;
  arg_ = arg;
  // CreateThread: with STACK_SIZE_PARAM_IS_A_RESERVATION "the dwStackSize parameter
  // specifies the initial reserve size of the stack". Windows delivers no signals to
  // threads, so there is no mask to set.
  HANDLE h = CreateThread(nullptr, kThreadStackBytes, Main, this, STACK_SIZE_PARAM_IS_A_RESERVATION,
                          nullptr);
  if (h == nullptr) return static_cast<int>(GetLastError());
  // Detached: CloseHandle on a thread handle "does not terminate the associated thread".
  CloseHandle(h);
  return 0;
}

void Thread::Interrupt() {}

void PrepareWaiterSupport() {}
bool InterruptSignalUsable() { return true; }
void ThreadInterruptible(int*) {}

int64_t MonotonicMs() { return static_cast<int64_t>(GetTickCount64()); }
void SleepMs(int64_t ms) { Sleep(static_cast<DWORD>(ms)); }

}  // namespace syslocks
