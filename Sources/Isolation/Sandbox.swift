internal import CGantry
internal import Glibc
internal import POSIXSupport

/// How a new sandbox process joins its cgroup without being moved from outside (which takes
/// the kernel's global migration lock and, with it, an RCU grace period: see
/// `Cgroup.entryFiles`). The descriptors are the caller's and stay open until the call
/// returns.
public struct CgroupPlacement: Sendable {
    /// A cgroup v2 directory the child is born in (clone3's CLONE_INTO_CGROUP).
    public var bornInto: Int32?
    /// cgroup v1 `tasks` files the child writes "0" to, moving itself, once released.
    public var tasks: [Int32]
    /// The same, after it made its late namespaces: a keeper's cgroup namespace is rooted
    /// at the group it was in, and it lives in a leaf below.
    public var tasksAfterUnshare: [Int32]

    public init(bornInto: Int32?, tasks: [Int32] = [], tasksAfterUnshare: [Int32] = []) {
        self.bornInto = bornInto
        self.tasks = tasks
        self.tasksAfterUnshare = tasksAfterUnshare
    }
}

/// Starts processes in fresh namespaces (`spawn`) or in the namespaces of an existing one
/// (`enter`). The child side is C (CGantry): the recipe is built here, before clone.
public enum Sandbox {
    /// Creates the namespaces, sets up the filesystem and execs the command.
    /// Returns once the command runs; a failure on the way throws with the failing step.
    ///
    /// `prepare` runs in the parent after the child exists (its namespaces made, its ids
    /// mapped) and before it goes on: the moment to give it a veth or a cgroup, so the command
    /// never sees itself without them. If it throws, the child is killed and nothing runs.
    /// `cgroup` says how the child joins its cgroup (`CgroupPlacement`) before it goes on.
    public static func spawn(
        _ spec: SandboxSpec, io: StandardIO = .inherit, cgroup: CgroupPlacement? = nil,
        prepare: ((_ pid: Int32) throws -> Void)? = nil
    ) throws(IsolationError) -> SandboxProcess {
        let (recipe, terminal) = try prepared(spec, io: io)
        let (child, report) = try launch(
            recipe, joins: [], mapping: spec.userMapping, io: io, terminal: terminal,
            cgroup: cgroup, prepare: prepare)
        return try process(child, report, recipe: recipe, terminal: terminal)
    }

    /// Like `spawn`, for a spec that `awaitsFilesystem`: the child's namespaces exist and it
    /// waits for the mount namespace to move into (`PendingSandbox.complete`). Meanwhile its
    /// namespaces can be joined by the builder of that filesystem.
    public static func spawnAwaitingFilesystem(
        _ spec: SandboxSpec, cgroup: CgroupPlacement? = nil,
        prepare: ((_ pid: Int32) throws -> Void)? = nil
    ) throws(IsolationError) -> PendingSandbox {
        guard spec.awaitsFilesystem else {
            throw IsolationError(SpecError("spawnAwaitingFilesystem needs a spec that awaits its filesystem"))
        }
        let io = StandardIO.descriptors(input: nil, output: nil, error: nil)
        let (recipe, terminal) = try prepared(spec, io: io)
        var (child, report) = try launch(
            recipe, joins: [], mapping: spec.userMapping, io: io, terminal: terminal,
            cgroup: cgroup, prepare: prepare)
        guard report.kind == Int32(GANTRY_REPORT_AWAITING.rawValue) else {
            gantry_abandon(&child)
            reap(child)
            throw IsolationError(stage: .joinMountNamespace, cause: Errno(EPROTO), subject: "the sandbox did not wait for its filesystem")
        }
        return PendingSandbox(child: child, recipe: recipe)
    }

    /// Builds a mount namespace with the host's privileges and hands it over locked.
    ///
    /// A child that is root on the host, in a new mount namespace and in `joining`'s other
    /// namespaces (a pid namespace is entered by forking), makes `spec`'s staging mounts and
    /// mounts and changes root; only the host's root may make some of them (idmapped trees,
    /// `MountTree`), and /proc and /sys must be mounted from inside the pid and network
    /// namespaces they show. Then it joins the user namespace at `userNamespace` and makes a
    /// new mount namespace there: the kernel copies every mount into it locked (flags and all),
    /// so a root that user namespace has cannot remount them writable or unmount them to see
    /// what they cover. That namespace is returned, as a descriptor for `setns`, with the
    /// builder, which ends by itself (`BuiltMountNamespace`).
    ///
    /// runc and bubblewrap get the same effect by making mounts before the sandbox's user
    /// namespace owns its mount namespace.
    public static func buildMountNamespace(
        _ spec: SandboxSpec, joining target: EnterTarget,
        lockingInto userNamespace: String
    ) throws(IsolationError) -> BuiltMountNamespace {
        var recipe: Recipe
        do { recipe = try Recipe(filesystemOf: spec) } catch { throw IsolationError(error) }
        let joins = try target.open()
        defer { for join in joins { close(join.fd) } }
        let lock = try IsolationError.call(.openNamespace, userNamespace) { Glibc.open(userNamespace, O_RDONLY | O_CLOEXEC) }
        defer { close(lock) }
        var (child, report) = try launch(
            recipe, joins: joins, mapping: nil, io: .descriptors(input: nil, output: nil, error: nil),
            terminal: .none, cgroup: nil, prepare: nil, lockInto: lock,
            forkAfterJoins: joins.contains { $0.namespace == .pid })
        // The builder exits once it has sent the namespace (the descriptor holds it).
        gantry_abandon(&child)
        guard report.kind == Int32(GANTRY_REPORT_MOUNT_NAMESPACE.rawValue), report.fd >= 0 else {
            reap(child, kill: false)
            if report.fd >= 0 { close(report.fd) }
            throw IsolationError(stage: .lockMounts, cause: Errno(EPROTO), subject: "the builder sent no mount namespace")
        }
        return BuiltMountNamespace(descriptor: report.fd, builder: SandboxProcess(pid: child.pid, pidfd: child.pidfd, terminal: nil))
    }

    /// Runs a command inside the namespaces of `target` (nsenter's job): the given namespaces
    /// are joined with setns, user first. Joining a pid namespace takes one more fork, so the
    /// command runs under a small relay that forwards signals and passes its status back.
    /// `cgroup` and `prepare` work as for `spawn` (the relay is placed before it forks the
    /// command, which inherits the group). `terminalFromTarget` opens a `.terminal` in the
    /// target's own /dev/pts (it must have a private devpts). `becomeRoot` sets the ids to the
    /// joined user namespace's 0, for a target whose root is not the host's.
    public static func enter(
        _ target: EnterTarget, command: [String], environment: [String],
        workingDirectory: String? = "/", io: StandardIO = .inherit, cgroup: CgroupPlacement? = nil,
        terminalFromTarget: Bool = false, becomeRoot: Bool = false, newSession: Bool = false,
        prepare: ((_ pid: Int32) throws -> Void)? = nil
    ) throws(IsolationError) -> SandboxProcess {
        var spec = SandboxSpec(command: command, environment: environment, workingDirectory: workingDirectory)
        spec.useInit = false
        spec.becomeRoot = becomeRoot
        spec.newSession = newSession
        var recipe: Recipe
        do { recipe = try Recipe(spec) } catch { throw IsolationError(error) }
        let joins = try target.open()
        defer { for join in joins { close(join.fd) } }
        recipe.useInit = joins.contains { $0.namespace == .pid }
        var terminalMode = TerminalMode.none
        if case .terminal(let rows, let columns) = io {
            // From the target's own devpts (after joining its mount namespace), so `tty`
            // inside names a terminal that exists there.
            terminalMode =
                terminalFromTarget
                ? .inside(rows: rows, columns: columns)
                : .given(try PseudoTerminal(rows: rows, columns: columns))
        }
        let (child, report) = try launch(
            recipe, joins: joins, mapping: nil, io: io, terminal: terminalMode,
            cgroup: cgroup, prepare: prepare)
        return try process(child, report, recipe: recipe, terminal: terminalMode)
    }

    /// Makes this process the reaper of its orphaned descendants (PR_SET_CHILD_SUBREAPER),
    /// instead of whatever subreaper or init is above it. A process that owns sandboxes it
    /// enters needs this: an entered command whose relay died is otherwise adopted by an
    /// ancestor that may never reap it, and a dying pid-namespace init waits for exactly that.
    public static func adoptOrphans() {
        _ = gantry_become_subreaper()
    }

    enum TerminalMode {
        case none
        case given(PseudoTerminal)
        case inside(rows: UInt16, columns: UInt16)
    }

    /// The recipe for `spec` and how its terminal is made.
    private static func prepared(_ spec: SandboxSpec, io: StandardIO) throws(IsolationError) -> (Recipe, TerminalMode) {
        let recipe: Recipe
        do { recipe = try Recipe(spec) } catch { throw IsolationError(error) }
        var terminalMode = TerminalMode.none
        if case .terminal(let rows, let columns) = io {
            terminalMode =
                spec.hasPrivateDevpts
                ? .inside(rows: rows, columns: columns)
                : .given(try PseudoTerminal(rows: rows, columns: columns))
        }
        return (recipe, terminalMode)
    }

    /// The running process a report stands for: one that exec'd its command, or a keeper
    /// (which keeps the sync socket as its line to us).
    fileprivate static func process(
        _ child: gantry_child, _ report: gantry_report, recipe: Recipe,
        terminal: TerminalMode
    ) throws(IsolationError) -> SandboxProcess {
        var child = child
        let kind = report.kind
        guard kind == Int32(GANTRY_REPORT_EXECUTED.rawValue) || kind == Int32(GANTRY_REPORT_READY.rawValue) else {
            gantry_abandon(&child)
            reap(child)
            throw IsolationError(stage: .release, cause: Errno(EPROTO), subject: "unexpected report \(kind) from the child")
        }
        if recipe.useInit || recipe.keepAlive { protectInitFromOOMKiller(child.pid) }
        var terminalMaster: Int32? = report.tty_master >= 0 ? report.tty_master : nil
        if case .given(let pty) = terminal {
            terminalMaster = pty.takePrimary()
        }
        let ownerLine: Int32? = kind == Int32(GANTRY_REPORT_READY.rawValue) ? child.sync_fd : nil
        return SandboxProcess(pid: child.pid, pidfd: child.pidfd, terminal: terminalMaster, ownerLine: ownerLine)
    }

    /// Clones the child, writes its id maps, runs `prepare`, releases it and waits for its
    /// first report. On any failure the child is killed and reaped.
    fileprivate static func launch(
        _ recipe: Recipe, joins: [EnterTarget.Join], mapping: UserMapping?,
        io: StandardIO, terminal: TerminalMode, cgroup: CgroupPlacement?,
        prepare: ((Int32) throws -> Void)?, lockInto: Int32 = -1,
        forkAfterJoins: Bool = false
    ) throws(IsolationError) -> (gantry_child, gantry_report) {
        let arena = CArena()
        var raw = recipe.cRecipe(in: arena)
        raw.cgroup_fd = cgroup?.bornInto ?? -1
        if let cgroup {
            let now = arena.array(of: Int32.self, count: cgroup.tasks.count)
            for (index, fd) in cgroup.tasks.enumerated() { now[index] = fd }
            let later = arena.array(of: Int32.self, count: cgroup.tasksAfterUnshare.count)
            for (index, fd) in cgroup.tasksAfterUnshare.enumerated() { later[index] = fd }
            (raw.cgroup_tasks_fds, raw.cgroup_tasks_count) = (UnsafePointer(now), cgroup.tasks.count)
            (raw.cgroup_later_fds, raw.cgroup_later_count) = (UnsafePointer(later), cgroup.tasksAfterUnshare.count)
        }
        raw.lock_userns_fd = lockInto
        raw.fork_after_joins = forkAfterJoins ? 1 : 0
        let cJoins = arena.array(of: gantry_join.self, count: joins.count)
        for (index, join) in joins.enumerated() {
            cJoins[index] = gantry_join(fd: join.fd, nstype: join.namespace.rawValue)
        }
        raw.joins = UnsafePointer(cJoins)
        raw.join_count = joins.count
        if case .descriptors(let input, let output, let error) = io {
            raw.stdin_fd = input ?? -1
            raw.stdout_fd = output ?? -1
            raw.stderr_fd = error ?? -1
        }
        switch terminal {
        case .none: break
        case .given(let pty):
            raw.tty_mode = Int32(GANTRY_TTY_GIVEN.rawValue)
            raw.tty_fd = pty.replica
        case .inside(let rows, let columns):
            raw.tty_mode = Int32(GANTRY_TTY_INSIDE.rawValue)
            raw.tty_rows = rows
            raw.tty_cols = columns
        }
        if recipe.keepAlive, let image = InheritedImage.ranges {
            raw.scrub_start = (image.arguments.lowerBound, image.environment.lowerBound)
            raw.scrub_end = (image.arguments.upperBound, image.environment.upperBound)
        }

        var child = gantry_child()
        var failure = gantry_failure()
        guard gantry_clone(&raw, &child, &failure) == 0 else {
            throw error(from: failure, recipe: recipe, joins: joins, cgroupGiven: cgroup?.bornInto != nil)
        }
        do throws(IsolationError) {
            if let mapping { try writeMapping(mapping, pid: child.pid) }
            do {
                try prepare?(child.pid)
            } catch {
                throw IsolationError(stage: .prepare, cause: Errno(0), detail: "\(error)")
            }
        } catch {
            gantry_abandon(&child)
            reap(child)
            throw error
        }
        var report = gantry_report()
        guard gantry_release(&child, &report, &failure) == 0 else {
            // A child that forked into a pid namespace waits for that fork before it exits;
            // killed first, it would leave the fork to us as an orphan nobody reaps, and a
            // dying pid-namespace init waits for exactly that. It exits by itself after a
            // failure report.
            reap(child, kill: !forkAfterJoins)
            throw error(from: failure, recipe: recipe, joins: joins)
        }
        withExtendedLifetime(arena) {}
        return (child, report)
    }

    /// Writes uid_map, then "deny" to setgroups (required before gid_map without root, and
    /// harmless to skip with root, where tools inside may still want setgroups), then gid_map.
    private static func writeMapping(_ mapping: UserMapping, pid: Int32) throws(IsolationError) {
        if case .helpers(let newuidmap, let newgidmap) = mapping.writer {
            try runHelper(newuidmap, [String(pid)] + mapping.helperArguments(mapping.uids))
            try runHelper(newgidmap, [String(pid)] + mapping.helperArguments(mapping.gids))
            return
        }
        try writeProcFile("/proc/\(pid)/uid_map", mapping.uidMapText)
        if geteuid() != 0 {
            try writeProcFile("/proc/\(pid)/setgroups", "deny")
        }
        try writeProcFile("/proc/\(pid)/gid_map", mapping.gidMapText)
    }

    /// Runs newuidmap or newgidmap and waits: they refuse (and say why on stderr, which the
    /// user sees) a range /etc/subuid or /etc/subgid does not give the caller.
    private static func runHelper(_ path: String, _ arguments: [String]) throws(IsolationError) {
        var pid: pid_t = 0
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let spawned = posix_spawn(&pid, path, nil, nil, argv, environ)
        guard spawned == 0 else { throw IsolationError(stage: .writeIDMap, cause: Errno(spawned), subject: path) }
        var status: Int32 = 0
        _ = try? POSIX.call { waitpid(pid, &status, 0) }
        guard ExitStatus(waitStatus: status) == .exited(0) else {
            throw IsolationError(
                stage: .writeIDMap, cause: .notPermitted, subject: ([path] + arguments).joined(separator: " "),
                hint: "\(path) refused the map: check your ranges in /etc/subuid and /etc/subgid")
        }
    }

    private static func writeProcFile(_ path: String, _ text: String) throws(IsolationError) {
        let fd = try IsolationError.call(.writeIDMap, path) { open(path, O_WRONLY | O_CLOEXEC) }
        defer { close(fd) }
        // The kernel takes a map in a single write() or not at all.
        try IsolationError.call(.writeIDMap, path) { text.withCString { write(fd, $0, strlen($0)) } }
    }

    /// The init is the sandbox: if the OOM killer picks it (it may, as a second victim while
    /// the first is still being reaped), everything inside dies with it. Release returns only
    /// after the command was forked and exec'd, so the command keeps the default score and
    /// stays the one a memory hog's OOM kills. Lowering a score needs CAP_SYS_RESOURCE on the
    /// host, so without root the init is simply not protected.
    private static func protectInitFromOOMKiller(_ pid: Int32) {
        guard geteuid() == 0 else { return }
        try? writeProcFile("/proc/\(pid)/oom_score_adj", "-1000")
    }

    fileprivate static func reap(_ child: gantry_child, kill killFirst: Bool = true) {
        var status: Int32 = 0
        if killFirst { kill(child.pid, SIGKILL) }
        _ = try? POSIX.call { waitpid(child.pid, &status, 0) }
        if child.pidfd >= 0 { close(child.pidfd) }
    }

    fileprivate static func error(
        from failure: gantry_failure, recipe: Recipe, joins: [EnterTarget.Join],
        cgroupGiven: Bool = false
    ) -> IsolationError {
        let stage: IsolationError.Stage
        var subject: String?
        let index = Int(failure.index)
        let step = recipe.steps.indices.contains(index) ? recipe.steps[index] : nil
        switch gantry_stage(UInt32(failure.stage)) {
        case GANTRY_STAGE_SOCKETPAIR: stage = .socketpair
        case GANTRY_STAGE_CLONE:
            stage = .clone
            subject = recipe.namespaces.members.compactMap(\.procName).joined(separator: ",")
            if cgroupGiven { subject! += (subject!.isEmpty ? "" : ", ") + "into cgroup" }
        case GANTRY_STAGE_RELEASE: stage = .release
        case GANTRY_STAGE_UNSHARE_LATE: stage = .unshareLate; subject = "cgroup"
        case GANTRY_STAGE_SETNS:
            stage = .setns
            subject = joins.indices.contains(index) ? joins[index].path : nil
        case GANTRY_STAGE_STDIO: stage = .stdio; subject = "fd \(index)"
        case GANTRY_STAGE_MAKE_RSLAVE: stage = .makeRslave
        case GANTRY_STAGE_MOUNT: stage = .mount; subject = step?.description
        case GANTRY_STAGE_BIND: stage = .bind; subject = step?.description
        case GANTRY_STAGE_BIND_READ_ONLY: stage = .bindReadOnly; subject = step?.target
        case GANTRY_STAGE_MKDIR: stage = .mkdir; subject = step?.target
        case GANTRY_STAGE_SYMLINK: stage = .symlink; subject = step?.target
        case GANTRY_STAGE_MOUNTPOINT: stage = .mountpoint; subject = step?.target
        case GANTRY_STAGE_PIVOT_ROOT: stage = .pivotRoot; subject = recipe.root?.path
        case GANTRY_STAGE_DETACH_OLD_ROOT: stage = .detachOldRoot; subject = recipe.root?.path
        case GANTRY_STAGE_CHROOT: stage = .chroot; subject = recipe.root?.path
        case GANTRY_STAGE_HOSTNAME: stage = .hostname; subject = recipe.hostname
        case GANTRY_STAGE_LOOPBACK: stage = .loopback
        case GANTRY_STAGE_TTY: stage = .terminal
        case GANTRY_STAGE_CHDIR: stage = .chdir; subject = recipe.workingDirectory
        case GANTRY_STAGE_NO_NEW_PRIVS: stage = .noNewPrivileges
        case GANTRY_STAGE_INIT_FORK: stage = .initFork
        case GANTRY_STAGE_SETSID: stage = .setsid
        case GANTRY_STAGE_CREDENTIALS:
            stage = .credentials
            subject = ["setgroups", "setresgid", "setresuid"].indices.contains(index) ? ["setgroups", "setresgid", "setresuid"][index] : nil
        case GANTRY_STAGE_JOIN_MOUNT_NS: stage = .joinMountNamespace
        case GANTRY_STAGE_LOCK:
            stage = .lockMounts
            subject =
                ["setns user", "unshare mount", "open /proc/self/ns/mnt", "send"].indices.contains(index)
                ? ["setns user", "unshare mount", "open /proc/self/ns/mnt", "send"][index] : nil
        case GANTRY_STAGE_ATTACH: stage = .attach; subject = step?.target
        case GANTRY_STAGE_CREATOR: stage = .creator; subject = recipe.userNamespaceCreator.map { "uid \($0.uid)" }
        case GANTRY_STAGE_CGROUP: stage = .cgroupTasks; subject = "hierarchy \(index + 1)"
        default: stage = .exec; subject = recipe.argv.first
        }
        return IsolationError(stage: stage, cause: Errno(failure.error), subject: subject)
    }
}

extension SandboxSpec {
    /// Whether the sandbox gets its own devpts at /dev/pts, where a PTY can be opened inside.
    var hasPrivateDevpts: Bool {
        mounts.contains { mount in
            switch mount {
            case .minimalDev(let at, _): at == "/dev"
            case .devpts(let at): at == "/dev/pts"
            default: false
            }
        }
    }
}

extension Recipe {
    /// The C view of the recipe; every pointer lives in `arena`.
    func cRecipe(in arena: CArena) -> gantry_recipe {
        var raw = gantry_recipe()
        raw.namespaces = namespaces.rawValue
        raw.late_namespaces = lateNamespaces.rawValue
        raw.argv = arena.stringArray(argv)
        raw.envp = arena.stringArray(environment)
        raw.search_path = arena.string(searchPath)
        raw.stdin_fd = -1
        raw.stdout_fd = -1
        raw.stderr_fd = -1
        raw.tty_fd = -1
        raw.make_rslave = makeRslave ? 1 : 0
        let ops = arena.array(of: gantry_op.self, count: steps.count)
        for (index, step) in steps.enumerated() {
            ops[index] = gantry_op(
                kind: step.kind.rawValue, source: arena.string(step.source), target: arena.string(step.target),
                fstype: arena.string(step.fstype), data: arena.string(step.data), flags: step.flags.rawValue,
                mode: step.mode, recursive: step.recursive ? 1 : 0, read_only: step.readOnly ? 1 : 0,
                early_source: step.earlySource ? 1 : 0, fd: step.descriptor,
                owner_uid: step.owner.map { Int32(bitPattern: $0.uid) } ?? -1,
                owner_gid: step.owner.map { Int32(bitPattern: $0.gid) } ?? -1, in_root: step.insideRoot ? 1 : 0)
        }
        raw.ops = UnsafePointer(ops)
        raw.op_count = steps.count
        switch root {
        case .pivot(let path):
            raw.root_mode = Int32(GANTRY_ROOT_PIVOT.rawValue)
            raw.root = arena.string(path)
        case .chroot(let path):
            raw.root_mode = Int32(GANTRY_ROOT_CHROOT.rawValue)
            raw.root = arena.string(path)
        case nil:
            raw.root_mode = Int32(GANTRY_ROOT_KEEP.rawValue)
        }
        raw.hostname = arena.string(hostname)
        raw.cwd = arena.string(workingDirectory)
        raw.loopback_up = loopbackUp ? 1 : 0
        raw.no_new_privs = noNewPrivileges ? 1 : 0
        raw.new_session = newSession ? 1 : 0
        raw.use_init = keepAlive ? GANTRY_INIT_KEEP : (useInit ? 1 : 0)
        raw.cgroup_fd = -1
        raw.creator_uid = userNamespaceCreator.map { Int32(bitPattern: $0.uid) } ?? -1
        raw.creator_gid = userNamespaceCreator.map { Int32(bitPattern: $0.gid) } ?? -1
        raw.become_root = becomeRoot ? 1 : 0
        raw.await_mount_namespace = awaitsFilesystem ? 1 : 0
        raw.lock_userns_fd = -1
        return raw
    }
}

/// A mount namespace `Sandbox.buildMountNamespace` made.
public struct BuiltMountNamespace: Sendable {
    /// For `setns`; the caller's to close.
    public let descriptor: Int32
    /// The builder, which ends by itself once it has sent the namespace: the caller waits for
    /// it when convenient. Its end is a chain of wake-ups (its child in the pid namespace
    /// exits, then it), ~0.5 ms that need not be on the way to a lab's first prompt.
    public let builder: SandboxProcess
}

/// A sandbox whose namespaces exist and which waits for its filesystem: the mount namespace
/// `Sandbox.buildMountNamespace` makes for it. Dropping it unfinished kills it.
public final class PendingSandbox {
    /// The host pid; its `/proc/PID/ns/*` are what the builder joins.
    public let pid: Int32
    private var child: gantry_child
    private let recipe: Recipe
    private var finished = false

    fileprivate init(child: gantry_child, recipe: Recipe) {
        self.child = child
        self.recipe = recipe
        pid = child.pid
    }

    deinit {
        guard !finished else { return }
        gantry_abandon(&child)
        Sandbox.reap(child)
    }

    /// Moves the sandbox into `mountNamespace` and lets it run; the descriptor stays the
    /// caller's.
    public func complete(mountNamespace: Int32) throws(IsolationError) -> SandboxProcess {
        finished = true
        var report = gantry_report()
        var failure = gantry_failure()
        guard gantry_continue(&child, mountNamespace, &report, &failure) == 0 else {
            Sandbox.reap(child)
            throw Sandbox.error(from: failure, recipe: recipe, joins: [])
        }
        return try Sandbox.process(child, report, recipe: recipe, terminal: .none)
    }
}

/// Detached mount trees (open_tree), made by the host's root, to attach in a sandbox
/// (`Mount.tree`).
public enum MountTree {
    /// A read-only copy of the mount at `path`, idmapped through the user namespace at
    /// `userNamespace` when given: the host's files then look owned, inside, by the ids their
    /// owners map to (root's by the sandbox's root), so that sandbox's root can use them as its
    /// own while every write lands elsewhere (an overlay above it). Only the host's root may
    /// make one, and only on filesystems that support idmapping; the error says which.
    public static func readOnly(_ path: String, idmappedThrough userNamespace: String?) throws(IsolationError) -> Int32 {
        var namespaceFD: Int32 = -1
        if let userNamespace {
            namespaceFD = try IsolationError.call(.openNamespace, userNamespace) { Glibc.open(userNamespace, O_RDONLY | O_CLOEXEC) }
        }
        defer { if namespaceFD >= 0 { close(namespaceFD) } }
        var failedCall: Int32 = 0
        do { return try POSIX.call { gantry_detached_tree(path, 0, namespaceFD, 1, &failedCall) } } catch {
            throw IsolationError(stage: failedCall == 1 ? .openTree : .idmap, cause: error, subject: path)
        }
    }
}

/// Where this process's argument and environment strings are (/proc/self/stat's arg_start,
/// arg_end, env_start, env_end): a keeper, which never execs, would show them as its own.
enum InheritedImage {
    static let ranges: (arguments: Range<UInt>, environment: Range<UInt>)? =
        ProcFS.stat("self").map { ($0.arguments, $0.environment) }
}

/// Files as a process sees them, opened from outside.
public enum ProcessRoot {
    /// Opens `path` (absolute, or relative to the root) as process `pid` would resolve it:
    /// from `/proc/PID/root` with RESOLVE_IN_ROOT, so `..` and absolute symlinks stay inside
    /// that root, never reaching the caller's own files (which a plain open of
    /// `/proc/PID/root/path` would, for an absolute symlink). -1 with errno on failure.
    public static func open(_ path: String, of pid: Int32, only: Purpose = .reading) -> Int32 {
        let root = Glibc.open("/proc/\(pid)/root", pathOnly | O_DIRECTORY | O_CLOEXEC)
        guard root >= 0 else { return -1 }
        defer { close(root) }
        let relative = String(path.drop { $0 == "/" })
        let flags: Int32 =
            switch only {
            case .reading: O_RDONLY
            case .locating: pathOnly
            case .locatingItself: pathOnly | O_NOFOLLOW
            }
        return gantry_open_in_root(root, relative.isEmpty ? "." : relative, flags)
    }

    /// Open to read; to find (O_PATH, following a final symlink); or to find the final
    /// symlink itself.
    public enum Purpose: Sendable { case reading, locating, locatingItself }

    /// O_PATH, which Swift's Glibc module leaves out (it is _GNU_SOURCE).
    static let pathOnly: Int32 = 0o10000000
}
