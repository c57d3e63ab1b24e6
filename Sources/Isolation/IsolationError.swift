internal import Glibc
public import POSIXSupport

/// Why a sandbox could not be made: the step, the object, the kernel's errno and, where we
/// know one, what a person can do about it.
/// The description reads like `pivot_root(/tmp/lab/root): EINVAL (Invalid argument) — ...`.
public struct IsolationError: Error, Sendable, CustomStringConvertible {
    public enum Stage: String, Sendable {
        case specification, socketpair, clone, writeIDMap = "write id map", release
        case unshareLate = "unshare"
        case setns, stdio, makeRslave = "make / rslave", mount, bind, bindReadOnly = "remount read-only"
        case mkdir, symlink, mountpoint = "create mount point", pivotRoot = "pivot_root"
        case detachOldRoot = "detach old root", chroot, hostname = "sethostname"
        case loopback = "bring up lo", terminal = "open terminal", chdir
        case noNewPrivileges = "no_new_privs", initFork = "fork init", setsid, exec
        case openNamespace = "open namespace", wait
        case credentials = "become root in the user namespace"
        case joinMountNamespace = "join the built mount namespace"
        case lockMounts = "lock the mounts"
        case attach = "move_mount"
        case creator = "switch ids to create the user namespace"
        case openTree = "open_tree", idmap = "mount_setattr(MOUNT_ATTR_IDMAP)"
        case cgroupTasks = "write 0 to the cgroup's tasks file"
        /// The caller's `prepare` step (a veth, a cgroup) failed; `detail` says how.
        case prepare

        /// The C name of the call, as the message shows it.
        var call: String {
            switch self {
            case .makeRslave: "mount(/, MS_REC|MS_SLAVE)"
            case .bind: "mount(MS_BIND)"
            case .bindReadOnly: "mount_setattr(MOUNT_ATTR_RDONLY)"
            case .pivotRoot: "pivot_root"
            case .detachOldRoot: "umount2(old root, MNT_DETACH)"
            case .hostname: "sethostname"
            case .loopback: "ioctl(lo, SIOCSIFFLAGS)"
            case .noNewPrivileges: "prctl(PR_SET_NO_NEW_PRIVS)"
            case .exec: "execve"
            default: rawValue
            }
        }
    }

    public var stage: Stage
    /// The kernel's errno (0 for a spec error).
    public var cause: Errno
    /// What the failing call was about: a path, a namespace, a command.
    public var subject: String?
    /// What to do about it.
    public var hint: String?
    /// For a bad spec: what is wrong with it.
    public var detail: String?

    public init(stage: Stage, cause: Errno, subject: String? = nil, hint: String? = nil, detail: String? = nil) {
        self.stage = stage
        self.cause = cause
        self.subject = subject
        self.hint = hint ?? Self.hint(stage: stage, errno: cause.rawValue)
        self.detail = detail
    }

    init(_ error: SpecError) {
        self.init(stage: .specification, cause: Errno(0), detail: error.description)
    }

    /// One system call through `POSIX.call`, its failure as an error of `stage` about
    /// `subject` (made only after errno was read).
    @discardableResult
    static func call<Result: FixedWidthInteger>(
        _ stage: Stage, _ subject: @autoclosure () -> String? = nil, retryOnInterrupt: Bool = true,
        _ body: () -> Result
    ) throws(IsolationError) -> Result {
        do { return try POSIX.call(retryOnInterrupt: retryOnInterrupt, body) } catch {
            throw IsolationError(stage: stage, cause: error, subject: subject())
        }
    }

    /// True when the command itself could not be started (not found, not executable), as
    /// opposed to the sandbox around it failing.
    public var isCommandNotExecutable: Bool { stage == .exec }

    public var description: String {
        if stage == .specification || stage == .prepare { return detail ?? "invalid sandbox specification" }
        var text = stage.call + (subject.map { "(\($0))" } ?? "") + ": \(cause)"
        if let hint { text += " — " + hint }
        return text
    }

    /// Advice for the combinations people actually hit.
    static func hint(stage: Stage, errno: Int32) -> String? {
        switch (stage, errno) {
        case (.clone, EPERM):
            "creating namespaces needs root, or a user namespace: add --user (and --map-root)"
        case (.clone, ENOSPC), (.clone, EUSERS):
            "the namespace limit is reached (see /proc/sys/user/max_*_namespaces)"
        case (.clone, EINVAL):
            "this kernel lacks one of the namespaces asked for"
        case (.writeIDMap, EPERM):
            "without root only your own uid and gid can be mapped, each to one id"
        case (.pivotRoot, EINVAL):
            "the new root must be a mount point other than the current root; bind-mount it onto itself first"
        case (.pivotRoot, ENOENT), (.chroot, ENOENT):
            "the new root directory does not exist"
        case (.mount, EPERM), (.bind, EPERM):
            "mounting needs CAP_SYS_ADMIN over the mount namespace: add --user, or run as root"
        case (.mount, ENODEV):
            "this kernel does not know that filesystem type"
        case (.mount, EACCES):
            "/proc and /sys can only be mounted for namespaces the sandbox owns: add --pid (for /proc) or --net (for /sys)"
        case (.bind, ENOENT):
            "the source of the bind mount does not exist"
        case (.bindReadOnly, EPERM):
            "the kernel keeps this mount's flags locked in a user namespace"
        case (.hostname, EPERM):
            "setting the hostname needs a UTS namespace the sandbox owns: add --uts"
        case (.chdir, ENOENT):
            "that directory does not exist inside the sandbox"
        case (.exec, ENOENT):
            "no such command inside the sandbox; check the name and PATH, and that the root has it"
        case (.exec, EACCES):
            "the file is not executable (permissions, or a noexec mount)"
        case (.exec, ENOEXEC):
            "the file is neither a binary this kernel runs nor a script starting with #!"
        case (.terminal, ENOENT):
            "a terminal inside needs the sandbox's own /dev (--dev)"
        case (.setns, EPERM):
            "joining another process's namespaces needs root or its user namespace"
        case (.idmap, EINVAL):
            "this filesystem cannot be idmapped (the kernel supports it on ext4, xfs, btrfs, tmpfs and a few others)"
        case (.idmap, EPERM):
            "idmapped mounts need the host's root (CAP_SYS_ADMIN in the initial user namespace)"
        default:
            nil
        }
    }
}
