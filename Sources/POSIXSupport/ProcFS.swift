internal import Glibc

/// Readers of the kernel's /proc formats, one place each.
public enum ProcFS {
    /// The fields of `/proc/PID/stat` (or `/proc/PID/task/TID/stat`) Gantry uses.
    public struct Stat: Sendable, Equatable {
        /// R, S, D, Z (zombie), T…
        public var state: Character
        public var parent: Int32
        /// Clock ticks in user and kernel mode.
        public var userTicks: UInt64
        public var systemTicks: UInt64
        /// When the process started, in clock ticks since boot: with the pid, it names one
        /// process for good (a pid alone may be reused).
        public var startTicks: UInt64
        /// Where the kernel shows the argument and environment strings (arg_start…env_end).
        public var arguments: Range<UInt>
        public var environment: Range<UInt>
    }

    /// Parses a stat line. The command name is in parentheses and may hold spaces and
    /// parentheses of its own, so fields are counted from the last ')'.
    public static func parseStat(_ text: String) -> Stat? {
        guard let close = text.lastIndex(of: ")") else { return nil }
        // Field 3 (state) is the first after "pid (comm) ".
        let fields = text[text.index(after: close)...].split(separator: " ")
        func number(_ field: Int) -> UInt64? { fields.count > field - 3 ? UInt64(String(fields[field - 3]).trimmed) : nil }
        guard let state = fields.first?.first, let parent = number(4), let user = number(14), let system = number(15),
            let start = number(22)
        else { return nil }
        let arguments = (number(48), number(49)), environment = (number(50), number(51))
        func range(_ bounds: (UInt64?, UInt64?)) -> Range<UInt> {
            guard let low = bounds.0, let high = bounds.1, low <= high else { return 0..<0 }
            return UInt(low)..<UInt(high)
        }
        return Stat(
            state: state, parent: Int32(truncatingIfNeeded: parent), userTicks: user, systemTicks: system,
            startTicks: start, arguments: range(arguments), environment: range(environment))
    }

    /// `/proc/PID/stat` of a process (or `self`), or nil when it is gone.
    public static func stat(_ pid: String) -> Stat? {
        POSIX.readFile("/proc/\(pid)/stat").flatMap(parseStat)
    }
}

extension ProcFS {
    /// One line of `/proc/PID/mountinfo`.
    public struct Mount: Sendable, Equatable {
        public var id: Int
        public var parent: Int
        /// Where it is mounted, as the reading process's root shows it (unescaped).
        public var mountPoint: String
        /// Per-mount options (`rw,nosuid,relatime`).
        public var options: [String]
        public var type: String
        public var source: String
        /// The superblock's options (`rw,size=…`, a cgroup hierarchy's controllers).
        public var superOptions: [String]
    }

    /// Parses mountinfo text; lines it cannot read are skipped.
    public static func parseMountInfo(_ text: String) -> [Mount] {
        text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ").map(String.init)
            guard fields.count >= 10, let separator = fields.firstIndex(of: "-"), separator >= 6, separator + 3 < fields.count,
                let id = Int(fields[0]), let parent = Int(fields[1])
            else { return nil }
            return Mount(
                id: id, parent: parent, mountPoint: unescape(fields[4]), options: fields[5].split(separator: ",").map(String.init),
                type: fields[separator + 1], source: unescape(fields[separator + 2]),
                superOptions: fields[separator + 3].split(separator: ",").map(String.init))
        }
    }

    /// The mounts of process `pid` (or `self`).
    public static func mounts(_ pid: String) -> [Mount] {
        parseMountInfo(POSIX.readFile("/proc/\(pid)/mountinfo") ?? "")
    }

    /// mountinfo escapes space, tab, newline and backslash as \ooo.
    public static func unescape(_ field: String) -> String {
        guard field.contains("\\") else { return field }
        var bytes: [UInt8] = []
        var iterator = Array(field.utf8)[...]
        while let byte = iterator.popFirst() {
            if byte == UInt8(ascii: "\\"), iterator.count >= 3,
                let value = UInt8(String(decoding: iterator.prefix(3), as: UTF8.self), radix: 8)
            {
                bytes.append(value)
                iterator = iterator.dropFirst(3)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The mounts a path lookup can reach: one covered by a later mount on the same point,
    /// or below a covered one, is hidden (it is in mountinfo, but nothing sees it).
    public static func visible(_ mounts: [Mount]) -> [Mount] {
        let byID = Dictionary(mounts.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        // Covered: another mount sits on top of it, at the same point.
        let covered = Set(mounts.compactMap { mount in byID[mount.parent].flatMap { $0.mountPoint == mount.mountPoint ? $0.id : nil } })
        var memo: [Int: Bool] = [:]
        func isVisible(_ mount: Mount, depth: Int = 0) -> Bool {
            if let known = memo[mount.id] { return known }
            guard !covered.contains(mount.id) else { memo[mount.id] = false; return false }
            // The mount its stack sits in: down the stack (same point), then one more.
            var bottom = mount
            while let below = byID[bottom.parent], below.id != bottom.id, below.mountPoint == bottom.mountPoint { bottom = below }
            var result = true
            if let host = byID[bottom.parent], host.id != bottom.id, depth < 64 { result = isVisible(host, depth: depth + 1) }
            memo[mount.id] = result
            return result
        }
        return mounts.filter { isVisible($0) }
    }

    /// The status fields of `/proc/PID/status` that are capability sets, as bit masks.
    public static func capabilities(_ pid: String) -> (effective: UInt64, bounding: UInt64)? {
        guard let text = POSIX.readFile("/proc/\(pid)/status") else { return nil }
        func mask(_ name: String) -> UInt64? {
            text.split(separator: "\n").first { $0.hasPrefix(name + ":") }
                .flatMap { UInt64($0.split(separator: "\t").last.map(String.init)?.trimmed ?? "", radix: 16) }
        }
        guard let effective = mask("CapEff"), let bounding = mask("CapBnd") else { return nil }
        return (effective, bounding)
    }
}
