internal import Glibc
public import POSIXSupport

/// The file operations a driver needs. The kernel's cgroupfs in production; a fake tree in a
/// temporary directory for tests (which must also pretend to be the kernel: populate new
/// directories with control files, and "kill" processes).
public protocol CgroupFileSystem: Sendable {
    func read(_ path: String) throws(CgroupError) -> String
    /// One write(2) of the whole value: cgroupfs takes each write as one command.
    func write(_ path: String, _ value: String) throws(CgroupError)
    func makeDirectory(_ path: String) throws(CgroupError)
    func removeDirectory(_ path: String) throws(CgroupError)
    func subdirectories(_ path: String) -> [String]
    func exists(_ path: String) -> Bool
    func kill(_ pid: Int32)
    /// Pause between retries of a removal that is still busy.
    func backoff(attempt: Int)
    /// chown: delegating a group to an unprivileged owner (a lab's root).
    func changeOwner(_ path: String, uid: UInt32, gid: UInt32) throws(CgroupError)
}

/// cgroupfs as the kernel provides it.
public struct KernelCgroupFileSystem: CgroupFileSystem {
    public init() {}

    public func read(_ path: String) throws(CgroupError) -> String {
        guard let text = POSIX.readFile(path) else { throw .io(operation: "read", path: path, cause: .current) }
        return text
    }

    public func write(_ path: String, _ value: String) throws(CgroupError) {
        let fd = try io("open", path) { open(path, O_WRONLY | O_CLOEXEC) }
        defer { close(fd) }
        var bytes = Array(value.utf8)
        try io("write '\(value)' to", path) { Glibc.write(fd, &bytes, bytes.count) }
    }

    public func makeDirectory(_ path: String) throws(CgroupError) {
        try io("mkdir", path, unless: .exists) { mkdir(path, 0o755) }
    }

    public func removeDirectory(_ path: String) throws(CgroupError) {
        try io("rmdir", path, unless: .noSuchFile) { rmdir(path) }
    }

    /// One call through `POSIX.call`, its failure as `.io` naming the operation and file;
    /// `unless` is the errno that means there was nothing to do.
    @discardableResult
    private func io<Result: FixedWidthInteger>(
        _ operation: String, _ path: String, unless harmless: Errno? = nil,
        _ body: () -> Result
    ) throws(CgroupError) -> Result {
        do { return try POSIX.call(body) } catch {
            if error == harmless { return 0 }
            throw .io(operation: operation, path: path, cause: error)
        }
    }

    public func subdirectories(_ path: String) -> [String] {
        POSIX.list(path, directoriesOnly: true).sorted()
    }

    public func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    public func kill(_ pid: Int32) { _ = Glibc.kill(pid, SIGKILL) }

    public func changeOwner(_ path: String, uid: UInt32, gid: UInt32) throws(CgroupError) {
        try io("chown", path) { chown(path, uid, gid) }
    }

    /// 1, 2, 4 … ms, up to 100 ms: a cgroup is removable shortly after its last task is reaped.
    /// From 0.1 ms, doubling to 100 ms: a killed group usually empties within a millisecond,
    /// and a first pause of a whole one was most of a lab's teardown.
    public func backoff(attempt: Int) { usleep(useconds_t(min(100 << min(attempt, 10), 100_000))) }
}

/// Why a cgroup operation failed, saying which file and what to do.
public enum CgroupError: Error, Sendable, Equatable, CustomStringConvertible {
    case io(operation: String, path: String, cause: Errno)
    /// EBUSY on a memory limit: the group already uses more than the new limit.
    case belowUsage(path: String, limit: Int64, usage: Int64?)
    case unavailable(controller: String, layout: String)
    /// Processes or child groups were still there after every attempt to remove them.
    case stillBusy(path: String, detail: String)
    case invalid(String)

    /// The failed call's errno, for an `.io` error.
    public var cause: Errno? {
        if case .io(_, _, let cause) = self { return cause }
        return nil
    }

    public var description: String {
        switch self {
        case .io(let operation, let path, let cause):
            var text = "\(operation) \(path): \(cause)"
            switch cause.rawValue {
            case EACCES, EPERM: text += " — managing cgroups needs root, or a subtree delegated to you"
            case ENOENT: text += " — this kernel or cgroup version has no such file"
            case EINVAL: text += " — the kernel rejected the value"
            default: break
            }
            return text
        case .belowUsage(let path, let limit, let usage):
            return "memory limit \(limit) bytes for \(path) is below what the group uses now"
                + (usage.map { " (\($0) bytes)" } ?? "") + "; raise the limit or stop some of its processes first"
        case .unavailable(let controller, let layout):
            return "the \(controller) controller is not available on this host (\(layout))"
        case .stillBusy(let path, let detail):
            return "could not remove \(path): \(detail)"
        case .invalid(let message):
            return message
        }
    }
}

/// What a group has used; nil where this host or version does not say.
public struct CgroupStats: Sendable, Equatable {
    public var cpuUsageMicroseconds: UInt64?
    public var throttledPeriods: UInt64?
    public var throttledMicroseconds: UInt64?
    public var memoryCurrent: UInt64?
    public var memoryPeak: UInt64?
    public var oomKills: UInt64?
    public var pidsCurrent: UInt64?

    public init() {}

    /// `key value` lines (cpu.stat, memory.events, memory.oom_control) as a dictionary.
    static func keyed(_ text: String) -> [String: UInt64] {
        var result: [String: UInt64] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let value = UInt64(parts[1]) { result[String(parts[0])] = value }
        }
        return result
    }

    static func number(_ text: String?) -> UInt64? {
        text.flatMap { UInt64($0.trimmed) }
    }
}
