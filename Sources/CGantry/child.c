// The child side of a spawn: from clone to execve. Only async-signal-safe calls, no malloc,
// no stdio, no locks. Any failure is reported as {stage, errno, index} and the child _exits.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <linux/openat2.h>
#include <unistd.h>

#include "internal.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

/// Exit codes of a child that failed before exec; the parent reads the real reason from the
/// sync socket, these only matter if nobody is listening any more.
enum { EXIT_SETUP_FAILED = 125, EXIT_CANNOT_EXECUTE = 126, EXIT_NOT_FOUND = 127 };

static int sync_fd = -1;

__attribute__((noreturn)) static void fail_at(int stage, int index, int error, int code) {
    gantry_message message = {
        .type = GANTRY_MSG_FAILURE,
        .failure = {.stage = stage, .error = error, .index = index},
    };
    (void)!send(sync_fd, &message, sizeof message, MSG_NOSIGNAL);
    _exit(code);
}

__attribute__((noreturn)) static void fail(int stage, int index) {
    fail_at(stage, index, errno, EXIT_SETUP_FAILED);
}

/// Copies a path into a PATH_MAX buffer to be cut up in place; ENAMETOOLONG when it does
/// not fit.
static int copy_path(char destination[PATH_MAX], const char *source) {
    size_t length = strlen(source);
    if (length >= PATH_MAX) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(destination, source, length + 1);
    return 0;
}

/// mkdir -p, in a stack buffer. Existing directories are fine. The whole path is tried
/// first and only a missing parent sends it up the path: in a recipe most parents were made
/// by an op before, and walking down from / each time was a fifth of the lab's mount
/// builder's system calls (164 of 800, each failing with EEXIST).
static int make_directories(const char *path, mode_t mode) {
    if (*path == '\0') {
        errno = ENOENT;
        return -1;
    }
    if (mkdir(path, mode) == 0 || errno == EEXIST) return 0;
    if (errno != ENOENT) return -1;
    char buffer[PATH_MAX];
    if (copy_path(buffer, path) < 0) return -1;
    size_t length = strlen(buffer);
    // Up: cut components off until what is left exists or could be made.
    for (;;) {
        char *slash = strrchr(buffer, '/');
        if (slash == NULL || slash == buffer) break;
        *slash = '\0';
        if (mkdir(buffer, 0755) == 0 || errno == EEXIST) break;
        if (errno != ENOENT) return -1;
    }
    // Down: put each cut slash back and make that component.
    for (char *cursor = buffer; cursor < buffer + length; cursor++) {
        if (*cursor != '\0') continue;
        *cursor = '/';
        int last = strlen(buffer) == length;
        if (mkdir(buffer, last ? mode : 0755) < 0 && errno != EEXIST) return -1;
    }
    return 0;
}

/// Makes sure `target` exists to be mounted on: a directory, or an empty file when the thing
/// bound onto it is a file (binding /dev/null needs a file to land on).
static int ensure_mountpoint(const char *target, int directory) {
    struct stat status;
    if (stat(target, &status) == 0) return 0;
    if (errno != ENOENT) return -1;
    if (directory) return make_directories(target, 0755);

    char parent[PATH_MAX];
    if (copy_path(parent, target) < 0) return -1;
    char *slash = strrchr(parent, '/');
    if (slash && slash != parent) {
        *slash = '\0';
        if (make_directories(parent, 0755) < 0) return -1;
    }
    int fd = open(target, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
    if (fd < 0) return -1;
    close(fd);
    return 0;
}

/// Read-only for a bind mount. mount_setattr (5.12) does a whole tree at once; the fallback
/// remount must repeat the flags the kernel locked (nosuid, nodev, ...) or a user namespace
/// gets EPERM, which is why bubblewrap reads them back with statfs first.
static int make_read_only(const char *target, int recursive) {
    struct mount_attr attributes = {.attr_set = MOUNT_ATTR_RDONLY};
    if (syscall(SYS_mount_setattr, AT_FDCWD, target, recursive ? AT_RECURSIVE : 0,
                &attributes, sizeof attributes) == 0)
        return 0;
    if (errno != ENOSYS) return -1;

    struct statfs info;
    if (statfs(target, &info) < 0) return -1;
    unsigned long keep = 0;
    if (info.f_flags & ST_NOSUID) keep |= MS_NOSUID;
    if (info.f_flags & ST_NODEV) keep |= MS_NODEV;
    if (info.f_flags & ST_NOEXEC) keep |= MS_NOEXEC;
    if (info.f_flags & ST_NOATIME) keep |= MS_NOATIME;
    if (info.f_flags & ST_NODIRATIME) keep |= MS_NODIRATIME;
    if (info.f_flags & ST_RELATIME) keep |= MS_RELATIME;
    return mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | keep, NULL);
}

/// Detached copies of early bind sources (open_tree(OPEN_TREE_CLONE)), by op index.
static int early_sources[GANTRY_MAX_EARLY_SOURCES];
static int early_op_index[GANTRY_MAX_EARLY_SOURCES];
static int early_count;

/// Clones every early bind source into a detached mount before the first op can hide it.
static void take_early_sources(const gantry_recipe *recipe) {
    early_count = 0;
    for (size_t i = 0; i < recipe->op_count; i++) {
        const gantry_op *op = &recipe->ops[i];
        if (op->kind != GANTRY_OP_BIND || !op->early_source) continue;
        if (early_count == GANTRY_MAX_EARLY_SOURCES) fail_at(GANTRY_STAGE_BIND, (int)i, E2BIG, EXIT_SETUP_FAILED);
        unsigned int flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (op->recursive ? AT_RECURSIVE : 0);
        int fd = (int)syscall(SYS_open_tree, AT_FDCWD, op->source, flags);
        if (fd < 0) fail(GANTRY_STAGE_BIND, (int)i);
        early_sources[early_count] = fd;
        early_op_index[early_count] = (int)i;
        early_count++;
    }
}

static int early_source_for(int index) {
    for (int i = 0; i < early_count; i++)
        if (early_op_index[i] == index) return early_sources[i];
    return -1;
}

/// The new root, opened once (O_PATH) for targets resolved inside it.
static int root_fd = -1;

static int open_in_root(const char *path, int flags) {
    struct open_how how = {.flags = (uint64_t)(flags | O_CLOEXEC), .resolve = RESOLVE_IN_ROOT};
    return (int)syscall(SYS_openat2, root_fd, path, &how, sizeof how);
}

/// "/proc/self/fd/N" for an O_PATH descriptor: mount(2) and friends follow it to the very
/// object the descriptor holds, as runc mounts onto descriptors it resolved itself.
static const char *fd_path(int fd, char buffer[32]) {
    static const char prefix[] = "/proc/self/fd/";
    memcpy(buffer, prefix, sizeof prefix - 1);
    char digits[12];
    int count = 0;
    do { digits[count++] = (char)('0' + fd % 10); fd /= 10; } while (fd > 0);
    size_t at = sizeof prefix - 1;
    while (count > 0) buffer[at++] = digits[--count];
    buffer[at] = '\0';
    return buffer;
}

/// Resolves `target` (which starts with the root's path) inside the new root, creating what
/// is missing of it as `ensure_mountpoint` would — each component created with mkdirat in
/// a directory that was itself resolved inside the root, so nothing is ever made outside.
/// Returns an O_PATH descriptor of the target, or -1 with errno.
static int resolve_in_root(const gantry_recipe *recipe, const char *target, int directory, int create) {
    if (root_fd < 0) {
        root_fd = open(recipe->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0) return -1;
    }
    size_t root_length = strlen(recipe->root);
    while (root_length > 1 && recipe->root[root_length - 1] == '/') root_length--;
    const char *relative = target + root_length;
    while (*relative == '/') relative++;
    if (*relative == '\0') return open_in_root(".", O_PATH);

    char path[PATH_MAX];
    if (copy_path(path, relative) < 0) return -1;
    int fd = open_in_root(path, O_PATH);
    if (fd >= 0 || errno != ENOENT || !create) return fd;
    // Up: the deepest leading part that exists (most often the parent), so that only what
    // follows it is looked at again.
    size_t existing = 0;
    for (size_t end = strlen(path); end > 0; end--) {
        while (end > 0 && path[end - 1] != '/') end--;
        if (end == 0) break;
        path[end - 1] = '\0';
        int found = open_in_root(path, O_PATH);
        path[end - 1] = '/';
        if (found >= 0) {
            close(found);
            existing = end;
            break;
        }
        if (errno != ENOENT) return -1;
    }
    // Down from there, making each missing component (one that appeared meanwhile is fine).
    for (char *cursor = path + existing;; cursor++) {
        if (*cursor != '/' && *cursor != '\0') continue;
        int last = *cursor == '\0';
        *cursor = '\0';
        char *slash = strrchr(path, '/');
        const char *name = slash ? slash + 1 : path;
        int parent;
        if (slash) {
            *slash = '\0';
            parent = open_in_root(path, O_PATH | O_DIRECTORY);
            *slash = '/';
        } else {
            parent = open_in_root(".", O_PATH | O_DIRECTORY);
        }
        if (parent < 0) return -1;
        int made;
        if (!last || directory) {
            made = mkdirat(parent, name, 0755);
        } else {
            made = openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0644);
            if (made >= 0) made = close(made);
        }
        int error = errno;
        close(parent);
        if (made < 0 && error != EEXIST) {
            errno = error;
            return -1;
        }
        if (last) break;
        *cursor = '/';
    }
    return open_in_root(path, O_PATH);
}

static void run_op(const gantry_recipe *recipe, const gantry_op *op, int index) {
    // A target inside a root the caller supplied is resolved there first; the op then works
    // on the descriptor, and `target` names it.
    char resolved[32];
    const char *target = op->target;
    int target_fd = -1;
    // A bind's source, looked at once.
    struct stat source;
    if (op->kind == GANTRY_OP_BIND) {
        int early = early_source_for(index);
        if ((early >= 0 ? fstat(early, &source) : stat(op->source, &source)) < 0) fail(GANTRY_STAGE_BIND, index);
    }
    if (op->in_root) {
        int directory = op->kind == GANTRY_OP_BIND ? S_ISDIR(source.st_mode) : 1;
        if (op->kind == GANTRY_OP_SYMLINK) {
            // The link itself is made with symlinkat in its parent, resolved inside the root.
            char parent[PATH_MAX];
            size_t length = strlen(op->target);
            const char *slash = strrchr(op->target, '/');
            if (!slash || length >= sizeof parent) fail_at(GANTRY_STAGE_SYMLINK, index, EINVAL, EXIT_SETUP_FAILED);
            memcpy(parent, op->target, (size_t)(slash - op->target));
            parent[slash - op->target] = '\0';
            int directory_fd = resolve_in_root(recipe, parent, 1, 1);
            if (directory_fd < 0) fail(GANTRY_STAGE_MOUNTPOINT, index);
            if (symlinkat(op->source, directory_fd, slash + 1) < 0 && errno != EEXIST) fail(GANTRY_STAGE_SYMLINK, index);
            close(directory_fd);
            return;
        }
        int create = op->kind != GANTRY_OP_SET_READ_ONLY;
        target_fd = resolve_in_root(recipe, op->target, directory, create);
        if (target_fd < 0) fail(GANTRY_STAGE_MOUNTPOINT, index);
        target = fd_path(target_fd, resolved);
    }
    gantry_op copy = *op;
    copy.target = target;
    op = &copy;
    // A target resolved inside the root exists: resolve_in_root made what was missing.
    int exists = target_fd >= 0;
    switch (op->kind) {
    case GANTRY_OP_MOUNT:
        if (!exists && ensure_mountpoint(op->target, 1) < 0) fail(GANTRY_STAGE_MOUNTPOINT, index);
        if (mount(op->source, op->target, op->fstype, op->flags, op->data) < 0)
            fail(GANTRY_STAGE_MOUNT, index);
        break;
    case GANTRY_OP_BIND: {
        int early = early_source_for(index);
        if (!exists && ensure_mountpoint(op->target, S_ISDIR(source.st_mode)) < 0)
            fail(GANTRY_STAGE_MOUNTPOINT, index);
        if (early >= 0) {
            // move_mount does not follow a final symlink, so a resolved target goes by its fd.
            long moved = target_fd >= 0
                ? syscall(SYS_move_mount, early, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH)
                : syscall(SYS_move_mount, early, "", AT_FDCWD, op->target, MOVE_MOUNT_F_EMPTY_PATH);
            if (moved < 0) fail(GANTRY_STAGE_BIND, index);
            close(early);
        } else {
            unsigned long flags = MS_BIND | (op->recursive ? MS_REC : 0);
            if (mount(op->source, op->target, NULL, flags, NULL) < 0) fail(GANTRY_STAGE_BIND, index);
        }
        if (op->read_only) {
            // A descriptor taken before the mount still names the covered directory; the
            // new mount is found by resolving the path again.
            if (target_fd >= 0) {
                close(target_fd);
                target_fd = resolve_in_root(recipe, recipe->ops[index].target, 1, 0);
                if (target_fd < 0) fail(GANTRY_STAGE_BIND_READ_ONLY, index);
                copy.target = fd_path(target_fd, resolved);
            }
            if (make_read_only(op->target, op->recursive) < 0) fail(GANTRY_STAGE_BIND_READ_ONLY, index);
        }
        break;
    }
    case GANTRY_OP_MKDIR:
        if (make_directories(op->target, op->mode) < 0 || chmod(op->target, op->mode) < 0)
            fail(GANTRY_STAGE_MKDIR, index);
        if ((op->owner_uid >= 0 || op->owner_gid >= 0) && chown(op->target, op->owner_uid, op->owner_gid) < 0)
            fail(GANTRY_STAGE_MKDIR, index);
        break;
    case GANTRY_OP_ATTACH:
        if (!exists && ensure_mountpoint(op->target, 1) < 0) fail(GANTRY_STAGE_MOUNTPOINT, index);
        if ((target_fd >= 0
                 ? syscall(SYS_move_mount, op->fd, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH)
                 : syscall(SYS_move_mount, op->fd, "", AT_FDCWD, op->target, MOVE_MOUNT_F_EMPTY_PATH)) < 0)
            fail(GANTRY_STAGE_ATTACH, index);
        break;
    case GANTRY_OP_SET_READ_ONLY: {
        struct mount_attr attributes = {0};
        if (op->read_only) attributes.attr_set = MOUNT_ATTR_RDONLY;
        else attributes.attr_clr = MOUNT_ATTR_RDONLY;
        if (syscall(SYS_mount_setattr, AT_FDCWD, op->target, 0, &attributes, sizeof attributes) < 0)
            fail(GANTRY_STAGE_BIND_READ_ONLY, index);
        break;
    }
    case GANTRY_OP_SYMLINK:
        if (symlink(op->source, op->target) < 0 && errno != EEXIST)
            fail(GANTRY_STAGE_SYMLINK, index);
        break;
    default:
        fail_at(GANTRY_STAGE_MOUNT, index, EINVAL, EXIT_SETUP_FAILED);
    }
    if (target_fd >= 0) close(target_fd);
}

/// pivot_root(".", ".") stacks the old root on top of the new one; detaching it leaves only
/// the new root. runc does the same, so no put_old directory is needed.
static void pivot_into(const char *root) {
    if (chdir(root) < 0) fail(GANTRY_STAGE_PIVOT_ROOT, -1);
    if (syscall(SYS_pivot_root, ".", ".") < 0) fail(GANTRY_STAGE_PIVOT_ROOT, -1);
    if (umount2(".", MNT_DETACH) < 0) fail(GANTRY_STAGE_DETACH_OLD_ROOT, -1);
    if (chdir("/") < 0) fail(GANTRY_STAGE_PIVOT_ROOT, -1);
}

static void bring_loopback_up(void) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) fail(GANTRY_STAGE_LOOPBACK, -1);
    struct ifreq request;
    memset(&request, 0, sizeof request);
    strcpy(request.ifr_name, "lo");
    if (ioctl(fd, SIOCGIFFLAGS, &request) < 0) fail(GANTRY_STAGE_LOOPBACK, -1);
    request.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (ioctl(fd, SIOCSIFFLAGS, &request) < 0) fail(GANTRY_STAGE_LOOPBACK, -1);
    close(fd);
}

/// Opens a PTY in the sandbox's own devpts (so `tty` inside names /dev/pts/0, as runc's
/// console socket arranges) and hands the master to the parent. Returns the slave.
static int open_inside_terminal(const gantry_recipe *recipe) {
    int master = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0) fail(GANTRY_STAGE_TTY, -1);
    int unlock = 0;
    if (ioctl(master, TIOCSPTLCK, &unlock) < 0) fail(GANTRY_STAGE_TTY, -1);
    int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (slave < 0) fail(GANTRY_STAGE_TTY, -1);
    if (recipe->tty_rows && recipe->tty_cols) {
        struct winsize size = {.ws_row = recipe->tty_rows, .ws_col = recipe->tty_cols};
        (void)ioctl(slave, TIOCSWINSZ, &size);
    }

    gantry_message message = {.type = GANTRY_MSG_TTY_MASTER, .failure = {0, 0, -1}};
    if (gantry_send_fd(sync_fd, &message, sizeof message, master) < 0) fail(GANTRY_STAGE_TTY, -1);
    close(master);
    return slave;
}

/// Puts `fd` on 0, 1 and 2. Sources are first moved above 2 so that, say, a source on 1
/// is not overwritten before it is copied.
static void install_stdio(const int sources[3]) {
    int moved[3];
    for (int i = 0; i < 3; i++) {
        moved[i] = -1;
        if (sources[i] < 0) continue;
        moved[i] = fcntl(sources[i], F_DUPFD_CLOEXEC, 3);
        if (moved[i] < 0) fail(GANTRY_STAGE_STDIO, i);
    }
    for (int i = 0; i < 3; i++) {
        if (moved[i] < 0) continue;
        if (dup2(moved[i], i) < 0) fail(GANTRY_STAGE_STDIO, i);
        close(moved[i]);
    }
}

/// execvp without malloc: try each PATH entry in a stack buffer. Like execvp, EACCES on one
/// entry is remembered but the search goes on.
__attribute__((noreturn)) static void exec_command(const gantry_recipe *recipe) {
    const char *file = recipe->argv[0];
    char *const *argv = (char *const *)recipe->argv;
    char *const *envp = (char *const *)recipe->envp;
    if (strchr(file, '/') || !recipe->search_path) {
        execve(file, argv, envp);
        int error = errno;
        fail_at(GANTRY_STAGE_EXEC, -1, error, error == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_EXECUTE);
    }
    int saw_denied = 0;
    size_t file_length = strlen(file);
    for (const char *entry = recipe->search_path;;) {
        const char *end = strchrnul(entry, ':');
        size_t length = (size_t)(end - entry);
        char candidate[PATH_MAX];
        if (length + 1 + file_length < sizeof candidate) {
            if (length == 0) {
                candidate[0] = '.';
                length = 1;
            } else {
                memcpy(candidate, entry, length);
            }
            candidate[length] = '/';
            memcpy(candidate + length + 1, file, file_length + 1);
            execve(candidate, argv, envp);
            if (errno == EACCES) saw_denied = 1;
            else if (errno != ENOENT && errno != ENOTDIR && errno != ELOOP)
                fail_at(GANTRY_STAGE_EXEC, -1, errno, EXIT_CANNOT_EXECUTE);
        }
        if (*end == '\0') break;
        entry = end + 1;
    }
    if (saw_denied) fail_at(GANTRY_STAGE_EXEC, -1, EACCES, EXIT_CANNOT_EXECUTE);
    fail_at(GANTRY_STAGE_EXEC, -1, ENOENT, EXIT_NOT_FOUND);
}

/// The last steps before exec, in the process that becomes the command.
__attribute__((noreturn)) static void become_command(const gantry_recipe *recipe, int terminal) {
    if (terminal >= 0) {
        // A new session so the terminal can become our controlling one; Ctrl-C on it then
        // reaches the command's process group and not Gantry's.
        if (setsid() < 0) fail(GANTRY_STAGE_SETSID, -1);
        if (ioctl(terminal, TIOCSCTTY, 0) < 0) fail(GANTRY_STAGE_TTY, -1);
        int sources[3] = {terminal, terminal, terminal};
        install_stdio(sources);
        close(terminal);
    } else if (recipe->new_session && setsid() < 0) {
        fail(GANTRY_STAGE_SETSID, -1);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    exec_command(recipe);
}

/// Root of the user namespace the process is now in: after setns into a user namespace the
/// ids are still the caller's (the host's root shows as the overflow id there), so they are
/// set to that namespace's 0. Raw syscalls: glibc's wrappers would try to signal the
/// parent's other threads, which do not exist in this copy.
///
/// Changing ids also makes the process non-dumpable (the kernel's suid_dumpable rule), so
/// until it execs, the lab cannot read this copy of Gantry's memory through /proc or ptrace.
static void become_root(void) {
    if (syscall(SYS_setgroups, 0, NULL) < 0) fail(GANTRY_STAGE_CREDENTIALS, 0);
    if (syscall(SYS_setresgid, 0, 0, 0) < 0) fail(GANTRY_STAGE_CREDENTIALS, 1);
    if (syscall(SYS_setresuid, 0, 0, 0) < 0) fail(GANTRY_STAGE_CREDENTIALS, 2);
}

/// Sends a message with one descriptor attached (SCM_RIGHTS).
static int send_with_fd(int type, int fd) {
    gantry_message message = {.type = type, .failure = {0, 0, -1}};
    return gantry_send_fd(sync_fd, &message, sizeof message, fd) < 0 ? -1 : 0;
}

/// The hostname and `lo`, once the namespaces are the sandbox's.
static void name_and_network(const gantry_recipe *recipe) {
    if (recipe->hostname && sethostname(recipe->hostname, strlen(recipe->hostname)) < 0)
        fail(GANTRY_STAGE_HOSTNAME, -1);
    if (recipe->loopback_up) bring_loopback_up();
}

/// A keeper built before its filesystem: asks the parent for the mount namespace the builder
/// made (see lock_mounts) and moves into it, root and working directory included.
static void join_awaited_mount_namespace(const gantry_recipe *recipe) {
    if (send_with_fd(GANTRY_MSG_AWAITING, -1) < 0) fail(GANTRY_STAGE_JOIN_MOUNT_NS, -1);
    // While the filesystem is built, not after.
    name_and_network(recipe);
    char byte;
    struct iovec data = {.iov_base = &byte, .iov_len = 1};
    union {
        char buffer[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } control;
    struct msghdr header = {
        .msg_iov = &data, .msg_iovlen = 1,
        .msg_control = control.buffer, .msg_controllen = sizeof control.buffer,
    };
    ssize_t got;
    do got = recvmsg(sync_fd, &header, MSG_CMSG_CLOEXEC);
    while (got < 0 && errno == EINTR);
    if (got <= 0) _exit(EXIT_SETUP_FAILED);  // the parent gave up
    struct cmsghdr *rights = CMSG_FIRSTHDR(&header);
    if (!rights || rights->cmsg_type != SCM_RIGHTS) fail_at(GANTRY_STAGE_JOIN_MOUNT_NS, -1, EBADMSG, EXIT_SETUP_FAILED);
    int fd;
    memcpy(&fd, CMSG_DATA(rights), sizeof(int));
    if (setns(fd, CLONE_NEWNS) < 0) fail(GANTRY_STAGE_JOIN_MOUNT_NS, -1);
    close(fd);
    if (chdir("/") < 0) fail(GANTRY_STAGE_JOIN_MOUNT_NS, -1);
}

/// The builder's last step. Its mounts were made by the host's root; a mount namespace made
/// now, from inside the lab's user namespace, is a copy the kernel marks locked
/// (MNT_LOCKED, MNT_LOCK_READONLY and the other flags): nothing in the lab can remount them
/// writable or unmount them to see what they cover. The copy goes to the parent.
__attribute__((noreturn)) static void lock_mounts(const gantry_recipe *recipe) {
    if (setns(recipe->lock_userns_fd, CLONE_NEWUSER) < 0) fail(GANTRY_STAGE_LOCK, 0);
    become_root();
    if (unshare(CLONE_NEWNS) < 0) fail(GANTRY_STAGE_LOCK, 1);
    int namespace_fd = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
    if (namespace_fd < 0) fail(GANTRY_STAGE_LOCK, 2);
    if (send_with_fd(GANTRY_MSG_MOUNT_NAMESPACE, namespace_fd) < 0) fail(GANTRY_STAGE_LOCK, 3);
    // The descriptor in flight holds the namespace. This process, root in the lab's user
    // namespace, goes at once: its exit overlaps with the parent reading the message.
    _exit(0);
}

/// Forks so that a pid namespace joined with setns (which applies to children only) holds
/// the rest of the recipe. The first process waits and passes the status on.
static void fork_into_joined_pid_namespace(void) {
    pid_t inner = (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
    if (inner < 0) fail(GANTRY_STAGE_INIT_FORK, -1);
    if (inner == 0) return;
    int status;
    while (waitpid(inner, &status, 0) < 0 && errno == EINTR) {}
    _exit(gantry_shell_status(status));
}

/// Zeroes the memory /proc/PID/cmdline and environ show: a keeper never execs, so they would
/// show the parent's arguments and environment (a token in it) to the lab.
static void scrub_inherited_image(const gantry_recipe *recipe) {
    static const char name[] = "gantry-keeper";
    for (int i = 0; i < 2; i++) {
        char *start = (char *)recipe->scrub_start[i], *end = (char *)recipe->scrub_end[i];
        if (!start || end <= start) continue;
        memset(start, 0, (size_t)(end - start));
        if (i == 0 && (size_t)(end - start) > sizeof name) memcpy(start, name, sizeof name);
    }
}

/// setns into each namespace, in the order Swift chose (user first, mount last: nsenter's).
static void join_namespaces(const gantry_recipe *recipe) {
    for (size_t i = 0; i < recipe->join_count; i++) {
        if (setns(recipe->joins[i].fd, recipe->joins[i].nstype) < 0)
            fail(GANTRY_STAGE_SETNS, (int)i);
        close(recipe->joins[i].fd);
    }
}

/// Moves this (single-threaded) process into cgroup v1 groups by writing "0" to their
/// `tasks` files; `first` numbers the failure's index.
static void move_self(const int *fds, size_t count, int first) {
    for (size_t i = 0; i < count; i++) {
        ssize_t written;
        do written = write(fds[i], "0", 1);
        while (written < 0 && errno == EINTR);
        if (written != 1) fail(GANTRY_STAGE_CGROUP, first + (int)i);
    }
}

void gantry_child_main(const gantry_recipe *recipe, int fd) {
    sync_fd = fd;

    // Wait until the parent has written our uid/gid maps and cgroup: until then we have no
    // identity in our user namespace. EOF means the parent gave up on us.
    char go;
    if (recv(sync_fd, &go, 1, 0) != 1) _exit(EXIT_SETUP_FAILED);

    // Handlers installed by the Swift runtime must not survive into the command; ignored
    // signals would (exec keeps SIG_IGN). Signals stay blocked until exec. A keeper and a
    // builder never exec, and keep every signal blocked: 64 system calls spared each.
    if (recipe->use_init != GANTRY_INIT_KEEP && recipe->lock_userns_fd < 0) {
        struct sigaction default_action;
        memset(&default_action, 0, sizeof default_action);
        default_action.sa_handler = SIG_DFL;
        for (int sig = 1; sig < NSIG; sig++) {
            if (sig == SIGKILL || sig == SIGSTOP) continue;
            (void)sigaction(sig, &default_action, NULL);
        }
    }

    move_self(recipe->cgroup_tasks_fds, recipe->cgroup_tasks_count, 0);
    join_namespaces(recipe);
    if (recipe->fork_after_joins) fork_into_joined_pid_namespace();
    if (recipe->late_namespaces && unshare(recipe->late_namespaces) < 0) fail(GANTRY_STAGE_UNSHARE_LATE, -1);
    move_self(recipe->cgroup_later_fds, recipe->cgroup_later_count, (int)recipe->cgroup_tasks_count);
    if (recipe->become_root) become_root();

    int sources[3] = {recipe->stdin_fd, recipe->stdout_fd, recipe->stderr_fd};
    install_stdio(sources);
    // Nothing the parent had open may leak into the sandbox. CLOEXEC rather than close: the
    // sync socket and a given terminal are still needed until exec.
    if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
        for (int other = 3; other < 4096; other++) (void)fcntl(other, F_SETFD, FD_CLOEXEC);
    }

    if (recipe->await_mount_namespace) join_awaited_mount_namespace(recipe);
    if (recipe->make_rslave && mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
        fail(GANTRY_STAGE_MAKE_RSLAVE, -1);
    take_early_sources(recipe);
    for (size_t i = 0; i < recipe->op_count; i++) run_op(recipe, &recipe->ops[i], (int)i);

    if (recipe->root_mode == GANTRY_ROOT_PIVOT) {
        pivot_into(recipe->root);
    } else if (recipe->root_mode == GANTRY_ROOT_CHROOT) {
        if (chroot(recipe->root) < 0 || chdir("/") < 0) fail(GANTRY_STAGE_CHROOT, -1);
    }
    if (recipe->lock_userns_fd >= 0) lock_mounts(recipe);
    if (!recipe->await_mount_namespace) name_and_network(recipe);

    int terminal = -1;
    if (recipe->tty_mode == GANTRY_TTY_GIVEN) terminal = recipe->tty_fd;
    if (recipe->tty_mode == GANTRY_TTY_INSIDE) terminal = open_inside_terminal(recipe);

    if (recipe->cwd && chdir(recipe->cwd) < 0) fail(GANTRY_STAGE_CHDIR, -1);
    if (recipe->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        fail(GANTRY_STAGE_NO_NEW_PRIVS, -1);

    if (!recipe->use_init) become_command(recipe, terminal);
    if (recipe->use_init == GANTRY_INIT_KEEP) {
        // The sync socket stays: it is the line to the owner, whose end closing ends the
        // keeper. Everything else goes.
        scrub_inherited_image(recipe);
        if (send_with_fd(GANTRY_MSG_READY, -1) < 0) _exit(EXIT_SETUP_FAILED);
        if (sync_fd > 0) (void)syscall(SYS_close_range, 0U, (unsigned)sync_fd - 1, 0U);
        (void)syscall(SYS_close_range, (unsigned)sync_fd + 1, ~0U, 0U);
        gantry_init_main(-1, sync_fd);
    }

    // A raw clone, not fork(): fork runs atfork handlers, which are not async-signal-safe.
    pid_t command = (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
    if (command < 0) fail(GANTRY_STAGE_INIT_FORK, -1);
    if (command == 0) become_command(recipe, terminal);

    // The init holds nothing open: not the terminal (its EOF must come when the command
    // closes it), not the sync socket (its EOF tells the parent the command exec'd).
    (void)syscall(SYS_close_range, 0U, ~0U, 0U);
    gantry_init_main(command, -1);
}
