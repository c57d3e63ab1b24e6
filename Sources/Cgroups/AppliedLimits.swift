internal import POSIXSupport

/// What a group is allowed now, as its files say, on either version: nil where there is no
/// limit. Each `raw` is the file's text as read (nil: no such file, the controller is not on
/// for the group), for messages that show the learner what the kernel holds.
public struct AppliedLimits: Sendable, Equatable {
    /// CPU time as a fraction of one CPU (quota / period).
    public var cpu: Double?
    public var cpuRaw: String?
    public var memoryMax: Int64?
    public var memoryRaw: String?
    public var pidsMax: Int64?
    public var pidsRaw: String?

    public init(
        cpu: Double? = nil, cpuRaw: String? = nil, memoryMax: Int64? = nil, memoryRaw: String? = nil,
        pidsMax: Int64? = nil, pidsRaw: String? = nil
    ) {
        self.cpu = cpu
        self.cpuRaw = cpuRaw
        self.memoryMax = memoryMax
        self.memoryRaw = memoryRaw
        self.pidsMax = pidsMax
        self.pidsRaw = pidsRaw
    }

    /// A limit file's number; "max" (and v1's "no limit", a page-rounded LONG_MAX, or -1)
    /// is nil.
    static func number(_ raw: String?) -> Int64? {
        guard let raw, let value = Int64(raw), value >= 0, value < Int64.max / 2 else { return nil }
        return value
    }
}

extension CgroupV2Driver {
    /// cpu.max (`QUOTA PERIOD`, `max PERIOD`), memory.max, pids.max.
    public func appliedLimits(of path: String) -> AppliedLimits {
        func read(_ file: String) -> String? { (try? fileSystem.read(root + "/" + path + "/" + file))?.trimmed }
        var limits = AppliedLimits(cpuRaw: read("cpu.max"), memoryRaw: read("memory.max"), pidsRaw: read("pids.max"))
        let cpu = limits.cpuRaw?.split(separator: " ") ?? []
        if cpu.count == 2, let quota = Double(cpu[0]), let period = Double(cpu[1]), period > 0 { limits.cpu = quota / period }
        limits.memoryMax = AppliedLimits.number(limits.memoryRaw)
        limits.pidsMax = AppliedLimits.number(limits.pidsRaw)
        return limits
    }
}

extension CgroupV1Driver {
    /// cpu.cfs_quota_us over cpu.cfs_period_us (-1: none), memory.limit_in_bytes, pids.max,
    /// each in its own hierarchy.
    public func appliedLimits(of path: String) -> AppliedLimits {
        func read(_ controller: String, _ file: String) -> String? {
            directory(controller, path).flatMap { (try? fileSystem.read($0 + "/" + file))?.trimmed }
        }
        var limits = AppliedLimits(memoryRaw: read("memory", "memory.limit_in_bytes"), pidsRaw: read("pids", "pids.max"))
        if let quota = read("cpu", "cpu.cfs_quota_us"), let period = read("cpu", "cpu.cfs_period_us") {
            limits.cpuRaw = "cfs_quota_us \(quota), cfs_period_us \(period)"
            if let quota = Double(quota), let period = Double(period), quota >= 0, period > 0 { limits.cpu = quota / period }
        }
        limits.memoryMax = AppliedLimits.number(limits.memoryRaw)
        limits.pidsMax = AppliedLimits.number(limits.pidsRaw)
        return limits
    }
}
