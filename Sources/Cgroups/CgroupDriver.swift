internal import POSIXSupport

/// One cgroup version's way of doing the same five things. Paths given to a driver are
/// relative to the hierarchy roots (`gantry/exec-1234`), never absolute.
public protocol CgroupDriver: Sendable {
    var layout: CgroupLayout { get }
    var fileSystem: any CgroupFileSystem { get }
    /// The absolute directories that make up the group, one per hierarchy managed.
    func directories(of path: String) -> [String]
    /// Creates the group (and missing ancestors), with the controllers it will need.
    func create(_ path: String, controllers: Set<String>) throws(CgroupError)
    func apply(_ limits: ResourceLimits, to path: String) throws(CgroupError)
    func addProcess(_ pid: Int32, to path: String) throws(CgroupError)
    func stats(of path: String) throws(CgroupError) -> CgroupStats
    /// The group's task count (`pids.current`) alone: one read, for a check made often.
    func pidsCurrent(of path: String) -> UInt64?
    /// What the group is allowed now, read back from its files.
    func appliedLimits(of path: String) -> AppliedLimits
    /// Kills everything in the group and its descendants, then removes them, deepest first.
    /// `children` are groups the caller made below it, removed first without listing the
    /// group's directories to find them.
    func remove(_ path: String, expecting children: [String]) throws(CgroupError)
    /// Makes controllers available to the group's children (v2 `cgroup.subtree_control`;
    /// nothing to do on v1, where every group has every controller of its hierarchy).
    func delegate(_ path: String, controllers: Set<String>) throws(CgroupError)
    /// The directories of the group that may be handed to an unprivileged owner (those whose
    /// controllers Gantry manages; on v1 the group exists in other hierarchies too, so that
    /// a cgroup namespace made in it is rooted there, but stays root's).
    func delegableDirectories(of path: String) -> [String]
    /// Where a group's limits are frozen or thawed: v2 `cgroup.freeze`, v1 `freezer.state`.
    func freezeFiles(of path: String) -> [String]
    /// The ways into the group that take no global lock (`Cgroup.entryFiles`): the cgroup v2
    /// directory a child can be born in, and the v1 `tasks` files a thread moves itself with.
    func entryPaths(of path: String) -> (bornInto: String?, tasks: [String])
}

/// The files of a group its owner may write when the group is delegated, as the kernel's
/// cgroup-v2 documentation lists them (and their v1 counterparts): membership and what the
/// group offers its children, never its own limits.
let delegatedFiles = ["cgroup.procs", "cgroup.threads", "cgroup.subtree_control", "tasks"]

extension CgroupDriver {
    /// Hands the group to `uid`/`gid` as delegation is documented: the directories (so the
    /// owner can make child groups, whose files it then owns) and `delegatedFiles`; the
    /// group's own limits stay root's, so nothing inside can raise them.
    /// A file a hierarchy does not have (v1 has no `cgroup.threads`, v2 no `tasks`) is
    /// passed over by its ENOENT, not looked for first: on a hybrid host that was 80 access
    /// calls on a lab's way to its first prompt.
    public func delegateOwnership(_ path: String, uid: UInt32, gid: UInt32) throws(CgroupError) {
        for directory in delegableDirectories(of: path) {
            do { try fileSystem.changeOwner(directory, uid: uid, gid: gid) } catch  where error.cause == .noSuchFile { continue }
            for file in delegatedFiles {
                do { try fileSystem.changeOwner(directory + "/" + file, uid: uid, gid: gid) } catch  where error.cause == .noSuchFile {}
            }
        }
    }

    /// Thaws the group and every group below it (v1 and v2): a frozen task cannot die, and a
    /// child frozen by its own state stays frozen when only its parent is thawed.
    public func thawTree(_ directory: String) {
        for member in subtree(directory) {
            if fileSystem.exists(member + "/cgroup.freeze") { try? fileSystem.write(member + "/cgroup.freeze", "0") }
            if fileSystem.exists(member + "/freezer.state") { try? fileSystem.write(member + "/freezer.state", "THAWED") }
        }
    }

    /// Kills everything in an absolute group directory and its descendants and removes them,
    /// deepest first: what `gantry cleanup` does with a ledger's cgroup entry.
    public func removeTree(at directory: String) throws(CgroupError) {
        guard fileSystem.exists(directory) else { return }
        thawTree(directory)
        if fileSystem.exists(directory + "/cgroup.kill") { try? fileSystem.write(directory + "/cgroup.kill", "1") }
        try killUntilEmpty([directory])
        try removeDirectories(subtree(directory))
    }

    /// Every process in the group itself (not its children), from the first hierarchy.
    public func processes(in path: String) throws(CgroupError) -> [Int32] {
        guard let directory = directories(of: path).first else { return [] }
        return try pids(at: directory)
    }

    /// Every process in the group and its descendants, from one hierarchy each of them is in:
    /// the one a new member is born in (v2, or hybrid mode's cgroup2 tree, where a v1 group's
    /// processes stay wherever a learner moves them in one v1 hierarchy), else the first.
    /// A group removed meanwhile has no processes.
    public func processes(inSubtreeOf path: String) -> [Int32] {
        guard let directory = entryPaths(of: path).bornInto ?? directories(of: path).first else { return [] }
        return subtree(directory).flatMap { (try? pids(at: $0)) ?? [] }
    }

    func pids(at directory: String) throws(CgroupError) -> [Int32] {
        try fileSystem.read(directory + "/cgroup.procs").split(whereSeparator: \.isWhitespace).compactMap { Int32($0) }
    }

    /// The directory and all below it, deepest first: the order rmdir needs.
    func subtree(_ directory: String) -> [String] {
        var result: [String] = []
        for child in fileSystem.subdirectories(directory) {
            result += subtree(directory + "/" + child)
        }
        result.append(directory)
        return result
    }

    /// Makes a group's directories with `make`, again from the top when one of them vanished
    /// meanwhile (ENOENT, or ENODEV for a file of a removed group): the shared parent
    /// (`gantry/`) is removed by whichever session leaves it empty, and another may have made
    /// it just before and be making its group in it (two labs at once, `gantry grade --jobs 2`).
    func remakingVanishedParents(_ make: () throws(CgroupError) -> Void) throws(CgroupError) {
        var attempt = 0
        while true {
            do throws(CgroupError) {
                return try make()
            } catch {
                attempt += 1
                guard error.cause == .noSuchFile || error.cause == .noDevice, attempt < 20 else { throw error }
            }
        }
    }

    /// The group's directories with `children` below each first: what an empty group made
    /// that way needs removed, without a listing (on a hybrid host a lab's 20 opendirs).
    func expected(_ directories: [String], children: [String]) -> [String] {
        directories.flatMap { directory in children.map { directory + "/" + $0 } + [directory] }
    }

    /// rmdir each directory once, deepest first, stopping at the first that does not go
    /// (a task still in it, or still being reaped): whether all went. A group whose tasks
    /// are already gone (a lab whose pid namespace died with its init) needs nothing else,
    /// and its `cgroup.procs` files are not read first: on a hybrid host those were 20 reads,
    /// ~0.6 ms of every lab's teardown. A group that stays is left to the kill path.
    func removeIfEmpty(_ directories: [String]) -> Bool {
        for directory in directories {
            do throws(CgroupError) { try fileSystem.removeDirectory(directory) } catch { return false }
        }
        return true
    }

    /// rmdir each directory, deepest first, retrying EBUSY (a killed task is still being
    /// reaped) a bounded number of times.
    func removeDirectories(_ directories: [String], attempts: Int = 60) throws(CgroupError) {
        for directory in directories where fileSystem.exists(directory) {
            var attempt = 0
            while true {
                do throws(CgroupError) {
                    try fileSystem.removeDirectory(directory)
                    break
                } catch {
                    attempt += 1
                    guard error.cause == .busy, attempt < attempts else {
                        let left = (try? pids(at: directory)) ?? []
                        throw .stillBusy(path: directory, detail: "\(error)" + (left.isEmpty ? "" : "; processes left: \(left)"))
                    }
                    fileSystem.backoff(attempt: attempt)
                }
            }
        }
    }

    /// Sends SIGKILL to everything in the subtrees until they are empty (a fork racing the
    /// kill can add a task), bounded.
    func killUntilEmpty(_ directories: [String], attempts: Int = 60) throws(CgroupError) {
        for attempt in 0..<attempts {
            var remaining: [Int32] = []
            for directory in directories where fileSystem.exists(directory) {
                for member in subtree(directory) { remaining += (try? pids(at: member)) ?? [] }
            }
            if remaining.isEmpty { return }
            for pid in remaining { fileSystem.kill(pid) }
            fileSystem.backoff(attempt: attempt)
        }
        throw .stillBusy(path: directories.first ?? "?", detail: "processes kept appearing after SIGKILL")
    }

    /// Maps EBUSY on a memory limit to what it means.
    func applyWrite(_ write: CgroupWrite, in directory: String, usage: () -> Int64?) throws(CgroupError) {
        let path = directory + "/" + write.file
        do {
            try fileSystem.write(path, write.value)
        } catch {
            if error.cause == .busy, write.controller == "memory", let limit = Int64(write.value) {
                throw .belowUsage(path: directory, limit: limit, usage: usage())
            }
            throw error
        }
    }
}
