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
// timerfd: replay types recorded keys at their times, woken by the shell's own poll.
#include <sys/timerfd.h>
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
    /// move_mount(fd, target): attach a detached tree the parent made with open_tree (an
    /// idmapped view of a host directory, which only the host's root may make).
    GANTRY_OP_ATTACH = 6,
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
    int fd;                   // GANTRY_OP_ATTACH: the detached tree; -1 otherwise
    int owner_uid, owner_gid; // GANTRY_OP_MKDIR: chown to these host ids; -1 leaves them
    int in_root;              // target lies inside recipe->root and is resolved there
                              // (openat2 RESOLVE_IN_ROOT): a symlink in a root the caller
                              // supplied cannot send a mount, or a created mount point,
                              // onto the host's own paths
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
    int new_session;                  // setsid() before exec even without a terminal of our
                                      // own: the caller's terminal is then no controlling
                                      // terminal of the command's, so TIOCSTI cannot type
                                      // into it (bubblewrap's --new-session, CVE-2017-5226)
    int use_init;                     // fork the command under a reaping, forwarding init;
                                      // GANTRY_INIT_KEEP: no command, the init alone stays
    int cgroup_fd;                    // -1, or a cgroup v2 dir fd for CLONE_INTO_CGROUP
    const int *cgroup_tasks_fds;      // cgroup v1 `tasks` files, opened by the parent, that the
    size_t cgroup_tasks_count;        // child writes "0" to once released: a thread moving
                                      // itself takes no global lock (a pid written from
                                      // outside waits out an RCU grace period)
    const int *cgroup_later_fds;      // the same after late_namespaces: the group a keeper
    size_t cgroup_later_count;        // lives in, below the one its cgroup namespace roots at

    // A lab: its root is not the host's root, and its mounts are made by the host's root and
    // handed over locked (see docs on each field; all off is an ordinary sandbox).
    int creator_uid, creator_gid;     // >= 0: clone the new user namespace as this effective
                                      // host uid/gid (the calling thread switches for the
                                      // clone only), so the kernel's per-user counts (inotify
                                      // instances, user namespaces) charge it, not root
    int become_root;                  // after the joins: setgroups(0), setresgid(0), setresuid(0)
                                      // in the user namespace now current (a mapped root)
    int await_mount_namespace;        // after the joins: ask the parent for a mount namespace
                                      // (GANTRY_REPORT_AWAITING) and setns into it
    int fork_after_joins;             // after the joins: fork, so a joined pid namespace
                                      // applies to the rest; the first process only waits
    int lock_userns_fd;               // >= 0: after the root change, setns into this user
                                      // namespace, become its root and unshare the mount
                                      // namespace, which locks every mount made so far; send
                                      // that namespace to the parent and exit
    uintptr_t scrub_start[2];         // GANTRY_INIT_KEEP: memory ranges (the argv and environ
    uintptr_t scrub_end[2];           // strings of the parent's image) that /proc/PID/cmdline
                                      // and environ show, zeroed so the keeper shows nothing
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
    GANTRY_STAGE_CREDENTIALS,      // become_root
    GANTRY_STAGE_JOIN_MOUNT_NS,    // await_mount_namespace
    GANTRY_STAGE_LOCK,             // lock_userns_fd
    GANTRY_STAGE_ATTACH,           // index = op index
    GANTRY_STAGE_CREATOR,          // the parent could not switch ids for the clone
    GANTRY_STAGE_CGROUP,           // index = which cgroup_tasks_fds (then cgroup_later_fds) entry
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

/// Where a released child stopped to tell the parent something.
typedef enum {
    /// It exec'd the command; the sync socket is closed.
    GANTRY_REPORT_EXECUTED = 0,
    /// A keeper (GANTRY_INIT_KEEP) is up. The sync socket stays open as the owner's line:
    /// the keeper ends, and its sandbox with it, when the parent's end closes.
    GANTRY_REPORT_READY = 1,
    /// await_mount_namespace: send one with gantry_continue.
    GANTRY_REPORT_AWAITING = 2,
    /// lock_userns_fd: `fd` is the locked mount namespace; the child exits.
    GANTRY_REPORT_MOUNT_NAMESPACE = 3,
} gantry_report_kind;

typedef struct {
    int kind;          // gantry_report_kind
    int fd;            // GANTRY_REPORT_MOUNT_NAMESPACE; else -1
    int tty_master;    // GANTRY_TTY_INSIDE, once the command exec'd; else -1
} gantry_report;

/// Lets the child go on and waits for its report (0), or its failure (-1, `failure` filled
/// in; the child then exits and must still be reaped).
int gantry_release(gantry_child *child, gantry_report *report, gantry_failure *failure);

/// After GANTRY_REPORT_AWAITING: sends the mount namespace `fd` and waits for the next report.
int gantry_continue(gantry_child *child, int fd, gantry_report *report, gantry_failure *failure);

/// Aborts a cloned child that was never released: closes the sync socket so it exits.
void gantry_abandon(gantry_child *child);

/// pidfd_send_signal(2), which Swift's Glibc module does not import.
int gantry_pidfd_send_signal(int pidfd, int signal);
/// poll(2) for POLLIN on `count` (at most 64) descriptors with a timeout in microseconds
/// (ppoll, which Swift's Glibc lacks): how many are readable, 0 at the timeout, -1 with errno.
int gantry_await_any_readable(const int *fds, int count, long microseconds);
/// pidfd_open(2) (Linux 5.3), which Swift's Glibc module does not import: a pidfd for a
/// process that already exists (CLONE_PIDFD gives one only to the process's creator).
int gantry_pidfd_open(pid_t pid);

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

/// pipe2(2), which Swift's Glibc module hides (a GNU extension): a pipe close-on-exec from
/// birth, so a fork on another thread never inherits it.
int gantry_pipe2(int fds[2], int flags);

/// Columns a character takes in the current locale (wcwidth(3), which glibc declares only
/// for _XOPEN_SOURCE builds), -1 when unknown.
int gantry_wcwidth(unsigned int c);

/// The hostname in the UTS namespace open at `ns_fd`, read by a thread of its own that joins
/// it (setns) and ends: a few microseconds, where running hostname(1) there costs a spawn.
/// Needs CAP_SYS_ADMIN over the namespace's user namespace (the host's root has it).
int gantry_hostname_in(int ns_fd, char *buffer, size_t size);

/// open_tree(path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC): a detached copy of the mount at
/// `path` (its submounts too when `recursive`). Then mount_setattr on it: idmapped through
/// `userns_fd` when >= 0 (the host's files seen as owned by the ids they map to inside), and
/// read-only when asked. Returns the tree's fd, or -1 with errno (and *stage 1 for open_tree,
/// 2 for mount_setattr). Swift's Glibc module has neither call.
int gantry_detached_tree(const char *path, int recursive, int userns_fd, int read_only, int *stage);

/// One way to make a socket: socket(domain, type, protocol).
typedef struct {
    int domain, type, protocol;
} gantry_socket_kind;

/// A socket made inside other namespaces, by a short-lived child that joins them (`joins`,
/// user first) and tries `kinds` in order; the first that works comes back over a socketpair.
/// For a caller that may not join a user namespace itself (a multi-threaded process never
/// may), so it cannot switch a thread's network namespace into one the user namespace owns.
/// Returns the socket (close-on-exec) and the index of its kind in *chosen, or -1 and errno.
int gantry_socket_in(const gantry_join *joins, size_t join_count, const gantry_socket_kind *kinds, size_t kind_count,
                     int *chosen);

/// openat2(dirfd, path, flags, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS): `path` resolved
/// as if `dirfd` were `/`, so a symlink cannot lead out of it.
int gantry_open_in_root(int dirfd, const char *path, int flags);

#ifdef __cplusplus
}
#endif

#endif
