/// A filesystem to set up in a sandbox's mount namespace. Targets are paths as the sandbox
/// will see them (inside its new root, when it has one).
public enum Mount: Codable, Sendable, Hashable {
    /// procfs for the sandbox's pid namespace.
    case proc(at: String)
    /// sysfs; shows the network devices of the sandbox's network namespace.
    case sysfs(at: String, readOnly: Bool = true)
    /// A fresh tmpfs; `size` in bytes (nil: the kernel's default, half of RAM). `owner` (host
    /// ids) owns its root; nil: whoever mounts it.
    case tmpfs(at: String, size: UInt64? = nil, mode: UInt32 = 0o755, owner: Ownership? = nil)
    /// A host path seen again at `at`.
    case bind(source: String, at: String, readOnly: Bool = false, recursive: Bool = true)
    /// overlayfs: `lower` layers (top first) read-only, changes go to `upper` (needs `work`
    /// on the same filesystem).
    case overlay(lower: [String], upper: String, work: String, at: String)
    /// A private devpts instance (`newinstance`), so the sandbox's PTYs are its own.
    case devpts(at: String)
    /// A tmpfs /dev with only null, zero, full, random, urandom and tty bound from the host,
    /// the `std*`/`fd` symlinks, a private devpts with `ptmx`, and `/dev/shm` (bwrap's --dev).
    /// `owner` owns the tmpfs.
    case minimalDev(at: String, owner: Ownership? = nil)
    /// A directory created (with parents) at `at`, then given `mode` and (host ids) `owner`.
    case directory(at: String, mode: UInt32 = 0o755, owner: Ownership? = nil)
    /// A symbolic link at `at` pointing to `to`.
    case symlink(to: String, at: String)
    /// Makes the mount already at `at` read-only or writable (that mount only): a bind
    /// inherits its source's read-only flag, and this takes it back.
    case setReadOnly(at: String, readOnly: Bool)
    /// Any other filesystem (nosuid, nodev, noexec): `cgroup2`, `cgroup` with its controller
    /// options, `mqueue`…
    case filesystem(type: String, source: String, at: String, options: String? = nil)
    /// A detached mount tree the caller made (`MountTree`, e.g. an idmapped view of a host
    /// directory), attached at `at`. The descriptor must stay open until the sandbox runs.
    case tree(descriptor: Int32, at: String)

    /// Where it lands, in the sandbox's view.
    public var target: String {
        switch self {
        case .proc(let at), .sysfs(let at, _), .tmpfs(let at, _, _, _), .bind(_, let at, _, _),
            .overlay(_, _, _, let at), .devpts(let at), .minimalDev(let at, _), .directory(let at, _, _),
            .symlink(_, let at), .filesystem(_, _, let at, _), .setReadOnly(let at, _), .tree(_, let at):
            at
        }
    }
}

/// Host ids that own something made for a sandbox (the host ids its root maps to).
public struct Ownership: Codable, Sendable, Hashable {
    public var uid: UInt32
    public var gid: UInt32

    public init(uid: UInt32, gid: UInt32) {
        self.uid = uid
        self.gid = gid
    }

    /// tmpfs's own mount options for its root's owner.
    var tmpfsOptions: String { ",uid=\(uid),gid=\(gid)" }
}

/// What becomes `/` for the sandbox.
public enum RootChange: Codable, Sendable, Hashable {
    /// pivot_root into the directory (needs a new mount namespace); the old root is detached
    /// and nothing of it stays reachable.
    case pivot(String)
    /// chroot into the directory, as the course's `chroot newroot` does. The old root is still
    /// mounted and reachable by a process with CAP_SYS_CHROOT; that is the lesson.
    case chroot(String)

    public var path: String {
        switch self {
        case .pivot(let path), .chroot(let path): path
        }
    }
}
