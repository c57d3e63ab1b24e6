// Declarations shared by the C files of CGantry; not part of the module's interface.
#ifndef GANTRY_INTERNAL_H
#define GANTRY_INTERNAL_H

#include "gantry.h"

/// Message types on the sync socket, child → parent.
enum { GANTRY_MSG_FAILURE = 1, GANTRY_MSG_TTY_MASTER = 2 };

typedef struct {
    int32_t type;
    gantry_failure failure;
} gantry_message;

/// The child's whole life after clone: never returns.
__attribute__((noreturn)) void gantry_child_main(const gantry_recipe *recipe, int sync_fd);

/// Pid 1 of a new pid namespace (or a relay after setns into one): reaps every child,
/// forwards signals to `command`, exits with its status. Never returns.
__attribute__((noreturn)) void gantry_init_main(pid_t command);

/// Exit status the way a shell reports it: the code, or 128 + the signal number.
int gantry_shell_status(int wait_status);

#endif
