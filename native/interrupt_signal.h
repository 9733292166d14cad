// interrupt_signal.h - the one signal syslocks uses to end a blocking lock wait.
//
// fcntl(2): "F_SETLKW ... If a signal is caught while waiting, then the call is
// interrupted and (after the signal handler has returned) returns immediately (with
// return value -1 and errno set to EINTR)". flock(2) lists EINTR the same way. So a
// wait on a thread the addon owns is ended by pthread_kill() with a handler that does
// nothing and is installed without SA_RESTART (sigaction(2): with SA_RESTART the call
// would be restarted instead). Linux: a realtime signal nobody else uses; Node itself
// uses SIGUSR1 (inspector) and libuv installs its handlers with SA_RESTART. macOS has
// no realtime signals, so SIGUSR2 there.
#ifndef SYSLOCKS_INTERRUPT_SIGNAL_H_
#define SYSLOCKS_INTERRUPT_SIGNAL_H_

#ifndef _WIN32
#include <signal.h>

namespace syslocks {
inline int InterruptSignal() {
#ifdef SIGRTMIN
  return SIGRTMIN + 7;
#else
  return SIGUSR2;
#endif
}
}  // namespace syslocks
#endif

#endif  // SYSLOCKS_INTERRUPT_SIGNAL_H_
