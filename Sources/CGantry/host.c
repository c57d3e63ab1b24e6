// Host-side calls Swift's Glibc module does not import. None of these run in a child.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "gantry.h"

int gantry_pidfd_send_signal(int pidfd, int signal) {
    return (int)syscall(SYS_pidfd_send_signal, pidfd, signal, NULL, 0);
}

int gantry_await_any_readable(const int *fds, int count, long microseconds) {
    struct pollfd descriptors[64];
    if (count < 0 || count > 64) {
        errno = EINVAL;
        return -1;
    }
    for (int index = 0; index < count; index++) descriptors[index] = (struct pollfd){.fd = fds[index], .events = POLLIN};
    struct timespec timeout = {.tv_sec = microseconds / 1000000, .tv_nsec = (microseconds % 1000000) * 1000};
    return ppoll(descriptors, (nfds_t)count, &timeout, NULL);
}

int gantry_pidfd_open(pid_t pid) {
    return (int)syscall(SYS_pidfd_open, pid, 0);
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

int gantry_detached_tree(const char *path, int recursive, int userns_fd, int read_only, int *stage) {
    unsigned int flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0);
    int fd = (int)syscall(SYS_open_tree, AT_FDCWD, path, flags);
    if (fd < 0) {
        *stage = 1;
        return -1;
    }
    struct mount_attr attributes = {0};
    if (userns_fd >= 0) {
        attributes.attr_set |= MOUNT_ATTR_IDMAP;
        attributes.userns_fd = (uint64_t)userns_fd;
    }
    if (read_only) attributes.attr_set |= MOUNT_ATTR_RDONLY;
    if (attributes.attr_set &&
        syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attributes, sizeof attributes) < 0) {
        int error = errno;
        close(fd);
        errno = error;
        *stage = 2;
        return -1;
    }
    return fd;
}

int gantry_open_in_root(int dirfd, const char *path, int flags) {
    struct open_how how = {
        .flags = (uint64_t)(flags | O_CLOEXEC),
        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
    };
    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

struct hostname_request {
    int ns_fd;
    char *buffer;
    size_t size;
    int error;
};

static void *read_hostname(void *argument) {
    struct hostname_request *request = argument;
    // This thread alone joins the UTS namespace, and ends right after: the rest of the
    // process never sees another hostname.
    if (setns(request->ns_fd, CLONE_NEWUTS) < 0 || gethostname(request->buffer, request->size) < 0) request->error = errno;
    return NULL;
}

int gantry_hostname_in(int ns_fd, char *buffer, size_t size) {
    struct hostname_request request = {ns_fd, buffer, size, 0};
    pthread_t thread;
    int created = pthread_create(&thread, NULL, read_hostname, &request);
    if (created != 0) {
        errno = created;
        return -1;
    }
    pthread_join(thread, NULL);
    if (request.error != 0) {
        errno = request.error;
        return -1;
    }
    buffer[size - 1] = '\0';
    return 0;
}
