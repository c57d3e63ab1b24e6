import POSIXSupport
import Testing

@testable import Cgroups

/// Layout detection and the translation table: pure, no root.
@Suite struct CgroupModelTests {
    static let hybridMountinfo = """
        31 27 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
        32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
        33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
        35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
        37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
        39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
        40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
        41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
        """

    @Test func hybridHostsAreRecognised() {
        let layout = CgroupLayout.detect(mountinfo: Self.hybridMountinfo) { _ in "hugetlb\n" }
        #expect(layout.mode == .hybrid)
        #expect(layout.unifiedPath == "/sys/fs/cgroup/unified")
        #expect(layout.v1Paths["memory"] == "/sys/fs/cgroup/memory")
        #expect(layout.v1Paths["name=systemd"] == nil, "named hierarchies have no controller")
        #expect(layout.v1Options["/sys/fs/cgroup/systemd"] == "name=systemd")
        #expect(layout.version(of: "cpu") == 1)
        #expect(layout.version(of: "hugetlb") == 2)
    }

    @Test func unifiedHostsAreRecognised() {
        let mountinfo = "25 22 0:22 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot"
        let layout = CgroupLayout.detect(mountinfo: mountinfo) { _ in "cpuset cpu io memory hugetlb pids rdma misc\n" }
        #expect(layout.mode == .unified)
        #expect(layout.version(of: "memory") == 2)
        #expect(layout.version(of: "freezer") == nil, "v2 freezes with cgroup.freeze, not a controller")
    }

    @Test func legacyHostsWithCoMountedControllersAreRecognised() {
        let mountinfo = """
            30 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid - cgroup cgroup rw,cpu,cpuacct
            31 25 0:27 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory
            """
        let layout = CgroupLayout.detect(mountinfo: mountinfo)
        #expect(layout.mode == .legacy)
        #expect(layout.v1Paths["cpu"] == "/sys/fs/cgroup/cpu,cpuacct")
        #expect(layout.v1Paths["cpuacct"] == "/sys/fs/cgroup/cpu,cpuacct")
        #expect(layout.v1Options["/sys/fs/cgroup/cpu,cpuacct"] == "cpu,cpuacct")
    }

    @Test func halfACPUIsTheSameLimitInBothVersions() {
        let limits = ResourceLimits(cpu: .cpus(0.5))
        #expect(CgroupTranslation.v2Writes(limits).map(\.description) == ["cpu.max = 50000 100000"])
        #expect(CgroupTranslation.v1Writes(limits, currentMemoryLimit: nil).map(\.description) == ["cpu.cfs_period_us = 100000", "cpu.cfs_quota_us = 50000"])
        #expect(ResourceLimits.CPUQuota(quota: 200_000).fraction == 2.0, "the notes' 200000 would allow two CPUs")
        #expect(CgroupTranslation.v2Writes(ResourceLimits(cpu: .init(quota: nil))).map(\.value) == ["max 100000"])
        #expect(CgroupTranslation.v1Writes(ResourceLimits(cpu: .init(quota: nil)), currentMemoryLimit: nil).last?.value == "-1")
    }

    @Test func weightAndSharesKeepTheirDefaultsEqual() {
        #expect(CgroupTranslation.shares(fromWeight: 100) == 1024)
        #expect(CgroupTranslation.weight(fromShares: 1024) == 100)
        #expect(CgroupTranslation.shares(fromWeight: 1) == 10)
        #expect(CgroupTranslation.shares(fromWeight: 10_000) == 102_400)
        #expect(CgroupTranslation.weight(fromShares: 2) == 1, "clamped to the v2 minimum")
        #expect(CgroupTranslation.weight(fromShares: 262_144) == 10_000, "clamped to the v2 maximum")
        #expect(CgroupTranslation.v1Writes(ResourceLimits(cpuWeight: 50), currentMemoryLimit: nil).map(\.description) == ["cpu.shares = 512"])
    }

    @Test func pidsZeroIsOneAndNegativeIsMax() {
        #expect(CgroupTranslation.v2Writes(ResourceLimits(pidsMax: 0)).map(\.value) == ["1"])
        #expect(CgroupTranslation.v2Writes(ResourceLimits(pidsMax: -1)).map(\.value) == ["max"])
        #expect(CgroupTranslation.v1Writes(ResourceLimits(pidsMax: 20), currentMemoryLimit: nil).map(\.description) == ["pids.max = 20"])
    }

    @Test func memoryAndSwapAreWrittenInTheOrderTheKernelAccepts() {
        let limits = ResourceLimits(memoryMax: 64 << 20, swapMax: 32 << 20)
        // Raising from 32M: memsw first (it must stay >= memory).
        #expect(CgroupTranslation.v1Writes(limits, currentMemoryLimit: 32 << 20).map(\.file) == ["memory.memsw.limit_in_bytes", "memory.limit_in_bytes"])
        // Lowering from unlimited-as-a-number: memory first.
        #expect(CgroupTranslation.v1Writes(limits, currentMemoryLimit: Int64.max).map(\.file) == ["memory.limit_in_bytes", "memory.memsw.limit_in_bytes"])
        #expect(CgroupTranslation.v1Writes(limits, currentMemoryLimit: nil).last?.value == String(64 << 20))
        #expect(CgroupTranslation.v1Writes(limits, currentMemoryLimit: nil).first?.value == String(96 << 20), "memsw = memory + swap")
        #expect(CgroupTranslation.v2Writes(limits).map(\.description) == ["memory.max = 67108864", "memory.swap.max = 33554432"])
        #expect(CgroupTranslation.v2Writes(ResourceLimits(memoryMax: -1)).map(\.value) == ["max"])
    }

    @Test func sizesParseAsPeopleWriteThem() {
        #expect(ResourceLimits.parseBytes("64M") == 64 << 20)
        #expect(ResourceLimits.parseBytes("1g") == 1 << 30)
        #expect(ResourceLimits.parseBytes("512KiB") == 512 << 10)
        #expect(ResourceLimits.parseBytes("1.5G") == 3 << 29)
        #expect(ResourceLimits.parseBytes("4096") == 4096)
        #expect(ResourceLimits.parseBytes("max") == -1)
        #expect(ResourceLimits.parseBytes("lots") == nil)
        #expect(ResourceLimits.parseBytes("-5M") == nil)
    }

    @Test func mountinfoIsReadOnceAndHiddenMountsAreNotVisible() {
        #expect(ProcFS.unescape("/mnt/with\\040space") == "/mnt/with space")
        // 30 is / ; 40 a tmpfs on /a; 41 a mount below it at /a/b; 42 another tmpfs on /a,
        // covering 40 and with it 41.
        let text = """
            30 1 8:1 / / rw - ext4 /dev/vda rw
            40 30 0:50 / /a rw,nosuid - tmpfs tmpfs rw
            41 40 0:51 / /a/b rw - tmpfs tmpfs rw
            42 40 0:52 / /a ro - proc proc rw
            """
        let mounts = ProcFS.parseMountInfo(text)
        #expect(mounts.map(\.id) == [30, 40, 41, 42])
        #expect(mounts[1].options == ["rw", "nosuid"])
        #expect(ProcFS.visible(mounts).map(\.id) == [30, 42])
    }

    @Test func errorsSayWhatToDo() {
        #expect(
            CgroupError.belowUsage(path: "/sys/fs/cgroup/memory/g", limit: 1024, usage: 4096).description
                == "memory limit 1024 bytes for /sys/fs/cgroup/memory/g is below what the group uses now (4096 bytes); raise the limit or stop some of its processes first"
        )
        #expect(CgroupError.io(operation: "mkdir", path: "/sys/fs/cgroup/x", cause: Errno(13)).description.contains("needs root"))
    }
}
