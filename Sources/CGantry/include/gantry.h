// CGantry: the only C in Gantry. It exists because the child side of a spawn (between clone
// and exec) must not run Swift: the Swift runtime is multi-threaded and takes locks that a
// forked copy may find held forever. Everything here is prepared by Swift before clone as
// plain structs of C strings; the child only reads them and makes async-signal-safe calls.
//
// Prior art: runc's nsexec.c, bubblewrap, util-linux unshare/nsenter, tini (the init),
// apple/containerization's exec_command.c (error reporting over a close-on-exec pipe).
#ifndef GANTRY_H
#define GANTRY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
// Not in Swift's Glibc module; re-exported so Swift can wait on signals with a signalfd and
// address the kernel's netlink socket (struct sockaddr_nl).
#include <sys/signalfd.h>
#include <linux/netlink.h>

#ifdef __cplusplus
extern "C" {
#endif

/// One primitive filesystem step the child performs, in order. Swift expands high-level
/// mounts (proc, a minimal /dev, an overlay) into these so the C side stays a flat loop.
typedef enum {
    /// mount(source, target, fstype, flags, data); the target directory is created if missing.
    GANTRY_OP_MOUNT = 1,
    /// Bind source onto target (recursive if asked), then make it read-only if asked.
    /// A missing target is created as a directory or an empty file, like the source.
    GANTRY_OP_BIND = 2,
    /// mkdir -p target, then chmod it to mode.
    GANTRY_OP_MKDIR = 3,
    /// symlink(source, target).
    GANTRY_OP_SYMLINK = 4,
    /// Make the mount at target read-only (read_only 1) or writable (0), not recursively.
    GANTRY_OP_SET_READ_ONLY = 5,
} gantry_op_kind;

typedef struct {
    int kind;                 // gantry_op_kind
    const char *source;       // may be NULL
    const char *target;       // absolute path in the child's view at the time of the op
    const char *fstype;       // GANTRY_OP_MOUNT only
    const char *data;         // GANTRY_OP_MOUNT only; may be NULL
    unsigned long flags;      // MS_* flags for GANTRY_OP_MOUNT
    unsigned int mode;        // GANTRY_OP_MKDIR
    int recursive;            // GANTRY_OP_BIND
    int read_only;            // GANTRY_OP_BIND
    int early_source;         // GANTRY_OP_BIND: take the source before any op runs (a
                              // minimal /dev covers the host /dev its devices come from)
} gantry_op;

/// At most this many binds may take their source early.
#define GANTRY_MAX_EARLY_SOURCES 32

/// What the root of the child becomes.
typedef enum {
    GANTRY_ROOT_KEEP = 0,
    GANTRY_ROOT_PIVOT = 1,    // pivot_root(".", ".") in `root`, then detach the old root
    GANTRY_ROOT_CHROOT = 2,   // chroot(root), as the course's `chroot newroot` does
} gantry_root_mode;

/// How the command gets a terminal.
typedef enum {
    GANTRY_TTY_NONE = 0,
    GANTRY_TTY_GIVEN = 1,     // tty_fd is the slave of a PTY the parent opened
    GANTRY_TTY_INSIDE = 2,    // open /dev/pts/ptmx inside the sandbox; master goes to the parent
} gantry_tty_mode;

/// A namespace to join with setns(2) before anything else (the way nsenter does).
typedef struct {
    int fd;                   // an open /proc/PID/ns/* or /run/netns/* file
    int nstype;               // CLONE_NEW* for that file
} gantry_join;

/// The whole recipe the child follows. Every pointer must stay valid until gantry_release
/// returns; Swift owns the memory.
typedef struct {
    int namespaces;                   // CLONE_NEW* flags for clone
    int late_namespaces;              // CLONE_NEW* flags to unshare once released: a cgroup
                                      // namespace is rooted where the child is at that moment,
                                      // so it is made only after the parent placed the child
    const gantry_join *joins;         // setns targets, already in the order to join them
    size_t join_count;

    const char *const *argv;          // NULL-terminated
    const char *const *envp;          // NULL-terminated
    const char *search_path;          // PATH to search when argv[0] has no '/'; NULL: none

    int stdin_fd, stdout_fd, stderr_fd;   // -1: inherit
    int tty_mode;                     // gantry_tty_mode
    int tty_fd;                       // GANTRY_TTY_GIVEN
    unsigned short tty_rows, tty_cols;// GANTRY_TTY_INSIDE: initial window size

    int make_rslave;                  // mount --make-rslave / first (new mount namespace)
    const gantry_op *ops;
    size_t op_count;

    int root_mode;                    // gantry_root_mode
    const char *root;

    const char *hostname;             // NULL: leave
    const char *cwd;                  // NULL: leave
    int loopback_up;                  // bring `lo` up in the (new) network namespace
    int no_new_privs;
    int use_init;                     // fork the command under a reaping, forwarding init;
                                      // GANTRY_INIT_KEEP: no command, the init alone stays
    int cgroup_fd;                    // -1, or a cgroup v2 dir fd for CLONE_INTO_CGROUP
} gantry_recipe;

/// use_init value for a sandbox that is only its init: pid 1 reaps whatever is entered into
/// it later and lives until killed from outside (a lab).
#define GANTRY_INIT_KEEP 2

/// Where a spawn went wrong. Child-side stages come back over the sync socket.
typedef enum {
    GANTRY_STAGE_NONE = 0,
    GANTRY_STAGE_SOCKETPAIR,
    GANTRY_STAGE_CLONE,
    GANTRY_STAGE_RELEASE,          // the parent could not talk to the child
    GANTRY_STAGE_SETNS,            // index = join index
    GANTRY_STAGE_UNSHARE_LATE,
    GANTRY_STAGE_STDIO,
    GANTRY_STAGE_MAKE_RSLAVE,
    GANTRY_STAGE_MOUNT,            // index = op index
    GANTRY_STAGE_BIND,             // index = op index
    GANTRY_STAGE_BIND_READ_ONLY,   // index = op index
    GANTRY_STAGE_MKDIR,            // index = op index
    GANTRY_STAGE_SYMLINK,          // index = op index
    GANTRY_STAGE_MOUNTPOINT,       // index = op index: creating the target failed
    GANTRY_STAGE_PIVOT_ROOT,
    GANTRY_STAGE_DETACH_OLD_ROOT,
    GANTRY_STAGE_CHROOT,
    GANTRY_STAGE_HOSTNAME,
    GANTRY_STAGE_LOOPBACK,
    GANTRY_STAGE_TTY,
    GANTRY_STAGE_CHDIR,
    GANTRY_STAGE_NO_NEW_PRIVS,
    GANTRY_STAGE_INIT_FORK,
    GANTRY_STAGE_SETSID,
    GANTRY_STAGE_EXEC,
} gantry_stage;

typedef struct {
    int32_t stage;     // gantry_stage
    int32_t error;     // errno
    int32_t index;     // which op or join, or -1
} gantry_failure;

typedef struct {
    pid_t pid;         // in the caller's pid namespace
    int pidfd;         // -1 when the kernel has no CLONE_PIDFD
    int sync_fd;       // parent end of the sync socket; closed by gantry_release
} gantry_child;

/// Clones the child, which then waits for gantry_release. Between the two the caller writes
/// uid_map/gid_map and cgroup membership. Returns 0, or -1 with `failure` filled in.
int gantry_clone(const gantry_recipe *recipe, gantry_child *child, gantry_failure *failure);

/// Lets the child go on and waits until it has exec'd (0) or failed (-1, `failure` filled in;
/// the child then exits and must still be reaped). With GANTRY_TTY_INSIDE the PTY master
/// arrives in *tty_master (else -1).
int gantry_release(gantry_child *child, int *tty_master, gantry_failure *failure);

/// Aborts a cloned child that was never released: closes the sync socket so it exits.
void gantry_abandon(gantry_child *child);

/// pidfd_send_signal(2), which Swift's Glibc module does not import.
int gantry_pidfd_send_signal(int pidfd, int signal);

/// posix_openpt + grantpt + unlockpt + ptsname_r (hidden from Swift behind _XOPEN_SOURCE):
/// returns the primary fd (close-on-exec) and the replica's path in `name`, or -1 and errno.
int gantry_open_pty(char *name, size_t size);

/// prctl(PR_SET_CHILD_SUBREAPER, 1): orphans below the caller are reparented to it instead
/// of to pid 1, so it can see and reap what a sandbox left behind. (prctl is variadic.)
int gantry_become_subreaper(void);

/// setns(2) and unshare(2), which glibc declares only under _GNU_SOURCE. For threads that
/// switch network namespace; the spawn path calls them in C.
int gantry_setns(int fd, int nstype);
int gantry_unshare(int flags);

/// "EINVAL" for EINVAL: what the error message shows (strerrorname_np, or NULL).
const char *gantry_errno_name(int error);

#ifdef __cplusplus
}
#endif

#endif
