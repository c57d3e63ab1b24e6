internal import POSIXSupport

/// What a group may use: one model for both cgroup versions. Nil means "leave as is"
/// (unlimited for a new group).
public struct ResourceLimits: Sendable, Hashable, Codable {
    /// CPU time per period: `quota` µs of CPU every `period` µs (nil quota: no limit).
    public struct CPUQuota: Sendable, Hashable, Codable {
        public var quota: Int64?
        public var period: UInt64

        public init(quota: Int64?, period: UInt64 = 100_000) {
            self.quota = quota
            self.period = period
        }

        /// `--cpus 0.5`: half of one CPU, as a quota over the default 100 ms period.
        public static func cpus(_ fraction: Double, period: UInt64 = 100_000) -> CPUQuota {
            CPUQuota(quota: Int64((fraction * Double(period)).rounded()), period: period)
        }

        /// The share of one CPU it allows (0.5 for 50000/100000); nil when unlimited.
        public var fraction: Double? { quota.map { Double($0) / Double(period) } }
    }

    public var cpu: CPUQuota?
    /// Relative CPU weight in cgroup v2 terms: 1 to 10000, 100 is the default.
    public var cpuWeight: UInt64?
    /// Bytes of memory; the kernel OOM-kills inside the group beyond it.
    public var memoryMax: Int64?
    /// Bytes of swap on top of memory (v2 semantics; v1's memsw is memory + this).
    public var swapMax: Int64?
    /// Tasks (processes and threads). 0 cannot be honoured (the group's first process counts)
    /// and is written as 1, as runc does; negative means no limit.
    public var pidsMax: Int64?

    public init(
        cpu: CPUQuota? = nil, cpuWeight: UInt64? = nil, memoryMax: Int64? = nil, swapMax: Int64? = nil,
        pidsMax: Int64? = nil
    ) {
        self.cpu = cpu
        self.cpuWeight = cpuWeight
        self.memoryMax = memoryMax
        self.swapMax = swapMax
        self.pidsMax = pidsMax
    }

    public var isEmpty: Bool { self == ResourceLimits() }

    /// Controllers these limits need.
    public var controllers: Set<String> {
        var result: Set<String> = []
        if cpu != nil || cpuWeight != nil { result.insert("cpu") }
        if memoryMax != nil || swapMax != nil { result.insert("memory") }
        if pidsMax != nil { result.insert("pids") }
        return result
    }
}

/// One file write that applies part of a `ResourceLimits`.
public struct CgroupWrite: Sendable, Hashable, CustomStringConvertible {
    public var controller: String
    public var file: String
    public var value: String

    public var description: String { "\(file) = \(value)" }
}

/// The translation table between the model and the files of each version, with the quirks
/// runc and systemd learned.
public enum CgroupTranslation {
    /// cgroup v2 files, in the order to write them.
    public static func v2Writes(_ limits: ResourceLimits) -> [CgroupWrite] {
        var writes: [CgroupWrite] = []
        if let cpu = limits.cpu {
            writes.append(CgroupWrite(controller: "cpu", file: "cpu.max", value: "\(cpu.quota.map(String.init) ?? "max") \(cpu.period)"))
        }
        if let weight = limits.cpuWeight {
            writes.append(CgroupWrite(controller: "cpu", file: "cpu.weight", value: String(min(max(weight, 1), 10_000))))
        }
        if let memory = limits.memoryMax {
            writes.append(CgroupWrite(controller: "memory", file: "memory.max", value: bytes(memory)))
        }
        if let swap = limits.swapMax {
            writes.append(CgroupWrite(controller: "memory", file: "memory.swap.max", value: bytes(swap)))
        }
        if let pids = limits.pidsMax {
            writes.append(CgroupWrite(controller: "pids", file: "pids.max", value: pidsValue(pids)))
        }
        return writes
    }

    /// cgroup v1 files, in the order to write them. The kernel keeps memsw (memory + swap)
    /// at or above memory at every moment, so raising the limit writes memsw first and
    /// lowering it writes memory first; `currentMemoryLimit` tells which this is.
    public static func v1Writes(_ limits: ResourceLimits, currentMemoryLimit: Int64?) -> [CgroupWrite] {
        var writes: [CgroupWrite] = []
        if let cpu = limits.cpu {
            writes.append(CgroupWrite(controller: "cpu", file: "cpu.cfs_period_us", value: String(cpu.period)))
            writes.append(CgroupWrite(controller: "cpu", file: "cpu.cfs_quota_us", value: cpu.quota.map(String.init) ?? "-1"))
        }
        if let weight = limits.cpuWeight {
            writes.append(CgroupWrite(controller: "cpu", file: "cpu.shares", value: String(shares(fromWeight: weight))))
        }
        if limits.memoryMax != nil || limits.swapMax != nil {
            let memory = limits.memoryMax.map { CgroupWrite(controller: "memory", file: "memory.limit_in_bytes", value: v1Bytes($0)) }
            var total: CgroupWrite?
            if let swap = limits.swapMax {
                let sum = limits.memoryMax.flatMap { $0 >= 0 && swap >= 0 ? $0 + swap : nil }
                total = CgroupWrite(controller: "memory", file: "memory.memsw.limit_in_bytes", value: sum.map(String.init) ?? "-1")
            }
            let raising = limits.memoryMax.map { new in currentMemoryLimit.map { new < 0 || new > $0 } ?? true } ?? true
            writes += (raising ? [total, memory] : [memory, total]).compactMap { $0 }
        }
        if let pids = limits.pidsMax {
            writes.append(CgroupWrite(controller: "pids", file: "pids.max", value: pidsValue(pids)))
        }
        return writes
    }

    /// v2 weight (1–10000, default 100) to v1 shares (2–262144, default 1024), keeping the
    /// defaults equal so "100" and "1024" mean "as much as anyone".
    public static func shares(fromWeight weight: UInt64) -> UInt64 {
        min(max(weight * 1024 / 100, 2), 262_144)
    }

    public static func weight(fromShares shares: UInt64) -> UInt64 {
        min(max(shares * 100 / 1024, 1), 10_000)
    }

    static func pidsValue(_ pids: Int64) -> String {
        pids < 0 ? "max" : String(max(pids, 1))
    }

    static func bytes(_ value: Int64) -> String { value < 0 ? "max" : String(value) }
    static func v1Bytes(_ value: Int64) -> String { value < 0 ? "-1" : String(value) }
}

extension ResourceLimits {
    /// Parses sizes the way people write them: `64M`, `1G`, `512k`, `1048576`, `max`.
    public static func parseBytes(_ text: String) -> Int64? {
        let lower = text.lowercased()
        if lower == "max" || lower == "-1" { return -1 }
        let units: [(String, Int64)] = [("k", 1 << 10), ("m", 1 << 20), ("g", 1 << 30), ("t", 1 << 40)]
        for (suffix, scale) in units {
            for spelled in [suffix + "ib", suffix + "b", suffix] where lower.hasSuffix(spelled) {
                guard let number = Double(lower.dropLast(spelled.count)), number >= 0 else { return nil }
                return Int64(number * Double(scale))
            }
        }
        return Int64(lower).flatMap { $0 >= 0 ? $0 : nil }
    }
}

extension ResourceLimits {
    /// A size the way people read it: `1 GiB`, `512 MiB`, `64 KiB`, `100 bytes`.
    public static func formatBytes(_ value: Int64) -> String {
        if value < 0 { return "no limit" }
        for (unit, scale) in [("TiB", Int64(1) << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] where value >= scale {
            let amount = Double(value) / Double(scale)
            return (amount == amount.rounded() ? String(Int64(amount)) : String(oneDecimal: amount)) + " " + unit
        }
        return "\(value) bytes"
    }
}
