// interrupt_signal.h - the one signal syslocks uses to end a blocking lock wait.
//
// fcntl(2): "F_SETLKW ... If a signal is caught while waiting, then the call is
// interrupted and (after the signal handler has returned) returns immediately (with
// return value -1 and errno set to EINTR)". flock(2) lists EINTR the same way. So a
// wait on a thread the addon owns is ended by pthread_kill() with a handler that does
// nothing and is installed without SA_RESTART (sigaction(2): with SA_RESTART the call
// would be restarted instead). Linux: a realtime signal nobody else uses (SIGRTMIN+7
// first); Node itself uses SIGUSR1 (inspector) and libuv installs its handlers with
// SA_RESTART. macOS has no realtime signals, so SIGUSR2 there.
//
// Another library may later install its own handler on that signal (with SA_RESTART,
// the wait would then restart instead of ending). InterruptSignalUsable()
// (platform_thread.h) notices it before each interrupt and moves to the next free
// realtime signal; the choice, handler, mask and pthread_kill live in
// platform_thread_posix.cc.
#ifndef SYSLOCKS_INTERRUPT_SIGNAL_H_
#define SYSLOCKS_INTERRUPT_SIGNAL_H_

#ifndef _WIN32
#include <signal.h>

namespace syslocks {
// The signal in use now (it changes only when another library took the previous one).
int InterruptSignal();
}  // namespace syslocks
#endif

#endif  // SYSLOCKS_INTERRUPT_SIGNAL_H_
