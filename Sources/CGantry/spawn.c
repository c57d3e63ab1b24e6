// The parent side of a spawn: clone the child, later release it and hear how it went.
#define _GNU_SOURCE
#include <errno.h>
#include <linux/sched.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

/// clone3 with fork semantics (no new stack: the child continues on a copy of ours), falling
/// back to clone for kernels or seccomp profiles without clone3, and then to no pidfd.
static pid_t clone_child(const gantry_recipe *recipe, int *pidfd) {
    struct clone_args args;
    memset(&args, 0, sizeof args);
    args.flags = (uint64_t)recipe->namespaces | CLONE_PIDFD;
    args.pidfd = (uint64_t)(uintptr_t)pidfd;
    args.exit_signal = SIGCHLD;
    if (recipe->cgroup_fd >= 0) {
        args.flags |= CLONE_INTO_CGROUP;
        args.cgroup = (uint64_t)recipe->cgroup_fd;
    }
    pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof args);
    if (pid >= 0 || (errno != ENOSYS && errno != EPERM) || recipe->cgroup_fd >= 0) return pid;

    unsigned long flags = (unsigned long)recipe->namespaces | SIGCHLD;
    pid = (pid_t)syscall(SYS_clone, flags | CLONE_PIDFD, 0, pidfd, 0, 0);
    if (pid >= 0 || errno != EINVAL) return pid;
    *pidfd = -1;
    return (pid_t)syscall(SYS_clone, flags, 0, 0, 0, 0);
}

int gantry_clone(const gantry_recipe *recipe, gantry_child *child, gantry_failure *failure) {
    int pair[2];
    child->pid = -1;
    child->pidfd = -1;
    child->sync_fd = -1;
    // SEQPACKET keeps each report whole; CLOEXEC makes exec itself the success signal (EOF).
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0) {
        *failure = (gantry_failure){GANTRY_STAGE_SOCKETPAIR, errno, -1};
        return -1;
    }

    // No signal handler may run in the child before it has reset them all.
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    int pidfd = -1;
    pid_t pid = clone_child(recipe, &pidfd);
    if (pid == 0) {
        close(pair[0]);
        gantry_child_main(recipe, pair[1]);
    }
    int error = errno;
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    close(pair[1]);

    if (pid < 0) {
        close(pair[0]);
        *failure = (gantry_failure){GANTRY_STAGE_CLONE, error, -1};
        return -1;
    }
    child->pid = pid;
    child->pidfd = pidfd;
    child->sync_fd = pair[0];
    return 0;
}

int gantry_release(gantry_child *child, int *tty_master, gantry_failure *failure) {
    *tty_master = -1;
    int result = 0;
    char go = 'g';
    if (send(child->sync_fd, &go, 1, MSG_NOSIGNAL) != 1) {
        // The child is gone before being released; its own report (if any) is still queued.
        if (errno != EPIPE && errno != ECONNRESET) {
            *failure = (gantry_failure){GANTRY_STAGE_RELEASE, errno, -1};
            result = -1;
            goto done;
        }
    }
    for (;;) {
        gantry_message message;
        union {
            char buffer[CMSG_SPACE(sizeof(int))];
            struct cmsghdr align;
        } control;
        struct iovec data = {.iov_base = &message, .iov_len = sizeof message};
        struct msghdr header = {
            .msg_iov = &data, .msg_iovlen = 1,
            .msg_control = control.buffer, .msg_controllen = sizeof control.buffer,
        };
        ssize_t got = recvmsg(child->sync_fd, &header, MSG_CMSG_CLOEXEC);
        if (got < 0 && errno == EINTR) continue;
        if (got == 0) break;  // every copy of the child's end closed: the command exec'd
        if (got < 0) {
            *failure = (gantry_failure){GANTRY_STAGE_RELEASE, errno, -1};
            result = -1;
            break;
        }
        if ((size_t)got < sizeof message) continue;
        if (message.type == GANTRY_MSG_TTY_MASTER) {
            struct cmsghdr *rights = CMSG_FIRSTHDR(&header);
            if (rights && rights->cmsg_type == SCM_RIGHTS)
                memcpy(tty_master, CMSG_DATA(rights), sizeof(int));
            continue;
        }
        if (message.type == GANTRY_MSG_FAILURE) {
            *failure = message.failure;
            result = -1;
            break;
        }
    }
done:
    close(child->sync_fd);
    child->sync_fd = -1;
    if (result < 0 && *tty_master >= 0) {
        close(*tty_master);
        *tty_master = -1;
    }
    return result;
}

void gantry_abandon(gantry_child *child) {
    if (child->sync_fd >= 0) close(child->sync_fd);
    child->sync_fd = -1;
}

const char *gantry_errno_name(int error) {
    return strerrorname_np(error);
}
