internal import Glibc
public import POSIXSupport

/// A session's list of side effects the kernel will not undo by itself (cgroup directories,
/// a lab's keeper), written *before* each is made and undone last-in-first-out. Links and
/// mounts need no entry: they live in namespaces that die with the session's processes.
///
/// The file is `<directory>/<session>.ledger`; its owner holds an exclusive flock on it for
/// the whole session, so a ledger whose lock can be taken belongs to a dead session, and
/// `gantry cleanup` may replay it. One line per entry, `kind<TAB>value`, appended with one
/// write before the side effect is made: a crash of the process loses at most the entry
/// being written, and never one already acted on. Not fsync'd: what a ledger lists (cgroups,
/// veths, mounts, processes) does not outlive the kernel, so a ledger lost with a power
/// failure describes nothing left to undo; an fsync per entry was ~7% of a lab's start.
public final class Ledger: Sendable {
    public enum Entry: Sendable, Hashable, CustomStringConvertible {
        /// A cgroup directory (absolute), removed with everything in it.
        case cgroupDirectory(String)
        /// A process that must be gone before the rest is undone (a lab's keeper), named by
        /// its pid and start time so a reused pid is never mistaken for it.
        case process(pid: Int32, startTicks: UInt64)

        var line: String {
            switch self {
            case .cgroupDirectory(let path): "cgroup\t" + path
            case .process(let pid, let start): "process\t\(pid):\(start)"
            }
        }

        init?(line: Substring) {
            let parts = line.split(separator: "\t", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { return nil }
            switch parts[0] {
            case "cgroup": self = .cgroupDirectory(parts[1])
            case "process":
                let fields = parts[1].split(separator: ":")
                guard fields.count == 2, let pid = Int32(fields[0]), let start = UInt64(fields[1]) else { return nil }
                self = .process(pid: pid, startTicks: start)
            default: return nil
            }
        }

        public var description: String { line.split(separator: "\t").joined(separator: " ") }
    }

    public let path: String
    private let fd: Int32

    /// Where ledgers live: /run/gantry as root, $XDG_RUNTIME_DIR/gantry otherwise.
    public static func defaultDirectory() -> String {
        if geteuid() == 0 { return "/run/gantry" }
        if let runtime = getenv("XDG_RUNTIME_DIR") { return String(cString: runtime) + "/gantry" }
        return "/tmp/gantry-\(getuid())"
    }

    /// Opens a new ledger for `session` and takes its lock.
    public init(session: String, directory: String = Ledger.defaultDirectory()) throws(LedgerError) {
        guard !session.isEmpty, !session.contains("/") else { throw .invalid("'\(session)' is not a session name") }
        do { try POSIX.call { mkdir(directory, 0o700) } } catch { if error != .exists { throw .io("mkdir", directory, error) } }
        let path = directory + "/" + session + ".ledger"
        let fd: Int32
        do { fd = try POSIX.call { open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0o600) } } catch {
            throw .io("create", path, error)
        }
        do { try POSIX.call { flock(fd, LOCK_EX | LOCK_NB) } } catch {
            close(fd)
            throw .io("lock", path, error)
        }
        self.path = path
        self.fd = fd
    }

    deinit { close(fd) }

    /// Appends `entry` and makes it durable; call before making the side effect.
    public func record(_ entry: Entry) throws(LedgerError) {
        do throws(Errno) {
            try POSIX.writeAll(fd, entry.line + "\n")
        } catch {
            throw .io("append to", path, error)
        }
    }

    /// Ends the session cleanly: every entry was undone, so the ledger goes.
    public func finish() {
        unlink(path)
    }

    /// Entries of a ledger file, oldest first.
    public static func entries(at path: String) throws(LedgerError) -> [Entry] {
        guard let text = POSIX.readFile(path) else { throw .io("open", path, .current) }
        // A torn last line (a crash mid-append) is skipped, not trusted.
        return text.split(separator: "\n").compactMap(Entry.init(line:))
    }
}

public enum LedgerError: Error, Sendable, Equatable, CustomStringConvertible {
    case io(String, String, Errno)
    case invalid(String)

    public var description: String {
        switch self {
        case .io(let operation, let path, let cause):
            return "\(operation) \(path): \(cause)"
        case .invalid(let message):
            return message
        }
    }
}
