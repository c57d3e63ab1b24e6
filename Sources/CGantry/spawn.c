// The parent side of a spawn: clone the child, later release it and hear how it went.
#define _GNU_SOURCE
#include <errno.h>
#include <linux/capability.h>
#include <linux/sched.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <wchar.h>

#include "internal.h"

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

/// The calling thread's effective ids become `uid`/`gid` for the clone that makes a user
/// namespace: the kernel makes the effective uid its owner and charges that uid's per-user
/// counts (inotify instances, user namespaces) up the tree, so a lab cannot use up root's.
/// Raw syscalls change only this thread's credentials; real and saved ids stay 0, so the
/// capabilities the uid change drops from the effective set are raised again from the
/// permitted one (the clone may still have to enter a cgroup only root may write).
static int switch_effective_ids(int uid, int gid) {
    if (syscall(SYS_setresgid, -1, gid, -1) < 0) return -1;
    if (syscall(SYS_setresuid, -1, uid, -1) < 0) {
        int error = errno;
        (void)syscall(SYS_setresgid, -1, 0, -1);
        errno = error;
        return -1;
    }
    struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
    if (syscall(SYS_capget, &header, data) == 0) {
        for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++) data[i].effective = data[i].permitted;
        (void)syscall(SYS_capset, &header, data);
    }
    return 0;
}

/// Back to root: an effective uid of 0 gets the permitted capabilities again by itself.
static void restore_effective_ids(void) {
    (void)syscall(SYS_setresuid, -1, 0, -1);
    (void)syscall(SYS_setresgid, -1, 0, -1);
}

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
    int switched = recipe->creator_uid >= 0;
    if (switched && switch_effective_ids(recipe->creator_uid, recipe->creator_gid) < 0) {
        int error = errno;
        pthread_sigmask(SIG_SETMASK, &previous, NULL);
        close(pair[0]);
        close(pair[1]);
        *failure = (gantry_failure){GANTRY_STAGE_CREATOR, error, -1};
        return -1;
    }
    pid_t pid = clone_child(recipe, &pidfd);
    if (pid == 0) {
        close(pair[0]);
        gantry_child_main(recipe, pair[1]);
    }
    int error = errno;
    if (switched) restore_effective_ids();
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

/// Reads the child's messages until it stops at a report, fails, or exec's (EOF).
static int wait_for_report(gantry_child *child, gantry_report *report, gantry_failure *failure) {
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
        if (got == 0) {  // every copy of the child's end closed: the command exec'd
            report->kind = GANTRY_REPORT_EXECUTED;
            gantry_abandon(child);
            return 0;
        }
        if (got < 0) {
            *failure = (gantry_failure){GANTRY_STAGE_RELEASE, errno, -1};
            return -1;
        }
        int passed = -1;
        struct cmsghdr *rights = CMSG_FIRSTHDR(&header);
        if (rights && rights->cmsg_type == SCM_RIGHTS) memcpy(&passed, CMSG_DATA(rights), sizeof(int));
        if ((size_t)got < sizeof message) {
            if (passed >= 0) close(passed);
            continue;
        }
        switch (message.type) {
        case GANTRY_MSG_TTY_MASTER:
            if (report->tty_master >= 0) close(report->tty_master);
            report->tty_master = passed;
            continue;
        case GANTRY_MSG_FAILURE:
            if (passed >= 0) close(passed);
            *failure = message.failure;
            return -1;
        case GANTRY_MSG_READY:
            report->kind = GANTRY_REPORT_READY;
            return 0;
        case GANTRY_MSG_AWAITING:
            report->kind = GANTRY_REPORT_AWAITING;
            return 0;
        case GANTRY_MSG_MOUNT_NAMESPACE:
            report->kind = GANTRY_REPORT_MOUNT_NAMESPACE;
            report->fd = passed;
            return 0;
        default:
            if (passed >= 0) close(passed);
            continue;
        }
    }
}

static void fail_report(gantry_child *child, gantry_report *report) {
    gantry_abandon(child);
    if (report->tty_master >= 0) close(report->tty_master);
    report->tty_master = -1;
}

/// After the parent sent the child its go (or a descriptor): the child's report. A child
/// gone before reading it (EPIPE, ECONNRESET) has its own report queued, which is read.
static int await_report(gantry_child *child, int sent, gantry_report *report, gantry_failure *failure) {
    if (!sent && errno != EPIPE && errno != ECONNRESET) {
        *failure = (gantry_failure){GANTRY_STAGE_RELEASE, errno, -1};
        fail_report(child, report);
        return -1;
    }
    if (wait_for_report(child, report, failure) < 0) {
        fail_report(child, report);
        return -1;
    }
    return 0;
}

int gantry_release(gantry_child *child, gantry_report *report, gantry_failure *failure) {
    *report = (gantry_report){.kind = GANTRY_REPORT_EXECUTED, .fd = -1, .tty_master = -1};
    char go = 'g';
    return await_report(child, send(child->sync_fd, &go, 1, MSG_NOSIGNAL) == 1, report, failure);
}

int gantry_continue(gantry_child *child, int fd, gantry_report *report, gantry_failure *failure) {
    *report = (gantry_report){.kind = GANTRY_REPORT_EXECUTED, .fd = -1, .tty_master = -1};
    char byte = 'm';
    return await_report(child, gantry_send_fd(child->sync_fd, &byte, 1, fd) == 1, report, failure);
}

void gantry_abandon(gantry_child *child) {
    if (child->sync_fd >= 0) close(child->sync_fd);
    child->sync_fd = -1;
}

const char *gantry_errno_name(int error) {
    return strerrorname_np(error);
}

int gantry_pipe2(int fds[2], int flags) {
    return pipe2(fds, flags);
}

int gantry_wcwidth(unsigned int c) {
    return wcwidth((wchar_t)c);
}

int gantry_socket_in(const gantry_join *joins, size_t join_count, const gantry_socket_kind *kinds, size_t kind_count,
                     int *chosen) {
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0) return -1;
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    pid_t pid = (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
    if (pid == 0) {
        // The child: only syscalls from here on (see child.c).
        close(pair[0]);
        int32_t report[2] = {-1, 0};  // {index of the kind, errno}
        for (size_t i = 0; i < join_count; i++) {
            if (setns(joins[i].fd, joins[i].nstype) < 0) {
                report[1] = errno;
                (void)send(pair[1], report, sizeof report, MSG_NOSIGNAL);
                _exit(1);
            }
        }
        int fd = -1;
        for (size_t i = 0; i < kind_count && fd < 0; i++) {
            fd = socket(kinds[i].domain, kinds[i].type | SOCK_CLOEXEC, kinds[i].protocol);
            if (fd >= 0) report[0] = (int32_t)i;
            else report[1] = errno;
        }
        (void)gantry_send_fd(pair[1], report, sizeof report, fd);
        _exit(fd >= 0 ? 0 : 1);
    }
    int error = errno;
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    close(pair[1]);
    if (pid < 0) {
        close(pair[0]);
        errno = error;
        return -1;
    }
    int32_t report[2] = {-1, EPROTO};
    union {
        char buffer[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } control;
    struct iovec data = {.iov_base = report, .iov_len = sizeof report};
    struct msghdr header = {
        .msg_iov = &data, .msg_iovlen = 1,
        .msg_control = control.buffer, .msg_controllen = sizeof control.buffer,
    };
    ssize_t got;
    do got = recvmsg(pair[0], &header, MSG_CMSG_CLOEXEC);
    while (got < 0 && errno == EINTR);
    close(pair[0]);
    int fd = -1;
    struct cmsghdr *rights = got > 0 ? CMSG_FIRSTHDR(&header) : NULL;
    if (rights && rights->cmsg_type == SCM_RIGHTS) memcpy(&fd, CMSG_DATA(rights), sizeof(int));
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    if (fd < 0) {
        errno = report[1] ? report[1] : EPROTO;
        return -1;
    }
    *chosen = report[0];
    return fd;
}
