// Host-side calls Swift's Glibc module does not import. None of these run in a child.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "gantry.h"

int gantry_pidfd_send_signal(int pidfd, int signal) {
    return (int)syscall(SYS_pidfd_send_signal, pidfd, signal, NULL, 0);
}

int gantry_open_pty(char *name, size_t size) {
    int primary = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (primary < 0) return -1;
    if (grantpt(primary) < 0 || unlockpt(primary) < 0 || ptsname_r(primary, name, size) != 0) {
        int error = errno;
        close(primary);
        errno = error;
        return -1;
    }
    return primary;
}

int gantry_become_subreaper(void) {
    return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
}

int gantry_setns(int fd, int nstype) {
    return setns(fd, nstype);
}

int gantry_unshare(int flags) {
    return unshare(flags);
}
