/// The flat list of steps the C child performs, built from a `SandboxSpec` before clone.
/// Pure data: tests compare it without root, and error messages name its steps.
public struct Recipe: Sendable, Equatable {
    /// One filesystem step; mirrors `gantry_op`.
    public struct Step: Sendable, Equatable, CustomStringConvertible {
        public enum Kind: Int32, Sendable {
            case mount = 1, bind = 2, mkdir = 3, symlink = 4, setReadOnly = 5, attach = 6
        }

        public var kind: Kind
        public var source: String?
        /// An absolute path in the child's view at the time of the step (before the root change).
        public var target: String
        public var fstype: String?
        public var data: String?
        public var flags: MountFlags = []
        public var mode: UInt32 = 0o755
        public var recursive = false
        public var readOnly = false
        /// Bind a copy of the source taken before the first step, so a later mount over the
        /// source's directory (a new /dev over the host's) cannot hide it.
        public var earlySource = false
        /// `.attach`: the detached tree's descriptor.
        public var descriptor: Int32 = -1
        /// `.mkdir`: the host ids to give the directory.
        public var owner: Ownership?
        /// The target is inside the new root and resolved there (RESOLVE_IN_ROOT), so the
        /// root's own symlinks cannot lead a mount outside it.
        public var insideRoot = false

        public var description: String {
            switch kind {
            case .mount: "mount \(fstype ?? "?") on \(target)" + (data.map { " (\($0))" } ?? "")
            case .bind: "bind \(source ?? "?") on \(target)" + (readOnly ? " read-only" : "")
            case .mkdir: "mkdir \(target)"
            case .symlink: "symlink \(target) -> \(source ?? "?")"
            case .setReadOnly: "make \(target) " + (readOnly ? "read-only" : "writable")
            case .attach: "attach a prepared tree on \(target)"
            }
        }
    }

    /// Made at clone time.
    public var namespaces: Namespaces
    /// Made by the child after the parent released it: the cgroup namespace, which must be
    /// rooted at the group the parent put the child in (DESIGN rule 3).
    public var lateNamespaces: Namespaces
    public var makeRslave: Bool
    public var steps: [Step]
    public var root: RootChange?
    public var hostname: String?
    public var workingDirectory: String?
    public var loopbackUp: Bool
    public var noNewPrivileges: Bool
    public var newSession: Bool
    public var useInit: Bool
    public var keepAlive: Bool
    public var argv: [String]
    public var environment: [String]
    public var searchPath: String?
    public var userNamespaceCreator: Ownership?
    public var becomeRoot: Bool
    public var awaitsFilesystem: Bool
}

/// `mount(2)` flags; spelled out because Glibc's are an anonymous enum Swift imports poorly.
public struct MountFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt
    public init(rawValue: UInt) { self.rawValue = rawValue }
    public static let readOnly = MountFlags(rawValue: 1)  // MS_RDONLY
    public static let noSUID = MountFlags(rawValue: 2)  // MS_NOSUID
    public static let noDev = MountFlags(rawValue: 4)  // MS_NODEV
    public static let noExec = MountFlags(rawValue: 8)  // MS_NOEXEC
    public static let strictATime = MountFlags(rawValue: 1 << 24)  // MS_STRICTATIME
}

extension Recipe {
    /// Devices a minimal /dev gets from the host, by bind mount: a user namespace may not
    /// mknod, so bwrap and rootless runc do the same.
    static let minimalDevices = ["null", "zero", "full", "random", "urandom", "tty"]

    /// Expands the spec. Mount targets move under the new root, which is first bind-mounted
    /// onto itself because pivot_root wants a mount point.
    public init(_ spec: SandboxSpec) throws(SpecError) {
        try spec.validate()
        let prefix = spec.root.map { $0.path == "/" ? "" : Self.trimmingTrailingSlashes($0.path) } ?? ""
        func host(_ path: String) -> String { prefix + (path == "/" && !prefix.isEmpty ? "" : path) }

        var steps: [Step] = []
        for mount in spec.stagingMounts {
            steps += Self.steps(for: mount, at: mount.target)
        }
        if case .pivot(let path) = spec.root {
            steps.append(Step(kind: .bind, source: path, target: path, recursive: true))
        }
        for mount in spec.mounts {
            steps += Self.steps(for: mount, at: host(mount.target)).map { step in
                var step = step
                step.insideRoot = spec.root != nil
                return step
            }
        }

        self.namespaces = spec.namespaces.subtracting(.cgroup)
        self.lateNamespaces = spec.namespaces.intersection(.cgroup)
        self.makeRslave = spec.namespaces.contains(.mount)
        self.steps = steps
        self.root = spec.root
        self.hostname = spec.hostname
        // After a root change the old working directory means nothing; start at /.
        self.workingDirectory = spec.workingDirectory ?? (spec.root == nil ? nil : "/")
        self.loopbackUp = spec.loopbackUp
        self.noNewPrivileges = spec.noNewPrivileges
        self.newSession = spec.newSession
        self.useInit = spec.useInit && spec.namespaces.contains(.pid)
        self.keepAlive = spec.keepAlive
        self.argv = spec.keepAlive ? ["(init)"] : spec.command
        self.environment = spec.environment
        self.searchPath = argv[0].contains("/") || spec.keepAlive ? nil : spec.searchPath
        self.userNamespaceCreator = spec.userNamespaceCreator
        self.becomeRoot = spec.becomeRoot
        self.awaitsFilesystem = spec.awaitsFilesystem
    }

    /// Only a filesystem: the mounts (staging first, then those inside `root`) and the root
    /// change of a mount namespace that `Sandbox.buildMountNamespace` builds and hands over.
    public init(filesystemOf spec: SandboxSpec) throws(SpecError) {
        var full = spec
        full.command = ["(builder)"]
        full.namespaces = [.mount]
        full.userMapping = nil
        full.hostname = nil
        full.keepAlive = false
        full.useInit = false
        full.loopbackUp = false
        full.userNamespaceCreator = nil
        full.becomeRoot = false
        full.awaitsFilesystem = false
        try self.init(full)
    }

    static func steps(for mount: Mount, at target: String) -> [Step] {
        let hardened: MountFlags = [.noSUID, .noDev, .noExec]
        switch mount {
        case .proc:
            return [Step(kind: .mount, source: "proc", target: target, fstype: "proc", flags: hardened)]
        case .sysfs(_, let readOnly):
            return [
                Step(
                    kind: .mount, source: "sysfs", target: target, fstype: "sysfs",
                    flags: readOnly ? hardened.union(.readOnly) : hardened)
            ]
        case .tmpfs(_, let size, let mode, let owner):
            var options = "mode=0" + String(mode, radix: 8)
            if let size { options += ",size=\(size)" }
            if let owner { options += owner.tmpfsOptions }
            return [
                Step(
                    kind: .mount, source: "tmpfs", target: target, fstype: "tmpfs",
                    data: options, flags: [.noSUID, .noDev])
            ]
        case .bind(let source, _, let readOnly, let recursive):
            return [Step(kind: .bind, source: source, target: target, recursive: recursive, readOnly: readOnly)]
        case .overlay(let lower, let upper, let work, _):
            let options = "lowerdir=\(lower.joined(separator: ":")),upperdir=\(upper),workdir=\(work)"
            return [Step(kind: .mount, source: "overlay", target: target, fstype: "overlay", data: options)]
        case .devpts:
            return [
                Step(
                    kind: .mount, source: "devpts", target: target, fstype: "devpts",
                    data: "newinstance,ptmxmode=0666,mode=620", flags: [.noSUID, .noExec])
            ]
        case .directory(_, let mode, let owner):
            return [Step(kind: .mkdir, target: target, mode: mode, owner: owner)]
        case .tree(let descriptor, _):
            return [Step(kind: .attach, target: target, descriptor: descriptor)]
        case .symlink(let destination, _):
            return [Step(kind: .symlink, source: destination, target: target)]
        case .setReadOnly(_, let readOnly):
            return [Step(kind: .setReadOnly, target: target, readOnly: readOnly)]
        case .filesystem(let type, let source, _, let options):
            return [
                Step(
                    kind: .mount, source: source, target: target, fstype: type, data: options,
                    flags: [.noSUID, .noDev, .noExec])
            ]
        case .minimalDev(_, let owner):
            let ownerOptions = owner?.tmpfsOptions ?? ""
            var steps = [
                Step(
                    kind: .mount, source: "tmpfs", target: target, fstype: "tmpfs",
                    data: "mode=0755" + ownerOptions, flags: [.noSUID, .strictATime])
            ]
            for device in minimalDevices {
                steps.append(
                    Step(
                        kind: .bind, source: "/dev/" + device, target: target + "/" + device,
                        earlySource: true))
            }
            let links = [
                ("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2"),
                ("ptmx", "pts/ptmx"),
            ]
            for (name, destination) in links {
                steps.append(Step(kind: .symlink, source: destination, target: target + "/" + name))
            }
            steps += Self.steps(for: .devpts(at: ""), at: target + "/pts")
            steps.append(Step(kind: .mkdir, target: target + "/shm", mode: 0o1777))
            steps.append(
                Step(
                    kind: .mount, source: "tmpfs", target: target + "/shm", fstype: "tmpfs",
                    data: "mode=01777" + ownerOptions, flags: [.noSUID, .noDev]))
            return steps
        }
    }

    static func trimmingTrailingSlashes(_ path: String) -> String {
        var path = Substring(path)
        while path.count > 1 && path.hasSuffix("/") { path = path.dropLast() }
        return String(path)
    }
}
