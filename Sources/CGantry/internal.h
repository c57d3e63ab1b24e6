// Declarations shared by the C files of CGantry; not part of the module's interface.
#ifndef GANTRY_INTERNAL_H
#define GANTRY_INTERNAL_H

#include "gantry.h"

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

/// The child's whole life after clone: never returns.
__attribute__((noreturn)) void gantry_child_main(const gantry_recipe *recipe, int sync_fd);

/// Pid 1 of a new pid namespace (or a relay after setns into one): reaps every child,
/// forwards signals to `command`, exits with its status. A keeper (command -1) instead
/// lives until `owner_fd` (the sync socket) hangs up: its owner is gone. Never returns.
__attribute__((noreturn)) void gantry_init_main(pid_t command, int owner_fd);

/// Exit status the way a shell reports it: the code, or 128 + the signal number.
int gantry_shell_status(int wait_status);

#endif
