internal import POSIXSupport

/// cgroup v1: one hierarchy per controller (or co-mounted set), each with its own copy of the
/// group. Processes join every hierarchy; removal freezes the group first (freezer) so a
/// fork bomb cannot outrun the kill loop.
///
/// The group exists in every hierarchy the host has mounted, not only in those of the
/// controllers Gantry manages (blkio, devices, cpuset, named ones too), and in hybrid mode
/// in the controller-less cgroup2 tree: a cgroup namespace made inside it is then rooted
/// there everywhere, so mounting any hierarchy from inside shows the group, never the
/// host's root groups.
public struct CgroupV1Driver: CgroupDriver {
    public let layout: CgroupLayout
    public let fileSystem: any CgroupFileSystem
    /// Distinct hierarchy mount points for the managed controllers, plus the unified mirror.
    let hierarchies: [String]
    /// The other hierarchies, where the group only places its processes.
    let placementHierarchies: [String]

    public init(layout: CgroupLayout, fileSystem: any CgroupFileSystem) {
        self.layout = layout
        self.fileSystem = fileSystem
        var paths: [String] = []
        for controller in CgroupLayout.managedControllers {
            if let path = layout.v1Paths[controller], !paths.contains(path) { paths.append(path) }
        }
        if layout.mode == .hybrid, let unified = layout.unifiedPath { paths.append(unified) }
        hierarchies = paths
        placementHierarchies = layout.v1Options.keys.sorted().filter { !paths.contains($0) }
    }

    func directory(_ controller: String, _ path: String) -> String? {
        layout.v1Paths[controller].map { $0 + "/" + path }
    }

    public func directories(of path: String) -> [String] { (hierarchies + placementHierarchies).map { $0 + "/" + path } }
    public func delegableDirectories(of path: String) -> [String] { hierarchies.map { $0 + "/" + path } }
    public func freezeFiles(of path: String) -> [String] {
        directory("freezer", path).map { [$0 + "/freezer.state"] } ?? []
    }

    /// Hybrid mode's cgroup2 tree takes a child born there; each v1 hierarchy, a thread
    /// moving itself.
    public func entryPaths(of path: String) -> (bornInto: String?, tasks: [String]) {
        let unified = layout.mode == .hybrid ? layout.unifiedPath : nil
        let v1 = (hierarchies + placementHierarchies).filter { $0 != unified }
        return (unified.map { $0 + "/" + path }, v1.map { $0 + "/" + path + "/tasks" })
    }

    public func create(_ path: String, controllers: Set<String>) throws(CgroupError) {
        for controller in controllers.sorted() where layout.v1Paths[controller] == nil {
            throw .unavailable(controller: controller, layout: layout.description)
        }
        for hierarchy in hierarchies + placementHierarchies {
            let cpuset = layout.v1Options[hierarchy]?.split(separator: ",").contains("cpuset") ?? false
            try remakingVanishedParents { () throws(CgroupError) in
                var directory = hierarchy
                for component in path.split(separator: "/").map(String.init) {
                    let parent = directory
                    directory += "/" + component
                    try fileSystem.makeDirectory(directory)
                    // A new cpuset group has no CPUs or memory nodes, and takes no task until
                    // it has some: give it its parent's.
                    if cpuset {
                        for file in ["cpuset.cpus", "cpuset.mems"] where ((try? fileSystem.read(directory + "/" + file)) ?? "x").trimmed.isEmpty {
                            try fileSystem.write(directory + "/" + file, try fileSystem.read(parent + "/" + file).trimmed)
                        }
                    }
                }
            }
        }
    }

    public func delegate(_ path: String, controllers: Set<String>) throws(CgroupError) {}

    public func apply(_ limits: ResourceLimits, to path: String) throws(CgroupError) {
        let memoryDirectory = directory("memory", path)
        let current = memoryDirectory.flatMap { try? fileSystem.read($0 + "/memory.limit_in_bytes") }.flatMap { Int64($0.trimmed) }
        for write in CgroupTranslation.v1Writes(limits, currentMemoryLimit: current) {
            guard let directory = directory(write.controller, path) else {
                throw .unavailable(controller: write.controller, layout: layout.description)
            }
            if write.file.hasPrefix("memory.memsw"), !fileSystem.exists(directory + "/" + write.file) {
                throw .unavailable(controller: "memory swap accounting (memsw; boot with swapaccount=1)", layout: layout.description)
            }
            try applyWrite(write, in: directory) {
                (try? fileSystem.read(directory + "/memory.usage_in_bytes")).flatMap { Int64($0.trimmed) }
            }
        }
    }

    public func addProcess(_ pid: Int32, to path: String) throws(CgroupError) {
        for directory in directories(of: path) {
            try fileSystem.write(directory + "/cgroup.procs", String(pid))
        }
    }

    public func stats(of path: String) throws(CgroupError) -> CgroupStats {
        func read(_ controller: String, _ file: String) -> String? {
            directory(controller, path).flatMap { try? fileSystem.read($0 + "/" + file) }
        }
        var stats = CgroupStats()
        stats.cpuUsageMicroseconds = CgroupStats.number(read("cpuacct", "cpuacct.usage")).map { $0 / 1000 }
        let cpu = CgroupStats.keyed(read("cpu", "cpu.stat") ?? "")
        stats.throttledPeriods = cpu["nr_throttled"]
        stats.throttledMicroseconds = cpu["throttled_time"].map { $0 / 1000 }
        stats.memoryCurrent = CgroupStats.number(read("memory", "memory.usage_in_bytes"))
        stats.memoryPeak = CgroupStats.number(read("memory", "memory.max_usage_in_bytes"))
        stats.oomKills = read("memory", "memory.oom_control").flatMap { CgroupStats.keyed($0)["oom_kill"] }
        stats.pidsCurrent = pidsCurrent(of: path)
        return stats
    }

    public func pidsCurrent(of path: String) -> UInt64? {
        CgroupStats.number(directory("pids", path).flatMap { try? fileSystem.read($0 + "/pids.current") })
    }

    public func remove(_ path: String, expecting children: [String]) throws(CgroupError) {
        let present = directories(of: path).filter { fileSystem.exists($0) }
        guard !present.isEmpty else { return }
        // A group already empty (a lab whose pid namespace died with its init) is only
        // removed: nothing is left to freeze or kill, and nothing can join it.
        if removeIfEmpty(expected(present, children: children)) { return }
        if removeIfEmpty(present.flatMap { subtree($0) }) { return }
        let freezer = directory("freezer", path).flatMap { fileSystem.exists($0) ? $0 : nil }
        // No group below may stay frozen by its own state (a learner's freezer group): its
        // tasks could not die. Then the whole group is frozen so nothing forks during the
        // kill, and thawed so the kill lands.
        if let freezer { thawTree(freezer) }
        if let freezer { try? fileSystem.write(freezer + "/freezer.state", "FROZEN") }
        // SIGKILL is delivered to frozen tasks once they thaw; thaw right after queueing it.
        for directory in present {
            for member in subtree(directory) {
                for pid in (try? pids(at: member)) ?? [] { fileSystem.kill(pid) }
            }
        }
        if let freezer { try? fileSystem.write(freezer + "/freezer.state", "THAWED") }
        try killUntilEmpty(present)
        for directory in present { try removeDirectories(subtree(directory)) }
    }
}
