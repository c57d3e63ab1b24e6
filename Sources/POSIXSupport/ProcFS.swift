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
              let start = number(22) else { return nil }
        let arguments = (number(48), number(49)), environment = (number(50), number(51))
        func range(_ bounds: (UInt64?, UInt64?)) -> Range<UInt> {
            guard let low = bounds.0, let high = bounds.1, low <= high else { return 0..<0 }
            return UInt(low)..<UInt(high)
        }
        return Stat(state: state, parent: Int32(truncatingIfNeeded: parent), userTicks: user, systemTicks: system,
                    startTicks: start, arguments: range(arguments), environment: range(environment))
    }

    /// `/proc/PID/stat` of a process (or `self`), or nil when it is gone.
    public static func stat(_ pid: String) -> Stat? {
        POSIX.readFile("/proc/\(pid)/stat").flatMap(parseStat)
    }
}
