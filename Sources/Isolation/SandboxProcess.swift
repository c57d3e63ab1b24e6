internal import CGantry
internal import Glibc
internal import POSIXSupport
import Synchronization

/// A running sandbox (or entered command): the host pid of its first process — the init,
/// when it has one — and a pidfd, so a recycled pid can never be signalled by mistake.
public final class SandboxProcess: Sendable {
    /// The pid in the caller's pid namespace.
    public let pid: Int32
    /// -1 on kernels without CLONE_PIDFD.
    public let pidfd: Int32
    /// The PTY master, for `StandardIO.terminal`. Owned by this object.
    public let terminal: Int32?
    /// A keeper's line to its owner (the sync socket): when it closes — this object goes, or
    /// the owning process dies however it dies — the keeper ends and its sandbox with it.
    private let ownerLine: Int32?
    private let reaped = Mutex<ExitStatus?>(nil)

    init(pid: Int32, pidfd: Int32, terminal: Int32?, ownerLine: Int32? = nil) {
        self.pid = pid
        self.pidfd = pidfd
        self.terminal = terminal
        self.ownerLine = ownerLine
    }

    deinit {
        if pidfd >= 0 { close(pidfd) }
        if let terminal { close(terminal) }
        if let ownerLine { close(ownerLine) }
    }

    /// Blocks until the process ends and returns how; later calls return the same answer.
    /// Blocking: call it from a thread that may block (not a cooperative executor's).
    public func wait() throws(IsolationError) -> ExitStatus {
        if let status = reaped.withLock({ $0 }) { return status }
        var status: Int32 = 0
        do { try POSIX.call { waitpid(pid, &status, 0) } } catch {
            if let status = reaped.withLock({ $0 }) { return status }
            // Reaped by someone else (a subreaper's zombie sweep): all that is known is
            // that it ended; a lab's teardown only sweeps processes it had killed.
            if error.rawValue == ECHILD { return .signaled(SIGKILL) }
            throw IsolationError(stage: .wait, cause: error, subject: "pid \(pid)")
        }
        let result = ExitStatus(waitStatus: status)
        reaped.withLock { $0 = result }
        return result
    }

    /// Reaps the process if it has ended, without blocking.
    public func poll() -> ExitStatus? {
        if let status = reaped.withLock({ $0 }) { return status }
        var status: Int32 = 0
        let waited: Int32
        do { waited = try POSIX.call { waitpid(pid, &status, WNOHANG) } } catch {
            guard error.rawValue == ECHILD else { return nil }
            reaped.withLock { $0 = .signaled(SIGKILL) }
            return .signaled(SIGKILL)
        }
        guard waited == pid else { return nil }
        let result = ExitStatus(waitStatus: status)
        reaped.withLock { $0 = result }
        return result
    }

    /// Waits up to `microseconds` for the process to end or for any of the processes `others`
    /// to end (a pidfd turns readable the moment its process is a zombie), without reaping;
    /// without pidfds, sleeps that long.
    public func awaitEnd(microseconds: Int, orEndOf others: [Int32] = []) {
        guard pidfd >= 0 else {
            usleep(useconds_t(microseconds))
            return
        }
        // (More processes than one poll takes are rare: those past it wait for the timeout.)
        var watched = [pidfd]
        for pid in others.prefix(63) {
            let fd = gantry_pidfd_open(pid)
            if fd >= 0 { watched.append(fd) }
        }
        defer { for fd in watched.dropFirst() { close(fd) } }
        _ = gantry_await_any_readable(watched, Int32(watched.count), microseconds)
    }

    /// Sends a signal through the pidfd (immune to pid reuse), or kill(2) without one.
    /// Killing the init of a pid namespace makes the kernel kill everything in it.
    public func signal(_ signal: Int32) throws(IsolationError) {
        if reaped.withLock({ $0 }) != nil { return }
        do { try POSIX.call { pidfd >= 0 ? gantry_pidfd_send_signal(pidfd, signal) : kill(pid, signal) } } catch {
            // ESRCH: it ended already, which is what the signal was for.
            if error != .noSuchProcess { throw IsolationError(stage: .wait, cause: error, subject: "signal \(signal) to pid \(pid)") }
        }
    }
}
