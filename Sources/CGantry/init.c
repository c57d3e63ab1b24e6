// The minimal init: what tini and bwrap's pid-1 do, nothing more.
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
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

/// Reaps every child that has ended; returns the status of `command` if it was one of them.
static int reap_children(pid_t command, int *command_status) {
    int found = 0;
    for (;;) {
        int status;
        pid_t reaped = waitpid(-1, &status, WNOHANG);
        if (reaped <= 0) return found;
        if (command > 0 && reaped == command) {
            *command_status = status;
            found = 1;
        }
    }
}

/// A keeper: no command, only reaping, until the owner's end of `owner_fd` closes (the
/// owner exited or was killed). Then the keeper leaves and, being pid 1, takes every process
/// of its namespace with it: a lab never outlives the Gantry that made it.
__attribute__((noreturn)) static void keep(int owner_fd) {
    sigset_t all;
    sigfillset(&all);
    int signals = signalfd(-1, &all, SFD_CLOEXEC | SFD_NONBLOCK);
    if (signals < 0) _exit(125);
    for (;;) {
        struct pollfd watched[2] = {{.fd = signals, .events = POLLIN}, {.fd = owner_fd, .events = POLLIN}};
        if (poll(watched, 2, -1) < 0) continue;  // EINTR
        if (watched[1].revents) {
            char byte;
            ssize_t got = recv(owner_fd, &byte, 1, MSG_DONTWAIT);
            if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) _exit(0);
        }
        if (watched[0].revents) {
            struct signalfd_siginfo info;
            while (read(signals, &info, sizeof info) == (ssize_t)sizeof info) {}
            int unused;
            reap_children(-1, &unused);
        }
    }
}

void gantry_init_main(pid_t command, int owner_fd) {
    if (command < 0) keep(owner_fd);
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
            // Leaving as pid 1 makes the kernel SIGKILL everything else in the namespace, so
            // nothing the command left behind outlives it.
            int status;
            if (reap_children(command, &status)) _exit(gantry_shell_status(status));
            continue;
        }
        if (info.si_code == SI_KERNEL && terminal_generated(sig)) continue;
        kill(command, sig);
    }
}
