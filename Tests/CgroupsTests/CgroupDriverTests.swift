import Glibc
import POSIXSupport
import Testing

@testable import Cgroups

/// Both drivers against a fake tree: which files get which values, the removal order, and
/// the kernel's refusals turned into clear errors. No root.
@Suite struct CgroupDriverTests {
    @Test(arguments: [1, 2]) func limitsLandInTheRightFiles(version: Int) throws {
        let tree = try FakeCgroupTree(version: version)
        let manager = CgroupManager(layout: tree.layout, fileSystem: tree)
        var recorded: [String] = []
        let group = try manager.create("gantry/s1", limits: ResourceLimits(cpu: .cpus(0.5), memoryMax: 32 << 20, pidsMax: 20)) {
            recorded += $0
        }
        #expect(recorded == group.directories, "the ledger hears of every directory first")
        if version == 2 {
            let directory = tree.root + "/gantry/s1"
            #expect(try tree.read(directory + "/cpu.max") == "50000 100000")
            #expect(try tree.read(directory + "/memory.max") == "33554432")
            #expect(try tree.read(directory + "/pids.max") == "20")
            #expect(try tree.read(tree.root + "/cgroup.subtree_control") == "cpu memory pids")
            #expect(try tree.read(tree.root + "/gantry/cgroup.subtree_control") == "cpu memory pids")
        } else {
            #expect(try tree.read(tree.root + "/cpu/gantry/s1/cpu.cfs_quota_us") == "50000")
            #expect(try tree.read(tree.root + "/memory/gantry/s1/memory.limit_in_bytes") == "33554432")
            #expect(try tree.read(tree.root + "/pids/gantry/s1/pids.max") == "20")
            #expect(group.directories.count == 5, "cpu, cpuacct, memory, pids, freezer")
        }
    }

    @Test(arguments: [1, 2]) func appliedLimitsAreReadBackTheSameOnBothVersions(version: Int) throws {
        let tree = try FakeCgroupTree(version: version)
        let manager = CgroupManager(layout: tree.layout, fileSystem: tree)
        let limited = try manager.create("gantry/limited", limits: ResourceLimits(cpu: .cpus(0.5), memoryMax: 32 << 20, pidsMax: 20))
        let read = limited.appliedLimits()
        #expect(read.cpu == 0.5)
        #expect(read.memoryMax == 32 << 20)
        #expect(read.pidsMax == 20)
        #expect(read.cpuRaw == (version == 2 ? "50000 100000" : "cfs_quota_us 50000, cfs_period_us 100000"))
        // A group a learner made without limits: the files say "max" (v1: -1 and a
        // page-rounded LONG_MAX), which is no limit.
        let open = try manager.create("gantry/open", limits: ResourceLimits(pidsMax: 1))
        if version == 2 {
            for (file, value) in [("cpu.max", "max 100000"), ("memory.max", "max"), ("pids.max", "max")] {
                try tree.write(tree.root + "/gantry/open/" + file, value)
            }
        } else {
            try tree.write(tree.root + "/cpu/gantry/open/cpu.cfs_quota_us", "-1")
            try tree.write(tree.root + "/cpu/gantry/open/cpu.cfs_period_us", "100000")
            try tree.write(tree.root + "/memory/gantry/open/memory.limit_in_bytes", "9223372036854771712")
            try tree.write(tree.root + "/pids/gantry/open/pids.max", "max")
        }
        let none = open.appliedLimits()
        #expect(none.cpu == nil && none.memoryMax == nil && none.pidsMax == nil, "\(none)")
        #expect(none.pidsRaw == "max")
    }

    @Test(arguments: [1, 2]) func removalKillsEverythingAndRemovesDeepestFirst(version: Int) throws {
        let tree = try FakeCgroupTree(version: version)
        let manager = CgroupManager(layout: tree.layout, fileSystem: tree)
        let group = try manager.create("gantry/s2", limits: ResourceLimits(pidsMax: 100))
        try group.add(101)
        // The workload made nested groups of its own and put processes in them.
        for directory in group.directories {
            try tree.makeDirectory(directory + "/limit_cpu_50")
            try tree.makeDirectory(directory + "/limit_cpu_50/deeper")
        }
        tree.place(102, in: group.directories[0] + "/limit_cpu_50/deeper")
        try group.remove()
        #expect(Set(tree.kills).isSuperset(of: [101, 102]))
        for directory in group.directories { #expect(!tree.exists(directory)) }
        #expect(!tree.exists(tree.layout.unifiedPath.map { $0 + "/gantry" } ?? tree.root + "/cpu/gantry"), "the emptied parent goes too")
    }

    /// A group whose processes are gone (a lab whose init died) is only removed: nothing is
    /// killed, frozen or listed first, in every hierarchy, the learner's own groups too.
    @Test(arguments: [1, 2]) func anEmptyGroupIsRemovedWithoutReadingItsMembers(version: Int) throws {
        let tree = try FakeCgroupTree(version: version)
        let manager = CgroupManager(layout: tree.layout, fileSystem: tree)
        let group = try manager.create("gantry/s4", limits: ResourceLimits(pidsMax: 100))
        for directory in group.directories { try tree.makeDirectory(directory + "/limit_cpu_50") }
        let readBefore = tree.reads.count
        try group.remove()
        #expect(tree.kills.isEmpty)
        #expect(tree.reads.dropFirst(readBefore).allSatisfy { !$0.hasSuffix("/cgroup.procs") }, "\(tree.reads.dropFirst(readBefore))")
        for directory in group.directories { #expect(!tree.exists(directory)) }
    }

    @Test func v2MovesProcessesToALeafWhenItMustEnableControllers() throws {
        let tree = try FakeCgroupTree(version: 2)
        let manager = CgroupManager(layout: tree.layout, fileSystem: tree)
        let outer = try manager.create("gantry/lab", limits: ResourceLimits())
        try outer.add(200)
        // A nested group with limits needs controllers enabled in `lab`, which holds a process.
        _ = try manager.create("gantry/lab/inner", limits: ResourceLimits(pidsMax: 5))
        #expect(tree.pids(tree.root + "/gantry/lab/leaf") == [200])
        #expect(try tree.read(tree.root + "/gantry/lab/cgroup.subtree_control") == "pids")
    }

    @Test func aLabGroupCanHandControllersToGroupsMadeInsideIt() throws {
        let tree = try FakeCgroupTree(version: 2)
        let manager = CgroupManager(layout: tree.layout, fileSystem: tree)
        let lab = try manager.create("gantry/lab", limits: ResourceLimits(pidsMax: 512), delegating: ["cpu", "memory", "pids"])
        try tree.makeDirectory(tree.root + "/gantry/lab/init")
        try lab.add(300)
        try tree.write(tree.root + "/gantry/lab/init/cgroup.procs", "300")
        try manager.driver.delegate("gantry/lab", controllers: ["cpu", "memory", "pids"])
        #expect(try tree.read(tree.root + "/gantry/lab/cgroup.subtree_control") == "cpu memory pids")
        // What the learner's `mkdir /sys/fs/cgroup/limit_cpu_50` then gets:
        try tree.makeDirectory(tree.root + "/gantry/lab/limit_cpu_50")
        #expect(try tree.read(tree.root + "/gantry/lab/limit_cpu_50/cgroup.controllers") == "cpu memory pids")
    }

    @Test(arguments: [1, 2]) func aMemoryLimitBelowUsageSaysSo(version: Int) throws {
        let tree = try FakeCgroupTree(version: version)
        let manager = CgroupManager(layout: tree.layout, fileSystem: tree)
        let group = try manager.create("gantry/s3", limits: ResourceLimits())
        tree.refuseNextMemoryLimit()
        let error = #expect(throws: CgroupError.self) { try group.apply(ResourceLimits(memoryMax: 1 << 20)) }
        guard case .belowUsage(_, let limit, _) = error else {
            Issue.record("expected belowUsage, got \(String(describing: error))")
            return
        }
        #expect(limit == 1 << 20)
    }

    @Test func aControllerTheHostLacksIsNamed() throws {
        let tree = try FakeCgroupTree(version: 2)
        var layout = tree.layout
        layout.unifiedControllers = ["memory"]
        try tree.write(tree.root + "/cgroup.controllers", "memory")
        let manager = CgroupManager(layout: layout, fileSystem: tree)
        let error = #expect(throws: CgroupError.self) { _ = try manager.create("gantry/s4", limits: ResourceLimits(pidsMax: 3)) }
        #expect(error?.description.hasPrefix("the pids controller is not available on this host") == true)
    }

    @Test func pathsMustBeRelativeAndPlain() throws {
        let tree = try FakeCgroupTree(version: 2)
        let manager = CgroupManager(layout: tree.layout, fileSystem: tree)
        for path in ["/abs", "a/../b", "", "a//b"] {
            #expect(throws: CgroupError.self) { _ = try manager.create(path, limits: ResourceLimits()) }
        }
    }

    @Test func statsAreReadFromEachVersionsFiles() throws {
        let tree = try FakeCgroupTree(version: 2)
        let group = try CgroupManager(layout: tree.layout, fileSystem: tree).create("g", limits: ResourceLimits())
        let directory = group.directories[0]
        try tree.write(directory + "/cpu.stat", "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 10\nnr_throttled 4\nthrottled_usec 900\n")
        try tree.write(directory + "/memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n")
        let stats = try group.stats()
        #expect(stats.cpuUsageMicroseconds == 1500)
        #expect(stats.throttledPeriods == 4)
        #expect(stats.throttledMicroseconds == 900)
        #expect(stats.oomKills == 1)
    }

    @Test func viewsMountEachHierarchyOnItsOwnName() throws {
        let mountinfo = """
            30 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct
            31 25 0:27 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
            32 25 0:28 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw
            """
        let manager = CgroupManager(layout: CgroupLayout.detect(mountinfo: mountinfo))
        let view = Cgroup(path: "gantry/x", driver: manager.driver).view()
        #expect(
            view.map { "\($0.type) \($0.target) \($0.options ?? "")" } == [
                "tmpfs /sys/fs/cgroup mode=0755",
                "cgroup /sys/fs/cgroup/cpu,cpuacct cpu,cpuacct",
                "symlink /sys/fs/cgroup/cpu cpu,cpuacct",
                "symlink /sys/fs/cgroup/cpuacct cpu,cpuacct",
                "cgroup /sys/fs/cgroup/memory memory",
                "cgroup2 /sys/fs/cgroup/unified ",
            ])
        let unified = CgroupManager(layout: CgroupLayout.detect(mountinfo: "25 22 0:22 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw"))
        #expect(
            Cgroup(path: "gantry/x", driver: unified.driver).view().map { "\($0.type) \($0.target)" } == ["tmpfs /sys/fs/cgroup", "cgroup2 /sys/fs/cgroup"],
            "cgroup2 cannot go straight onto the host's cgroup2 root")
    }

    /// A read that fails after the open is an error, not an empty file: a group removed in
    /// between fails its reads with ENODEV, and its `cgroup.controllers` read as "" once made
    /// a lab say the pids controller did not exist (a directory stands in: EISDIR on read).
    @Test func aFailedReadIsAnErrorNotAnEmptyFile() {
        #expect(throws: CgroupError.io(operation: "read", path: "/", cause: Errno(EISDIR))) {
            _ = try KernelCgroupFileSystem().read("/")
        }
    }
}
