internal import Glibc
public import Isolation
internal import POSIXSupport

/// The front door: detects the host's layout, picks the driver, and hands out groups.
public struct CgroupManager: Sendable {
    public let layout: CgroupLayout
    public let driver: any CgroupDriver

    public init(layout: CgroupLayout, fileSystem: any CgroupFileSystem = KernelCgroupFileSystem()) {
        self.layout = layout
        self.driver =
            layout.mode == .unified
            ? CgroupV2Driver(layout: layout, fileSystem: fileSystem)
            : CgroupV1Driver(layout: layout, fileSystem: fileSystem)
    }

    /// This host's cgroups, from /proc/self/mountinfo.
    public static func host() throws(CgroupError) -> CgroupManager {
        let files = KernelCgroupFileSystem()
        let mountinfo = try files.read("/proc/self/mountinfo")
        let layout = CgroupLayout.detect(mountinfo: mountinfo) { try? files.read($0 + "/cgroup.controllers") }
        return CgroupManager(layout: layout, fileSystem: files)
    }

    /// Creates `path` (relative to the hierarchy roots) with `limits` applied. `willCreate`
    /// hears every directory that makes up the group before any is made (for a ledger);
    /// if it throws, nothing is created.
    /// `delegating` names controllers the group must have beyond what its limits need, to
    /// hand on to children made inside it (a lab's learner groups).
    public func create(
        _ path: String, limits: ResourceLimits, delegating: Set<String> = [],
        willCreate: ([String]) throws -> Void = { _ in }
    ) throws(CgroupError) -> Cgroup {
        try Self.validate(path: path)
        do { try willCreate(driver.directories(of: path)) } catch {
            throw .invalid("could not record the group before creating it: \(error)")
        }
        let available = delegating.filter { layout.version(of: $0) != nil }
        let group = Cgroup(path: path, driver: driver)
        // What was made of a group that cannot be made whole is removed.
        do {
            try driver.create(path, controllers: limits.controllers.union(available))
            try group.apply(limits)
        } catch {
            try? group.remove()
            throw error
        }
        return group
    }

    /// The subtree delegated to this (unprivileged) user, relative to the cgroup2 root:
    /// the highest ancestor of our own group that the user owns and may hand controllers
    /// down from — systemd's `user@UID.service`. Nil on v1 (no delegation there) or when
    /// there is none; `create` below it then works as it does for root.
    public func delegatedSubtree(ownProcess: String = "/proc/self/cgroup") throws(CgroupError) -> String? {
        guard layout.mode == .unified, let root = layout.unifiedPath else { return nil }
        let own = try driver.fileSystem.read(ownProcess).split(separator: "\n").first { $0.hasPrefix("0::") }.map { String($0.dropFirst(3)) }
        guard let own else { return nil }
        let parts = own.split(separator: "/").map(String.init)
        let uid = getuid()
        for depth in 1...max(parts.count, 1) where depth <= parts.count {
            let relative = parts.prefix(depth).joined(separator: "/")
            var info = stat()
            guard stat(root + "/" + relative, &info) == 0, info.st_uid == uid,
                access(root + "/" + relative + "/cgroup.subtree_control", W_OK) == 0
            else { continue }
            return relative
        }
        return nil
    }

    static func validate(path: String) throws(CgroupError) {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard !path.isEmpty, !path.hasPrefix("/"), parts.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." }) else {
            throw .invalid("'\(path)' is not a relative cgroup path like gantry/session")
        }
    }
}

/// One group, in every hierarchy its driver manages.
public struct Cgroup: Sendable {
    public let path: String
    public let driver: any CgroupDriver

    /// A handle on an existing group (nothing is created).
    public init(path: String, driver: any CgroupDriver) {
        self.path = path
        self.driver = driver
    }

    public var directories: [String] { driver.directories(of: path) }

    public func apply(_ limits: ResourceLimits) throws(CgroupError) { try driver.apply(limits, to: path) }
    public func add(_ pid: Int32) throws(CgroupError) { try driver.addProcess(pid, to: path) }
    public func processes() throws(CgroupError) -> [Int32] { try driver.processes(in: path) }
    /// Every process in the group and the groups below it (`CgroupDriver.processes(inSubtreeOf:)`).
    public func processesInSubtree() -> [Int32] { driver.processes(inSubtreeOf: path) }
    public func stats() throws(CgroupError) -> CgroupStats { try driver.stats(of: path) }
    public func appliedLimits() -> AppliedLimits { driver.appliedLimits(of: path) }
    /// Thaws the group and every group below it, in the hierarchies that freeze.
    public func thaw() {
        for file in driver.freezeFiles(of: path) {
            let directory = String(file[..<(file.lastIndex(of: "/") ?? file.endIndex)])
            if driver.fileSystem.exists(directory) { driver.thawTree(directory) }
        }
    }

    /// Kills and removes the group, then its ancestors that are left empty (a shared parent
    /// such as `gantry/` another session still uses stays). `children` are groups the caller
    /// made below it (a lab's leaf): tried first, without a listing; any other is found.
    public func remove(expecting children: [String] = []) throws(CgroupError) {
        try driver.remove(path, expecting: children)
        var ancestors = path.split(separator: "/").dropLast()
        while !ancestors.isEmpty {
            for directory in driver.directories(of: ancestors.joined(separator: "/")) {
                try? driver.fileSystem.removeDirectory(directory)
            }
            ancestors = ancestors.dropLast()
        }
    }

    /// Opens the ways a new process joins this group (and, with `later`, the group it moves
    /// on to once its cgroup namespace is made) without a process being moved from outside.
    /// Writing a pid to `cgroup.procs` takes the kernel's cgroup_threadgroup_rwsem for writing,
    /// and its first taker waits out an RCU grace period: 10–15 ms on this project's
    /// machines, the larger half of a lab's start, paid again whenever the lock has gone
    /// idle (a probe entered into a lab on v1). Two ways in take no such lock: clone3's
    /// CLONE_INTO_CGROUP into a cgroup v2 directory, and a single thread moving itself,
    /// writing "0" to a v1 `tasks` file (exempt since Linux 6.0; older kernels take the lock,
    /// as a pid written from outside does). The files are opened here because the kernel
    /// checks a cgroup write against the credentials of whoever opened the file: the child
    /// may write them after it has joined a user namespace.
    public func entryFiles(thenMovingTo later: Cgroup? = nil) throws(CgroupError) -> CgroupEntryFiles {
        let now = driver.entryPaths(of: path), after = later.map { driver.entryPaths(of: $0.path).tasks } ?? []
        let files = CgroupEntryFiles()
        if let directory = now.bornInto { files.bornInto = try Self.open(directory, O_RDONLY | O_DIRECTORY) }
        for file in now.tasks { files.tasks.append(try Self.open(file, O_WRONLY)) }
        for file in after { files.tasksAfterUnshare.append(try Self.open(file, O_WRONLY)) }
        return files
    }

    private static func open(_ path: String, _ flags: Int32) throws(CgroupError) -> Int32 {
        let fd = Glibc.open(path, flags | O_CLOEXEC)
        guard fd >= 0 else { throw .io(operation: "open", path: path, cause: Errno(errno)) }
        return fd
    }

    /// The filesystems that show this group as the whole of `/sys/fs/cgroup` to a process in
    /// a cgroup namespace rooted here: cgroup2 on a unified host; on v1, one mount per
    /// hierarchy on a tmpfs (and `unified` in hybrid mode). Mounted from inside the
    /// namespace, each shows the namespace's root, so only this subtree is reachable.
    public func view(at target: String = "/sys/fs/cgroup") -> [CgroupViewMount] {
        let layout = driver.layout
        // A tmpfs goes first in both cases: the kernel refuses (EBUSY) a cgroup2 mount right
        // on the root of the host's cgroup2 mount, which is what /sys/fs/cgroup already is.
        var mounts = [CgroupViewMount(type: "tmpfs", options: "mode=0755", target: target)]
        if layout.mode == .unified {
            return mounts + [CgroupViewMount(type: "cgroup2", options: nil, target: target)]
        }
        var seen: Set<String> = []
        for controller in CgroupLayout.managedControllers {
            guard let path = layout.v1Paths[controller], seen.insert(path).inserted else { continue }
            let options = layout.v1Options[path] ?? controller
            let name = path.split(separator: "/").last.map(String.init) ?? controller
            mounts.append(CgroupViewMount(type: "cgroup", options: options, target: target + "/" + name))
            // A co-mounted hierarchy is also reachable by each controller's name (cpu,cpuacct).
            for alias in options.split(separator: ",").map(String.init) where alias != name && !alias.contains("=") {
                mounts.append(CgroupViewMount(type: "symlink", options: name, target: target + "/" + alias))
            }
        }
        if layout.mode == .hybrid {
            mounts.append(CgroupViewMount(type: "cgroup2", options: nil, target: target + "/unified"))
        }
        return mounts
    }
}

/// One filesystem of a cgroup view: `type` is cgroup, cgroup2, tmpfs, or `symlink` (then
/// `options` is the link's destination).
public struct CgroupViewMount: Sendable, Hashable {
    public var type: String
    public var options: String?
    public var target: String
}

/// Descriptors a new process joins a group through (`Cgroup.entryFiles`), open while this
/// lives: the cgroup v2 directory to be born in, and the v1 `tasks` files the child writes
/// "0" to, before and after it makes its cgroup namespace.
public final class CgroupEntryFiles {
    public internal(set) var bornInto: Int32?
    public internal(set) var tasks: [Int32] = []
    public internal(set) var tasksAfterUnshare: [Int32] = []

    deinit {
        for fd in (bornInto.map { [$0] } ?? []) + tasks + tasksAfterUnshare { close(fd) }
    }
}

extension CgroupEntryFiles {
    /// The descriptors, as a sandbox takes them; valid while this lives.
    public var placement: CgroupPlacement {
        CgroupPlacement(bornInto: bornInto, tasks: tasks, tasksAfterUnshare: tasksAfterUnshare)
    }
}
