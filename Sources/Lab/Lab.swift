public import Cgroups
internal import Glibc
public import Isolation
public import Ledger
internal import Netlink
public import POSIXSupport
import Synchronization

/// A disposable Linux machine: its own user (root inside), mount, pid, uts, ipc, net and
/// cgroup namespaces, the host's files under copy-on-write overlays, fresh /proc, /dev, /sys,
/// /tmp, /run, /root, /home, a hostname, lo up, and a cgroup with lab-wide limits that it
/// sees as its whole /sys/fs/cgroup.
///
/// The lab's root is never the host's root. As root, the lab's ids 0–65535 are a block of
/// unprivileged host ids (`LabIDRange`), its user namespace is created by the first of them,
/// the host's directories are seen through idmapped views (so the lab's root owns what the
/// host's root owns, inside, and every write lands in the overlay), and its mounts are made
/// by the host's root and handed over locked (`Sandbox.buildMountNamespace`): nothing in the
/// lab can remount /proc/sys or /sys writable, and the host's sysctls, sysfs knobs and files
/// check against ids the lab does not have. Without root, the lab's root is the user.
///
/// Its pid 1 is Gantry's init in keeper mode: it runs no command, reaps whatever is entered
/// into the lab, ignores every signal sent from inside (so `exit` or `kill -9 -1` in a
/// learner's shell cannot end the lab), and ends when its owner does — the Gantry that made
/// it, however that one ends. Shells and probe commands are entered with setns. Destroying
/// the lab kills its cgroup (everything in it, nested groups included) and so its pid
/// namespace; the kernel frees the namespaces, overlays and links with them. The one side
/// effect the kernel would not undo, the cgroup, is in the ledger before it exists.
public final class Lab: Sendable {
    public let id: String
    public let configuration: LabConfiguration
    /// The keeper init, in the host's pid namespace.
    public let initProcess: SandboxProcess
    /// The lab's group: its limits, and what the lab sees as /sys/fs/cgroup. Nil for a lab
    /// without root and without a delegated cgroup subtree: it runs without limits.
    public let cgroup: Cgroup?
    /// Where the lab's own processes live, below `cgroup`, as systemd keeps its in
    /// init.scope: on cgroup v2 a group with processes cannot hand controllers to children,
    /// and the learner's `echo +cpu > /sys/fs/cgroup/cgroup.subtree_control` must work.
    public var processGroup: Cgroup? { cgroup.map(Self.leaf(of:)) }
    static func leaf(of group: Cgroup) -> Cgroup { Cgroup(path: group.path + "/" + leafName, driver: group.driver) }
    static let leafName = "init"
    let ledger: Ledger
    /// The overlay was refused and the lab got read-only views instead.
    public let usesOverlay: Bool
    /// The host ids the lab's root and the rest of its ids are (nil: the unprivileged lab,
    /// whose root is the user running Gantry).
    public let ids: UInt32?
    /// Host directories the kernel could not idmap: the lab sees their files owned by nobody
    /// and cannot change them (writes are refused, not lost).
    public let unmappedDirectories: [String]
    /// The lab's pid namespace (`pid:[inode]`), to recognise its zombies at teardown.
    let pidNamespace: String?
    private let range: LabIDRange?
    private let destroyed = Mutex(false)
    /// The lab's mount namespace, held open (see `destroy`); -1 when it could not be opened.
    private let mountNamespace: Int32

    /// Builds a lab; throws with what failed, leaving nothing behind.
    public static func create(
        _ configuration: LabConfiguration = LabConfiguration(),
        ledgerDirectory: String = Ledger.defaultDirectory()
    ) throws(LabError) -> Lab {
        // Orphans of this lab's entered commands must come back to us, whose teardown reaps
        // them (see waitForInit), not to an ancestor that may never do so.
        Sandbox.adoptOrphans()
        // What a Gantry that was killed left (empty cgroups of a lab that ended with it, a
        // lock file) goes now, not only when someone thinks of `gantry cleanup`.
        _ = Cleanup.run(directory: ledgerDirectory)
        let id = "lab-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let range = geteuid() == 0 ? try LabIDRange.allocate(directory: ledgerDirectory) : nil
        let ledger: Ledger
        do { ledger = try Ledger(session: id, directory: ledgerDirectory) } catch { throw .ledger(error) }
        // As root, the lab's own group; without root, one in the subtree the user was
        // delegated (systemd's user@UID.service), or none: then the lab has no limits and
        // cgroup lessons cannot run, which `doctor` and the lab's banner say.
        let group: Cgroup?
        do {
            let manager = try CgroupManager.host()
            let parent = range != nil ? "gantry" : try manager.delegatedSubtree().map { $0 + "/gantry" }
            group = try parent.map { parent throws(CgroupError) in
                try ledger.createGroup(parent + "/" + id, limits: configuration.limits, delegating: Lab.delegatedControllers, with: manager)
            }
        } catch {
            if range != nil {
                ledger.finish()
                throw .cgroup(error)
            }
            group = nil
        }
        do {
            // The keeper is born in the lab's group, so its cgroup namespace is rooted there,
            // then moves to the leaf (on v1 by itself); the group then offers its controllers
            // to children, and is handed to the lab's root as delegation is documented.
            let leaf = group.map(Self.leaf(of:))
            if let group, let leaf {
                do { try group.driver.create(leaf.path, controllers: []) } catch { throw LabError.cgroup(error) }
            }
            let built =
                try range.map { try buildLocked(configuration, group: group!, leaf: leaf!, ids: $0.base) }
                ?? spawnUnprivileged(configuration, group: group)
            // Reaped last, whatever happens: it has most likely ended by then.
            defer { _ = try? built.builder?.wait() }
            let lab = Lab(
                id: id, configuration: configuration, initProcess: built.process, cgroup: group, ledger: ledger,
                usesOverlay: built.overlay, range: range, unmappedDirectories: built.unmapped)
            do {
                // A cleanup after a crash waits for the keeper, so no process of the lab is
                // left when it reports done.
                if let start = ProcFS.stat(String(built.process.pid))?.startTicks {
                    try? ledger.record(.process(pid: built.process.pid, startTicks: start))
                }
                if let group, let leaf {
                    try built.leaf.complete(built.process.pid, in: leaf)
                    try group.driver.delegate(group.path, controllers: Lab.delegatedControllers)
                    try built.ownership?.finish()
                }
            } catch {
                lab.destroy()
                throw LabError.cgroup(error)
            }
            return lab
        } catch let error as LabError {
            try? group?.remove()
            ledger.finish()
            throw error
        } catch {
            try? group?.remove()
            ledger.finish()
            throw .gone("\(error)")
        }
    }

    private init(
        id: String, configuration: LabConfiguration, initProcess: SandboxProcess, cgroup: Cgroup?,
        ledger: Ledger, usesOverlay: Bool, range: LabIDRange?, unmappedDirectories: [String]
    ) {
        self.id = id
        self.configuration = configuration
        self.initProcess = initProcess
        self.cgroup = cgroup
        self.ledger = ledger
        self.usesOverlay = usesOverlay
        self.range = range
        self.ids = range?.base
        self.unmappedDirectories = unmappedDirectories
        self.pidNamespace = Self.pidNamespace(of: initProcess.pid)
        self.mountNamespace = open("/proc/\(initProcess.pid)/ns/mnt", O_RDONLY | O_CLOEXEC)
    }

    /// What a learner can use in groups of their own, as on a fresh systemd machine.
    static let delegatedControllers: Set<String> = ["cpu", "memory", "pids"]

    static func pidNamespace(of pid: Int32) -> String? { POSIX.readLink("/proc/\(pid)/ns/pid") }

    deinit { destroy() }

    struct Built {
        var process: SandboxProcess
        var overlay: Bool
        var unmapped: [String] = []
        var leaf = LeafPlacement.notYet
        /// The group and its leaf handed to the lab's root, under way (root's path only).
        var ownership: CgroupWork?
        /// The filesystem's builder, ending by itself (root's path only).
        var builder: SandboxProcess?
    }

    /// Where the keeper is, as a lab's filesystem is done, relative to its group's leaf.
    enum LeafPlacement {
        case placed, notYet
        case moving(CgroupWork)

        /// Puts the keeper in the leaf, waiting for a move under way.
        func complete(_ pid: Int32, in leaf: Cgroup) throws(CgroupError) {
            switch self {
            case .placed: return
            case .notYet: try leaf.add(pid)
            case .moving(let move): try move.finish()
            }
        }
    }

    /// Cgroup work on a thread of its own, overlapping with the lab's filesystem build (which
    /// waits on a child process): a keeper's move to its leaf from outside, the group handed
    /// to the lab's root.
    final class CgroupWork: Sendable {
        private let outcome: Background<Result<Void, CgroupError>>

        init(_ work: @escaping @Sendable () throws(CgroupError) -> Void) {
            outcome = Background {
                do throws(CgroupError) {
                    try work()
                    return .success(())
                } catch {
                    return .failure(error)
                }
            }
        }

        /// Waits for the work and says how it went.
        func finish() throws(CgroupError) { try outcome.value.get() }
    }

    /// As root: the keeper first (its namespaces, owned by the lab's root), then its
    /// filesystem, built by the host's root and locked, then the keeper moves in.
    private static func buildLocked(
        _ configuration: LabConfiguration, group: Cgroup, leaf: Cgroup, ids base: UInt32
    ) throws(LabError) -> Built {
        let owner = Ownership(uid: base, gid: base)
        let block = [IDRange(inside: 0, outside: base, count: LabIDRange.count)]
        var spec = SandboxSpec(
            command: [], namespaces: [.user, .pid, .net, .uts, .ipc, .cgroup],
            userMapping: UserMapping(uids: block, gids: block),
            hostname: configuration.hostname, loopbackUp: true)
        spec.keepAlive = true
        spec.awaitsFilesystem = true
        spec.becomeRoot = true
        spec.userNamespaceCreator = owner
        let pending: PendingSandbox
        let entry: CgroupEntryFiles
        do { entry = try group.entryFiles(thenMovingTo: leaf) } catch { throw .cgroup(error) }
        do {
            pending = try withExtendedLifetime(entry) { () throws(IsolationError) in
                try Sandbox.spawnAwaitingFilesystem(spec, cgroup: entry.placement)
            }
        } catch {
            throw .sandbox(error)
        }
        // On v1 the keeper moved itself to the leaf. On v2 it is moved from here, which waits
        // out an RCU grace period (see `Cgroup.entryFiles`): on a thread of its own, while
        // this one builds the lab's filesystem, which needs the keeper's cgroup namespace
        // (made before it reported) but not its place in the tree.
        let pid = pending.pid
        let placement: LeafPlacement = entry.tasksAfterUnshare.isEmpty ? .moving(CgroupWork { () throws(CgroupError) in try leaf.add(pid) }) : .placed
        // The group is handed to the lab's root while the filesystem is built (this thread
        // then waits on the builder): ~60 chowns on a hybrid host. Nothing in the lab runs
        // a command of its own before `create` has finished this.
        let ownership = CgroupWork { () throws(CgroupError) in
            try group.driver.delegateOwnership(group.path, uid: base, gid: base)
            try group.driver.delegateOwnership(leaf.path, uid: base, gid: base)
        }
        let userNamespace = "/proc/\(pending.pid)/ns/user"
        let mountPoints = hostMountPoints()
        let masks = LabFilesystem.Masks.present { access($0, F_OK) == 0 }
        var lastError: IsolationError?
        // Overlays first; a kernel that refuses them gets the read-only views alone.
        for overlay in configuration.overlay.map({ [$0] }) ?? [true, false] {
            // Over the root filesystem, only the top-level directories that are filesystems
            // of their own matter (the rest come with it): those few are looked at, not all.
            let entries = overlay ? hostRootEntries(named: LabFilesystem.topLevelMountPoints(mountPoints)) : hostRootEntries()
            // Trees are made anew for each attempt: an attached tree cannot be attached again.
            var trees: [String: Int32] = [:]
            var unmapped: [String] = []
            defer { for fd in trees.values { close(fd) } }
            for name in LabFilesystem.treeKeys(entries: entries, mountPoints: mountPoints, overlay: overlay) {
                let path = name == LabFilesystem.rootTree ? name : "/" + name
                do {
                    trees[name] = try MountTree.readOnly(path, idmappedThrough: userNamespace)
                } catch  where error.stage == .idmap {
                    // This filesystem cannot be idmapped: its files look owned by nobody
                    // inside, and the lab's root cannot change them. Honest, not hidden.
                    guard let fd = try? MountTree.readOnly(path, idmappedThrough: nil) else { continue }
                    trees[name] = fd
                    unmapped.append(path)
                } catch {
                    continue
                }
            }
            let plan = LabFilesystem.plan(
                LabFilesystem.Locked(
                    entries: entries, mountPoints: mountPoints, trees: trees, overlay: overlay, owner: owner,
                    storageSize: configuration.limits.memoryMax.flatMap { $0 > 0 ? UInt64($0 / 2) : nil },
                    cgroupView: group.viewMounts(owner: owner), masks: masks))
            var filesystem = SandboxSpec(command: [], namespaces: [.mount], root: .pivot(LabFilesystem.root), mounts: plan.mounts)
            filesystem.stagingMounts = plan.staging
            do {
                let mountNamespace = try Sandbox.buildMountNamespace(
                    filesystem, joining: .process(pending.pid, [.net, .cgroup, .pid]), lockingInto: userNamespace)
                defer { close(mountNamespace.descriptor) }
                let process = try pending.complete(mountNamespace: mountNamespace.descriptor)
                return Built(
                    process: process, overlay: overlay, unmapped: unmapped, leaf: placement, ownership: ownership,
                    builder: mountNamespace.builder)
            } catch {
                lastError = error
                let overlayRefused = overlay && error.stage == .mount && (error.subject?.hasPrefix("mount overlay") ?? false)
                if !overlayRefused { break }
            }
        }
        throw .sandbox(lastError!)
    }

    /// Without root: the lab's root is the user, and the lab makes its own mounts inside its
    /// user namespace. Tries the overlay plan first; a kernel that refuses overlayfs in a
    /// user namespace gets read-only binds.
    private static func spawnUnprivileged(_ configuration: LabConfiguration, group: Cgroup?) throws(LabError) -> Built {
        let attempts: [Bool] = configuration.overlay.map { [$0] } ?? [true, false]
        var lastError: IsolationError?
        for overlay in attempts {
            do {
                return Built(process: try spawnUnprivileged(configuration, group: group, overlay: overlay), overlay: overlay)
            } catch {
                lastError = error
                let overlayRefused = overlay && (error.stage == .mount && (error.subject?.hasPrefix("mount overlay") ?? false))
                if !overlayRefused { break }
            }
        }
        throw .sandbox(lastError!)
    }

    private static func spawnUnprivileged(_ configuration: LabConfiguration, group: Cgroup?, overlay: Bool) throws(IsolationError) -> SandboxProcess {
        let plan = LabFilesystem.plan(
            entries: hostRootEntries(), mountPoints: hostMountPoints(), overlay: overlay,
            cgroupView: group?.viewMounts() ?? [])
        var spec = SandboxSpec(
            command: [], namespaces: .all, userMapping: userMapping(),
            hostname: configuration.hostname, root: .pivot(LabFilesystem.root), mounts: plan.mounts,
            loopbackUp: true)
        spec.stagingMounts = plan.staging
        spec.keepAlive = true
        let entry: CgroupEntryFiles?
        do { entry = try group?.entryFiles() } catch { throw IsolationError(stage: .prepare, cause: error.cause ?? Errno(0), detail: "\(error)") }
        return try withExtendedLifetime(entry) { () throws(IsolationError) in
            try Sandbox.spawn(spec, io: .descriptors(input: nil, output: nil, error: nil), cgroup: entry?.placement)
        }
    }

    /// A normal user's lab: their ids are root inside, their subordinate ids (shadow's
    /// /etc/subuid and /etc/subgid, written by newuidmap and newgidmap) the rest.
    static func userMapping() -> UserMapping {
        let uid = getuid(), gid = getgid()
        let name = getpwuid(uid).map { String(cString: $0.pointee.pw_name) } ?? String(uid)
        func range(_ file: String) -> Range<UInt32>? {
            let entries = SubordinateIDs.parse(POSIX.readFile(file) ?? "")
            return (entries.ranges(of: name) + entries.ranges(of: String(uid))).first
        }
        let helperPaths: [String] = ["/usr/bin/newuidmap", "/usr/bin/newgidmap"]
        let helpers =
            helperPaths.allSatisfy { access($0, X_OK) == 0 }
            ? (newuidmap: "/usr/bin/newuidmap", newgidmap: "/usr/bin/newgidmap") : nil
        return .user(uid: uid, gid: gid, subordinateUIDs: range("/etc/subuid"), subordinateGIDs: range("/etc/subgid"), helpers: helpers)
    }

    /// Runs `command` inside the lab: its namespaces, its root, its cgroup.
    public func enter(
        _ command: [String], io: StandardIO = .inherit, workingDirectory: String = "/root",
        environment: [String]? = nil, terminal: String? = nil
    ) throws(LabError) -> SandboxProcess {
        try checkAlive()
        let entry: CgroupEntryFiles?
        do { entry = try processGroup?.entryFiles() } catch { throw .cgroup(error) }
        do {
            return try withExtendedLifetime(entry) { () throws(IsolationError) in
                try Sandbox.enter(
                    .process(initProcess.pid, .all), command: command,
                    environment: environment ?? configuration.processEnvironment(terminal: terminal),
                    workingDirectory: workingDirectory, io: io, cgroup: entry?.placement, terminalFromTarget: true,
                    becomeRoot: ids != nil, newSession: true)
            }
        } catch {
            throw .sandbox(error)
        }
    }

    /// Runs a shell command string in the lab, as `bash -c` would, and collects what it
    /// printed (stdout and stderr together). Not the learner's shell: probes use this.
    public func run(_ script: String, timeoutMilliseconds: Int = 30_000) throws(LabError) -> LabCommandResult {
        let (readEnd, writeEnd) = try LabError.call("pipe2") { () throws(Errno) in try POSIX.makePipe() }
        // Its input is nothing: never Gantry's own (a terminal, or a file the learner could
        // not otherwise read).
        let nothing = open("/dev/null", O_RDONLY | O_CLOEXEC)
        let clock = ContinuousClock()
        let started = clock.now
        let process: SandboxProcess
        do {
            process = try enter(["/bin/bash", "-c", script], io: .descriptors(input: nothing, output: writeEnd, error: writeEnd))
        } catch {
            close(readEnd); close(writeEnd); close(nothing)
            throw error
        }
        close(writeEnd)
        close(nothing)
        let (output, timedOut) = readAll(readEnd, process: process, deadline: started.advanced(by: .milliseconds(timeoutMilliseconds)))
        close(readEnd)
        let status: ExitStatus
        do { status = try process.wait() } catch { throw .sandbox(error) }
        return LabCommandResult(
            output: output, status: status, microseconds: started.duration(to: clock.now).microseconds,
            timedOut: timedOut)
    }

    /// Reads until EOF, or kills the command at the deadline (its cgroup is the lab's, so
    /// only the command itself is signalled).
    private func readAll(_ fd: Int32, process: SandboxProcess, deadline: ContinuousClock.Instant) -> (String, Bool) {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        var timedOut = false
        while true {
            let remaining = ContinuousClock.now.duration(to: deadline).milliseconds
            if remaining <= 0 && !timedOut {
                timedOut = true
                try? process.signal(SIGKILL)
            }
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            // EINTR comes back as no answer: the loop recomputes the time left.
            let ready = (try? POSIX.call(retryOnInterrupt: false) { poll(&descriptor, 1, timedOut ? 1000 : Int32(min(max(remaining, 1), 1000))) }) ?? 0
            if ready == 0 { if timedOut { break } else { continue } }
            guard let count = try? POSIX.call({ read(fd, &buffer, buffer.count) }), count > 0 else { break }
            data += buffer[0..<count]
        }
        return (String(decoding: data, as: UTF8.self), timedOut)
    }

    /// Kills everything in the lab and frees what it held. Safe to call twice.
    public func destroy() {
        let first = destroyed.withLock { done -> Bool in
            defer { done = true }
            return !done
        }
        guard first else { return }
        // Killing the keeper kills its pid namespace, every process of the lab with it, and
        // its pidfd says the moment all are gone; the cgroup is then empty but for entered
        // commands' relays (outside the namespace, ending with their commands) and is only
        // removed: its leaf, then itself, without a listing of its directories unless a
        // learner made groups of their own. A learner's frozen group's tasks cannot die: a
        // lab that does not end at once is thawed (not every lab first: a walk of the
        // freezer hierarchy). A lab whose processes still do not die (a group frozen again,
        // from inside, after the thaw) gets the cgroup's own way: freeze all, kill all,
        // thaw, until empty.
        // The lab's mounts (36 of them, an overlay and its tmpfs upper among them) come down
        // with the last reference to its mount namespace, in the exit of whichever of its
        // processes goes last (~1.4 ms), and the init waits for that one. Held here, that
        // reference is dropped on a thread of its own once the lab's processes are gone, so
        // the mounts come down beside the group's removal on the other core.
        try? initProcess.signal(SIGKILL)
        var ended = waitForInit(attempts: 5)
        if !ended {
            cgroup?.thaw()
            ended = waitForInit(attempts: 12)
        }
        let unmounting = mountNamespace < 0 ? nil : try? JoinableThread { [mountNamespace] in _ = close(mountNamespace) }
        if unmounting == nil, mountNamespace >= 0 { close(mountNamespace) }
        defer { unmounting?.join() }
        var removed = true
        do { try cgroup?.remove(expecting: [Self.leafName]) } catch { removed = false }
        if !ended { waitForInit() }
        if !removed { removed = (try? cgroup?.remove(expecting: [Self.leafName])) != nil }
        // A ledger whose side effects are not all undone stays for `gantry cleanup`.
        if removed { ledger.finish() }
    }

    /// A dying pid-namespace init waits until every task of its namespace is reaped. A lab
    /// process whose parent was outside the lab (an entered command whose relay died first)
    /// is reparented to the nearest subreaper, which may be this very process, blocked here
    /// waiting for the init: so reap such zombies while waiting, never block.
    @discardableResult
    private func waitForInit(attempts: Int = 2000) -> Bool {
        for attempt in 0..<attempts {
            if initProcess.poll() != nil { return true }
            let exiting = pidNamespace.map { Self.reapZombieChildren(in: $0, except: initProcess.pid) } ?? []
            // The pidfds wake us the moment the init is gone (a sleep made every teardown
            // wait for the next of 1, 3, 7, 15 ms) or a child of ours in the lab turns
            // zombie: a shell whose relay was killed first is ours to reap, and the init
            // waits for that. (The last of the lab's processes to exit takes its mounts
            // down, ~1-2 ms: a sweep paced by the timeout alone found it up to a pace late.)
            initProcess.awaitEnd(microseconds: min(100 << min(attempt, 9), 50_000), orEndOf: exiting)
        }
        return initProcess.poll() != nil
    }

    /// The init is skipped: it is in the lab's pid namespace too, and its status belongs to
    /// `initProcess`. Returns the children of ours in the lab that have not ended yet.
    static func reapZombieChildren(in pidNamespace: String, except initPid: Int32) -> [Int32] {
        var exiting: [Int32] = []
        for task in list("/proc/self/task") where task.allSatisfy(\.isNumber) {
            let children = readText("/proc/self/task/\(task)/children") ?? ""
            for child in children.split(separator: " ").compactMap({ Int32($0) }) where child != initPid {
                guard Self.pidNamespace(of: child) == pidNamespace else { continue }
                guard ProcFS.stat(String(child))?.state == "Z" else {
                    exiting.append(child)
                    continue
                }
                var status: Int32 = 0
                _ = waitpid(child, &status, WNOHANG)
            }
        }
        return exiting
    }

    func checkAlive() throws(LabError) {
        if destroyed.withLock({ $0 }) { throw .gone("the lab \(id) was removed") }
        if let status = initProcess.poll() { throw .gone(endReason(status)) }
        // An init that is exiting has no namespaces left to enter while it waits for the
        // rest of the lab to go.
        if POSIX.readLink("/proc/\(initProcess.pid)/ns/mnt") == nil { throw .gone(endReason(nil)) }
    }

    /// Why a lab ended on its own, for the learner: on this machine's kernel the keeper may
    /// not be protected from the OOM killer (that takes CAP_SYS_RESOURCE), and a lab whose
    /// memory is all in files (tmpfs) leaves it nothing else to kill.
    func endReason(_ status: ExitStatus?) -> String {
        if let kills = (try? cgroup?.stats())??.oomKills, kills > 0 {
            let limit = configuration.limits.memoryMax.map { ResourceLimits.formatBytes($0) } ?? "its limit"
            return "the lab ran out of memory (\(limit)): the kernel's OOM killer ended its processes, its init among them; a fresh lab starts clean"
        }
        return "the lab's init ended" + (status.map { " (\($0))" } ?? "") + "; a fresh lab starts clean"
    }

    /// Path of a file inside the lab, as seen from the host (through the keeper's root).
    public func hostPath(_ path: String, inMountNamespaceOf pid: Int32? = nil) -> String {
        "/proc/\(pid ?? initProcess.pid)/root" + (path.hasPrefix("/") ? path : "/" + path)
    }

    // MARK: The host's root

    /// The host's top-level entries (`names` only, when given).
    static func hostRootEntries(named names: [String]? = nil) -> [LabFilesystem.Entry] {
        var entries: [LabFilesystem.Entry] = []
        for name in names ?? POSIX.list("/") {
            var info = stat()
            guard lstat("/" + name, &info) == 0 else { continue }
            if info.st_mode & S_IFMT == S_IFLNK, let destination = POSIX.readLink("/" + name) {
                entries.append(.symlink(name, to: destination))
            } else if info.st_mode & S_IFMT == S_IFDIR {
                entries.append(.directory(name, uid: info.st_uid, gid: info.st_gid, mode: info.st_mode & 0o7777))
            }
        }
        // Directories, then links, each by name (by key: describing an enum value goes
        // through reflection, ~20% of a lab's start when this compared descriptions).
        return entries.sorted { ($0.isDirectory ? 0 : 1, $0.name) < ($1.isDirectory ? 0 : 1, $1.name) }
    }

    static func hostMountPoints() -> Set<String> {
        Set(ProcFS.mounts("self").map(\.mountPoint))
    }
}

/// What a command run in the lab printed and how it ended.
public struct LabCommandResult: Sendable, Equatable {
    public var output: String
    public var status: ExitStatus
    public var microseconds: Int
    public var timedOut: Bool
}

public enum LabError: Error, Sendable, CustomStringConvertible {
    case sandbox(IsolationError)
    case cgroup(CgroupError)
    case ledger(LedgerError)
    case system(String, Errno)
    case gone(String)
    case probe(String)

    /// The kernel's errno behind it, where there is one.
    public var cause: Errno? {
        switch self {
        case .sandbox(let error): error.cause.rawValue == 0 ? nil : error.cause
        case .system(_, let cause): cause
        default: nil
        }
    }

    /// A call that throws `Errno` (`POSIX.call`, `POSIX.makePipe`), its failure as `.system`
    /// naming it.
    static func call<Result>(_ name: @autoclosure () -> String, _ body: () throws(Errno) -> Result) throws(LabError) -> Result {
        do { return try body() } catch { throw .system(name(), error) }
    }

    public var description: String {
        switch self {
        case .sandbox(let error): "could not build or enter the lab: \(error)"
        case .cgroup(let error): "could not set up the lab's cgroup: \(error)"
        case .ledger(let error): "could not write the lab's ledger: \(error)"
        case .system(let call, let cause): "\(call): \(cause)"
        case .gone(let message), .probe(let message): message
        }
    }
}

extension Cgroup {
    /// The group's view (`Cgroup.view()`) as mounts a sandbox spec takes: what a lab and a
    /// `gantry exec --all` with limits both mount over /sys/fs/cgroup.
    public func viewMounts(at target: String = "/sys/fs/cgroup", owner: Ownership? = nil) -> [Mount] {
        view(at: target).map { mount in
            switch mount.type {
            case "symlink": .symlink(to: mount.options ?? "", at: mount.target)
            case "tmpfs": .tmpfs(at: mount.target, size: 1 << 20, mode: 0o755, owner: owner)
            default: .filesystem(type: mount.type, source: mount.type, at: mount.target, options: mount.options)
            }
        }
    }
}
