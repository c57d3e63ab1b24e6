// The minimal init: what tini and bwrap's pid-1 do, nothing more.
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"

int gantry_shell_status(int wait_status) {
    if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
    if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
    return 255;
}

/// Signals a terminal sends to its whole foreground process group. When one of these comes
/// from the kernel (SI_KERNEL), the command already got its own copy: forwarding it would
/// deliver it twice.
static int terminal_generated(int sig) {
    return sig == SIGINT || sig == SIGQUIT || sig == SIGTSTP || sig == SIGWINCH
        || sig == SIGTTIN || sig == SIGTTOU;
}

void gantry_init_main(pid_t command) {
    // All signals are still blocked from before clone; we take them synchronously. A blocked
    // signal is queued even for a pid-1 with default dispositions, so sigwaitinfo sees what
    // the parent namespace sends (as tini relies on).
    sigset_t all;
    sigfillset(&all);
    for (;;) {
        siginfo_t info;
        int sig = sigwaitinfo(&all, &info);
        if (sig < 0) continue;  // EINTR
        if (sig == SIGCHLD) {
            for (;;) {
                int status;
                pid_t reaped = waitpid(-1, &status, WNOHANG);
                if (reaped <= 0) break;
                // Leaving as pid 1 makes the kernel SIGKILL everything else in the
                // namespace, so nothing the command left behind outlives it. A keeper
                // (command -1) never leaves on its own.
                if (command > 0 && reaped == command) _exit(gantry_shell_status(status));
            }
            continue;
        }
        if (info.si_code == SI_KERNEL && terminal_generated(sig)) continue;
        if (command > 0) kill(command, sig);
    }
}
