internal import POSIXSupport

/// cgroup v2: one tree. Controllers must be enabled in each ancestor's
/// `cgroup.subtree_control`, and a non-root group with controllers enabled for its children
/// may hold no processes itself (the "no internal processes" rule).
public struct CgroupV2Driver: CgroupDriver {
    public let layout: CgroupLayout
    public let fileSystem: any CgroupFileSystem
    let root: String

    public init(layout: CgroupLayout, fileSystem: any CgroupFileSystem) {
        self.layout = layout
        self.fileSystem = fileSystem
        self.root = layout.unifiedPath ?? "/sys/fs/cgroup"
    }

    public func directories(of path: String) -> [String] { [root + "/" + path] }
    public func delegableDirectories(of path: String) -> [String] { directories(of: path) }
    public func freezeFiles(of path: String) -> [String] { [root + "/" + path + "/cgroup.freeze"] }

    public func entryPaths(of path: String) -> (bornInto: String?, tasks: [String]) { (root + "/" + path, []) }

    public func create(_ path: String, controllers: Set<String>) throws(CgroupError) {
        try remakingVanishedParents { () throws(CgroupError) in
            var directory = root
            for component in path.split(separator: "/").map(String.init) {
                // The child first: it holds `directory`, which another session may otherwise
                // remove (left empty) and make again, fresh and with nothing enabled, between
                // this one's enabling controllers in it and its mkdir below it.
                let child = directory + "/" + component
                try fileSystem.makeDirectory(child)
                try enable(controllers, below: directory)
                directory = child
            }
        }
    }

    /// Turns controllers on for the children of `directory`, the ones its parent gave it.
    func enable(_ controllers: Set<String>, below directory: String) throws(CgroupError) {
        guard !controllers.isEmpty else { return }
        if let first = controllers.subtracting(try names(in: directory + "/cgroup.controllers")).sorted().first {
            throw .unavailable(controller: first, layout: layout.description)
        }
        // Written even when every one is on already, and not read first: the kernel shows
        // another session's enabling in `subtree_control` before it has made the controllers'
        // files in the children (ours among them), and a write waits for that (cgroup_mutex);
        // it changes nothing. Such a write may be refused where nothing was missing (an
        // ancestor above a delegated user's subtree, which nobody changes under us).
        let value = controllers.sorted().map { "+" + $0 }.joined(separator: " ")
        do {
            try fileSystem.write(directory + "/cgroup.subtree_control", value)
        } catch {
            if error.cause == .accessDenied || error.cause == .notPermitted,
                controllers.isSubset(of: try names(in: directory + "/cgroup.subtree_control"))
            {
                return
            }
            // EBUSY: the group holds processes; move them to a leaf child and try again.
            guard error.cause == .busy, directory != root else { throw error }
            let leaf = directory + "/leaf"
            try fileSystem.makeDirectory(leaf)
            for pid in try pids(at: directory) { try fileSystem.write(leaf + "/cgroup.procs", String(pid)) }
            try fileSystem.write(directory + "/cgroup.subtree_control", value)
        }
    }

    /// The controllers a `cgroup.controllers` or `cgroup.subtree_control` file names.
    func names(in file: String) throws(CgroupError) -> Set<String> {
        Set(try fileSystem.read(file).split(whereSeparator: \.isWhitespace).map(String.init))
    }

    public func delegate(_ path: String, controllers: Set<String>) throws(CgroupError) {
        let directory = root + "/" + path
        try enable(controllers.intersection(try names(in: directory + "/cgroup.controllers")), below: directory)
    }

    public func apply(_ limits: ResourceLimits, to path: String) throws(CgroupError) {
        let directory = root + "/" + path
        for write in CgroupTranslation.v2Writes(limits) {
            try applyWrite(write, in: directory) {
                (try? fileSystem.read(directory + "/memory.current")).flatMap { Int64($0.trimmed) }
            }
        }
    }

    public func addProcess(_ pid: Int32, to path: String) throws(CgroupError) {
        try fileSystem.write(root + "/" + path + "/cgroup.procs", String(pid))
    }

    public func stats(of path: String) throws(CgroupError) -> CgroupStats {
        let directory = root + "/" + path
        func read(_ file: String) -> String? { try? fileSystem.read(directory + "/" + file) }
        var stats = CgroupStats()
        let cpu = CgroupStats.keyed(read("cpu.stat") ?? "")
        stats.cpuUsageMicroseconds = cpu["usage_usec"]
        stats.throttledPeriods = cpu["nr_throttled"]
        stats.throttledMicroseconds = cpu["throttled_usec"]
        stats.memoryCurrent = CgroupStats.number(read("memory.current"))
        stats.memoryPeak = CgroupStats.number(read("memory.peak"))
        stats.oomKills = read("memory.events").flatMap { CgroupStats.keyed($0)["oom_kill"] }
        stats.pidsCurrent = pidsCurrent(of: path)
        return stats
    }

    public func pidsCurrent(of path: String) -> UInt64? {
        CgroupStats.number(try? fileSystem.read(root + "/" + path + "/pids.current"))
    }

    public func remove(_ path: String, expecting children: [String]) throws(CgroupError) {
        let directory = root + "/" + path
        guard fileSystem.exists(directory) else { return }
        if removeIfEmpty(expected([directory], children: children)) { return }
        if removeIfEmpty(subtree(directory)) { return }
        // Frozen tasks die only once thawed (a learner's `echo 1 > cgroup.freeze` below).
        thawTree(directory)
        // cgroup.kill (5.14) kills the whole subtree at once, racing forks included; the loop
        // after it only waits (and covers older kernels, where it does the killing).
        if fileSystem.exists(directory + "/cgroup.kill") {
            try fileSystem.write(directory + "/cgroup.kill", "1")
        }
        try killUntilEmpty([directory])
        try removeDirectories(subtree(directory))
    }
}
