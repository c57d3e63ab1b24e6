/// Everything about a sandbox that can be written down before it exists: which namespaces,
/// who it runs as, its filesystem, hostname and command. `Sandbox.spawn` turns it into a
/// process. Codable, so a lab or a test can store and compare it.
public struct SandboxSpec: Codable, Sendable, Hashable {
    /// argv; the first element is looked up in the sandbox's `PATH` when it has no `/`.
    public var command: [String]
    /// `KEY=VALUE` strings, exactly as the command will get them.
    public var environment: [String]
    public var namespaces: Namespaces
    /// Required with `.user`: the parent writes it before the child goes on.
    public var userMapping: UserMapping?
    public var hostname: String?
    public var root: RootChange?
    /// In order; targets are in the sandbox's view.
    public var mounts: [Mount]
    /// Where the command starts; nil keeps the caller's (or `/` after a root change).
    public var workingDirectory: String?
    public var noNewPrivileges: Bool
    /// With `.pid`: a tiny init is pid 1, reaps zombies and forwards signals; the command is
    /// pid 2. Without it the command itself is pid 1 (and zombies it orphans pile up).
    public var useInit: Bool
    /// With `.net`: bring `lo` up, as every real machine has it.
    public var loopbackUp: Bool
    /// With `.pid`: run no command at all, only the init, which reaps what is entered into the
    /// sandbox later (`Sandbox.enter`) and lives until killed from outside. Pid 1 ignores
    /// signals sent from inside, so `kill -9 -1` in the sandbox cannot end it. `command` is
    /// then unused.
    public var keepAlive: Bool = false
    /// With `.user`, as root: the host ids that create (own) the new user namespace instead of
    /// root, so the kernel's per-user limits charge them: a lab whose root is not the host's.
    public var userNamespaceCreator: Ownership?
    /// After joining or making a user namespace, become its root (setresuid 0): needed when
    /// that namespace's 0 is not the caller's own id (a lab's unprivileged range).
    public var becomeRoot = false
    /// Without `.mount`: the sandbox waits, after its namespaces exist, for a mount namespace
    /// built for it (`Sandbox.buildMountNamespace`) and moves into it (`PendingSandbox`).
    public var awaitsFilesystem = false

    public init(
        command: [String],
        environment: [String] = [],
        namespaces: Namespaces = [],
        userMapping: UserMapping? = nil,
        hostname: String? = nil,
        root: RootChange? = nil,
        mounts: [Mount] = [],
        workingDirectory: String? = nil,
        noNewPrivileges: Bool = false,
        useInit: Bool = true,
        loopbackUp: Bool = false
    ) {
        self.command = command
        self.environment = environment
        self.namespaces = namespaces
        self.userMapping = userMapping
        self.hostname = hostname
        self.root = root
        self.mounts = mounts
        self.workingDirectory = workingDirectory
        self.noNewPrivileges = noNewPrivileges
        self.useInit = useInit
        self.loopbackUp = loopbackUp
    }

    /// A session of its own for the command even without a terminal (setsid): the caller's
    /// terminal is then not the command's controlling terminal, so nothing inside can push
    /// keystrokes into it with TIOCSTI. Labs always ask for it.
    public var newSession = false

    /// The mounts made before the root change, at the caller's own paths (a staging tmpfs,
    /// an overlay assembled into the new root); `mounts` then land inside the new root.
    public var stagingMounts: [Mount] = []

    /// The `PATH` the command is searched in: the spec's own, else the usual default.
    public var searchPath: String {
        environment.last { $0.hasPrefix("PATH=") }.map { String($0.dropFirst(5)) }
            ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    }
}

/// A spec that cannot work, found before anything is created. The message says what to add.
public struct SpecError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension SandboxSpec {
    /// Checks the combinations the kernel would refuse later with a bare errno.
    public func validate() throws(SpecError) {
        if keepAlive {
            guard namespaces.contains(.pid) else { throw SpecError("a sandbox kept alive by its init needs a new pid namespace (--pid)") }
        } else if command.first?.isEmpty ?? true {
            throw SpecError("no command to run: give one after `--`")
        }
        if hostname != nil && !namespaces.contains(.uts) {
            throw SpecError("setting a hostname needs a new UTS namespace (--uts), or the host's would change")
        }
        if let hostname, hostname.utf8.count > 64 || hostname.isEmpty {
            throw SpecError("hostname '\(hostname)' must be 1 to 64 bytes long")
        }
        if namespaces.contains(.user) && userMapping == nil {
            throw SpecError("a new user namespace needs a uid/gid mapping")
        }
        if userMapping != nil && !namespaces.contains(.user) {
            throw SpecError("a uid/gid mapping (--map-root) needs a new user namespace (--user)")
        }
        if awaitsFilesystem && (namespaces.contains(.mount) || !mounts.isEmpty || root != nil) {
            throw SpecError("a sandbox that awaits its filesystem gets its mount namespace built for it: no --mount, mounts or root of its own")
        }
        if userNamespaceCreator != nil && !namespaces.contains(.user) {
            throw SpecError("a user namespace creator needs a new user namespace (--user)")
        }
        if !mounts.isEmpty && !namespaces.contains(.mount) {
            throw SpecError("mounts (\(mounts[0].target)) need a new mount namespace (--mount), or they would land on the host")
        }
        if case .pivot = root, !namespaces.contains(.mount) {
            throw SpecError("--root uses pivot_root, which needs a new mount namespace (--mount); or use --chroot")
        }
        if loopbackUp && !namespaces.contains(.net) {
            throw SpecError("bringing up loopback needs a new network namespace (--net), or the host's would change")
        }
        if let root, !root.path.hasPrefix("/") {
            throw SpecError("the new root '\(root.path)' must be an absolute path")
        }
        for mount in mounts where !mount.target.hasPrefix("/") {
            throw SpecError("mount target '\(mount.target)' must be an absolute path inside the sandbox")
        }
        for mount in mounts {
            if case .overlay(let lower, let upper, let work, _) = mount {
                // The kernel's option parser splits on ',' and ':' with no escaping we can rely on.
                for path in lower + [upper, work] where path.contains(",") || path.contains(":") {
                    throw SpecError("overlay layer path '\(path)' may not contain ',' or ':'")
                }
            }
        }
        for entry in environment where !entry.contains("=") {
            throw SpecError("environment entry '\(entry)' is not KEY=VALUE")
        }
        if command.contains(where: { $0.utf8.contains(0) }) || environment.contains(where: { $0.utf8.contains(0) }) {
            throw SpecError("the command and environment may not contain NUL bytes")
        }
    }
}
