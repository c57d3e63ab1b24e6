internal import POSIXSupport

/// cgroup v1: one hierarchy per controller (or co-mounted set), each with its own copy of the
/// group. Processes join every hierarchy; removal freezes the group first (freezer) so a
/// fork bomb cannot outrun the kill loop.
///
/// In hybrid mode the group is mirrored in the controller-less cgroup2 tree too, so that a
/// cgroup namespace made inside it is rooted there as well, not at the host's root.
public struct CgroupV1Driver: CgroupDriver {
    public let layout: CgroupLayout
    public let fileSystem: any CgroupFileSystem
    /// Distinct hierarchy mount points for the managed controllers, plus the unified mirror.
    let hierarchies: [String]

    public init(layout: CgroupLayout, fileSystem: any CgroupFileSystem) {
        self.layout = layout
        self.fileSystem = fileSystem
        var paths: [String] = []
        for controller in CgroupLayout.managedControllers {
            if let path = layout.v1Paths[controller], !paths.contains(path) { paths.append(path) }
        }
        if layout.mode == .hybrid, let unified = layout.unifiedPath { paths.append(unified) }
        hierarchies = paths
    }

    func directory(_ controller: String, _ path: String) -> String? {
        layout.v1Paths[controller].map { $0 + "/" + path }
    }

    public func directories(of path: String) -> [String] { hierarchies.map { $0 + "/" + path } }

    public func create(_ path: String, controllers: Set<String>) throws(CgroupError) {
        for controller in controllers.sorted() where layout.v1Paths[controller] == nil {
            throw .unavailable(controller: controller, layout: layout.description)
        }
        for hierarchy in hierarchies {
            var directory = hierarchy
            for component in path.split(separator: "/") {
                directory += "/" + component
                try fileSystem.makeDirectory(directory)
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
        stats.pidsCurrent = CgroupStats.number(read("pids", "pids.current"))
        return stats
    }

    public func remove(_ path: String) throws(CgroupError) {
        let present = directories(of: path).filter { fileSystem.exists($0) }
        guard !present.isEmpty else { return }
        let freezer = directory("freezer", path).flatMap { fileSystem.exists($0) ? $0 : nil }
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
