// Declarations shared by the C files of CGantry; not part of the module's interface.
#ifndef GANTRY_INTERNAL_H
#define GANTRY_INTERNAL_H

#include "gantry.h"

#include <string.h>
#include <sys/socket.h>

/// Message types on the sync socket, child → parent.
enum {
    GANTRY_MSG_FAILURE = 1,
    GANTRY_MSG_TTY_MASTER = 2,
    GANTRY_MSG_READY = 3,            // a keeper is up (GANTRY_REPORT_READY)
    GANTRY_MSG_AWAITING = 4,         // send a mount namespace (GANTRY_REPORT_AWAITING)
    GANTRY_MSG_MOUNT_NAMESPACE = 5,  // with SCM_RIGHTS: the locked mount namespace
};

typedef struct {
    int32_t type;
    gantry_failure failure;
} gantry_message;

/// Sends `length` bytes of `payload` with descriptor `fd` attached (SCM_RIGHTS; none when
/// fd < 0) in one datagram. Async-signal-safe (the child uses it between clone and exec):
/// only memset, memcpy and sendmsg. Returns sendmsg's result.
static inline ssize_t gantry_send_fd(int socket, const void *payload, size_t length, int fd) {
    struct iovec data = {.iov_base = (void *)payload, .iov_len = length};
    union {
        char buffer[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } control;
    memset(&control, 0, sizeof control);
    struct msghdr header = {.msg_iov = &data, .msg_iovlen = 1};
    if (fd >= 0) {
        header.msg_control = control.buffer;
        header.msg_controllen = sizeof control.buffer;
        struct cmsghdr *rights = CMSG_FIRSTHDR(&header);
        rights->cmsg_level = SOL_SOCKET;
        rights->cmsg_type = SCM_RIGHTS;
        rights->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(rights), &fd, sizeof(int));
    }
    return sendmsg(socket, &header, MSG_NOSIGNAL);
}

/// The child's whole life after clone: never returns.
__attribute__((noreturn)) void gantry_child_main(const gantry_recipe *recipe, int sync_fd);

/// Pid 1 of a new pid namespace (or a relay after setns into one): reaps every child,
/// forwards signals to `command`, exits with its status. A keeper (command -1) instead
/// lives until `owner_fd` (the sync socket) hangs up: its owner is gone. Never returns.
__attribute__((noreturn)) void gantry_init_main(pid_t command, int owner_fd);

/// Exit status the way a shell reports it: the code, or 128 + the signal number.
int gantry_shell_status(int wait_status);

#endif
