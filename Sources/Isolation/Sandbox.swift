internal import CGantry
internal import Glibc

/// Starts processes in fresh namespaces (`spawn`) or in the namespaces of an existing one
/// (`enter`). The child side is C (CGantry): the recipe is built here, before clone.
public enum Sandbox {
    /// Creates the namespaces, sets up the filesystem and execs the command.
    /// Returns once the command runs; a failure on the way throws with the failing step.
    ///
    /// `prepare` runs in the parent after the child exists (its namespaces made, its ids
    /// mapped) and before it goes on: the moment to give it a veth or a cgroup, so the command
    /// never sees itself without them. If it throws, the child is killed and nothing runs.
    /// `cgroup` is a cgroup v2 directory descriptor to be born in (clone3 CLONE_INTO_CGROUP).
    public static func spawn(_ spec: SandboxSpec, io: StandardIO = .inherit, cgroup: Int32? = nil,
                             prepare: ((_ pid: Int32) throws -> Void)? = nil) throws(IsolationError) -> SandboxProcess {
        let recipe: Recipe
        do { recipe = try Recipe(spec) } catch { throw IsolationError(error) }
        var terminalMode = TerminalMode.none
        if case .terminal(let rows, let columns) = io {
            terminalMode = spec.hasPrivateDevpts ? .inside(rows: rows, columns: columns)
                : .given(try PseudoTerminal(rows: rows, columns: columns))
        }
        return try launch(recipe, joins: [], mapping: spec.userMapping, io: io, terminal: terminalMode,
                          cgroup: cgroup, prepare: prepare)
    }

    /// Runs a command inside the namespaces of `target` (nsenter's job): the given namespaces
    /// are joined with setns, user first. Joining a pid namespace takes one more fork, so the
    /// command runs under a small relay that forwards signals and passes its status back.
    /// `cgroup` and `prepare` work as for `spawn` (the relay is placed before it forks the
    /// command, which inherits the group). `terminalFromTarget` opens a `.terminal` in the
    /// target's own /dev/pts (it must have a private devpts).
    public static func enter(_ target: EnterTarget, command: [String], environment: [String],
                             workingDirectory: String? = "/", io: StandardIO = .inherit, cgroup: Int32? = nil,
                             terminalFromTarget: Bool = false,
                             prepare: ((_ pid: Int32) throws -> Void)? = nil) throws(IsolationError) -> SandboxProcess {
        var spec = SandboxSpec(command: command, environment: environment, workingDirectory: workingDirectory)
        spec.useInit = false
        var recipe: Recipe
        do { recipe = try Recipe(spec) } catch { throw IsolationError(error) }
        let joins = try target.open()
        defer { for join in joins { close(join.fd) } }
        recipe.useInit = joins.contains { $0.namespace == .pid }
        var terminalMode = TerminalMode.none
        if case .terminal(let rows, let columns) = io {
            // From the target's own devpts (after joining its mount namespace), so `tty`
            // inside names a terminal that exists there.
            terminalMode = terminalFromTarget ? .inside(rows: rows, columns: columns)
                : .given(try PseudoTerminal(rows: rows, columns: columns))
        }
        return try launch(recipe, joins: joins, mapping: nil, io: io, terminal: terminalMode, cgroup: cgroup, prepare: prepare)
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

    private static func launch(_ recipe: Recipe, joins: [EnterTarget.Join], mapping: UserMapping?,
                               io: StandardIO, terminal: TerminalMode, cgroup: Int32?,
                               prepare: ((Int32) throws -> Void)?) throws(IsolationError) -> SandboxProcess {
        let arena = CArena()
        var raw = recipe.cRecipe(in: arena)
        raw.cgroup_fd = cgroup ?? -1
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

        var child = gantry_child()
        var failure = gantry_failure()
        guard gantry_clone(&raw, &child, &failure) == 0 else {
            throw error(from: failure, recipe: recipe, joins: joins, cgroupGiven: cgroup != nil)
        }
        do throws(IsolationError) {
            if let mapping { try writeMapping(mapping, pid: child.pid) }
            do {
                try prepare?(child.pid)
            } catch {
                throw IsolationError(stage: .prepare, errno: 0, detail: "\(error)")
            }
        } catch {
            gantry_abandon(&child)
            reap(child)
            throw error
        }
        var master: Int32 = -1
        guard gantry_release(&child, &master, &failure) == 0 else {
            reap(child)
            throw error(from: failure, recipe: recipe, joins: joins)
        }
        withExtendedLifetime(arena) {}
        if recipe.useInit || recipe.keepAlive { protectInitFromOOMKiller(child.pid) }
        var terminalMaster: Int32? = master >= 0 ? master : nil
        if case .given(let pty) = terminal {
            terminalMaster = pty.takePrimary()
        }
        return SandboxProcess(pid: child.pid, pidfd: child.pidfd, terminal: terminalMaster)
    }

    /// Writes uid_map, then "deny" to setgroups (required before gid_map without root, and
    /// harmless to skip with root, where tools inside may still want setgroups), then gid_map.
    private static func writeMapping(_ mapping: UserMapping, pid: Int32) throws(IsolationError) {
        try writeProcFile("/proc/\(pid)/uid_map", mapping.uidMapText)
        if geteuid() != 0 {
            try writeProcFile("/proc/\(pid)/setgroups", "deny")
        }
        try writeProcFile("/proc/\(pid)/gid_map", mapping.gidMapText)
    }

    private static func writeProcFile(_ path: String, _ text: String) throws(IsolationError) {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw IsolationError(stage: .writeIDMap, errno: errno, subject: path) }
        defer { close(fd) }
        // The kernel takes a map in a single write() or not at all.
        let written = text.withCString { write(fd, $0, strlen($0)) }
        if written < 0 { throw IsolationError(stage: .writeIDMap, errno: errno, subject: path) }
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

    private static func reap(_ child: gantry_child) {
        var status: Int32 = 0
        kill(child.pid, SIGKILL)
        while waitpid(child.pid, &status, 0) < 0 && errno == EINTR {}
        if child.pidfd >= 0 { close(child.pidfd) }
    }

    private static func error(from failure: gantry_failure, recipe: Recipe, joins: [EnterTarget.Join],
                              cgroupGiven: Bool = false) -> IsolationError {
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
        default: stage = .exec; subject = recipe.argv.first
        }
        return IsolationError(stage: stage, errno: failure.error, subject: subject)
    }
}

extension SandboxSpec {
    /// Whether the sandbox gets its own devpts at /dev/pts, where a PTY can be opened inside.
    var hasPrivateDevpts: Bool {
        mounts.contains { mount in
            switch mount {
            case .minimalDev(let at): at == "/dev"
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
                early_source: step.earlySource ? 1 : 0)
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
        raw.use_init = keepAlive ? GANTRY_INIT_KEEP : (useInit ? 1 : 0)
        raw.cgroup_fd = -1
        return raw
    }
}
