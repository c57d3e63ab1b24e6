internal import Cgroups
internal import Glibc
public import Ledger
internal import POSIXSupport

/// `gantry cleanup`: undoes what dead sessions left. A ledger whose lock can be taken has
/// no living owner (a SIGKILLed Gantry, a power cut); its entries are undone last first,
/// then the ledger goes. Ledgers of running sessions are left alone.
public enum Cleanup {
    public struct Report: Sendable {
        /// One line per action taken, in order.
        public var actions: [String] = []
        /// Ledgers skipped because their session is alive.
        public var live: [String] = []
        /// What could not be undone (the ledger is kept for another try).
        public var failures: [String] = []
    }

    public static func run(directory: String = Ledger.defaultDirectory()) -> Report {
        var report = Report()
        for name in POSIX.list(directory).filter({ $0.hasSuffix(".ledger") }).sorted() {
            let path = directory + "/" + name
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { continue }
            defer { close(fd) }
            guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
                report.live.append(name)
                continue
            }
            let entries = (try? Ledger.entries(at: path)) ?? []
            // A frozen task cannot die, so the keeper's namespace would never empty: the
            // lab's groups are thawed before its keeper is killed.
            if let driver = try? CgroupManager.host().driver {
                for case .cgroupDirectory(let directory) in entries { driver.thawTree(directory) }
            }
            var failed = false
            for entry in entries.reversed() {
                do {
                    if let action = try undo(entry) { report.actions.append(action) }
                } catch {
                    failed = true
                    report.failures.append("\(name): \(entry): \(error)")
                }
            }
            if !failed {
                unlink(path)
                report.actions.append("removed ledger \(name)")
            }
        }
        releaseIDBlocks(in: directory, into: &report)
        return report
    }

    /// Undoes one entry; nil when there was nothing left to undo.
    static func undo(_ entry: Ledger.Entry) throws -> String? {
        switch entry {
        case .cgroupDirectory(let directory):
            guard access(directory, F_OK) == 0 else { return nil }
            let manager = try CgroupManager.host()
            try manager.driver.removeTree(at: directory)
            // The shared parent (…/gantry) goes too once no session uses it.
            let parent = POSIX.parentDirectory(of: directory)
            if parent.hasSuffix("/gantry") { rmdir(parent) }
            return "killed and removed cgroup \(directory)"
        case .process(let pid, let start):
            return try endProcess(pid, startTicks: start)
        }
    }

    /// Kills a lab's keeper if it still runs and waits until it is gone: as pid 1 of the
    /// lab, it leaves only once every process of the lab has been reaped, so after this the
    /// lab has no process left anywhere. Bounded; a keeper that does not go is reported.
    static func endProcess(_ pid: Int32, startTicks: UInt64) throws -> String? {
        func same() -> ProcFS.Stat? { ProcFS.stat(String(pid)).flatMap { $0.startTicks == startTicks ? $0 : nil } }
        guard let first = same() else { return nil }
        if first.state != "Z" { kill(pid, SIGKILL) }
        for attempt in 0..<200 {
            // A dying pid-namespace init turns zombie only once every process of its
            // namespace is reaped: then the lab is gone (its parent reaps the zombie).
            guard let now = same(), now.state != "Z" else { return "the lab's keeper (pid \(pid)) has ended, and every process of the lab with it" }
            usleep(useconds_t(min(1000 << min(attempt, 6), 50_000)))
        }
        throw LedgerError.invalid("the lab's keeper (pid \(pid)) did not end within 10 s; its processes may still be exiting")
    }

    /// Id blocks whose lab is gone (their lock is free) lose their lock file.
    static func releaseIDBlocks(in directory: String, into report: inout Report) {
        let locks = directory + "/ids"
        for name in POSIX.list(locks) where name.hasSuffix(".lock") {
            let path = locks + "/" + name
            let fd = open(path, O_RDWR | O_CLOEXEC)
            guard fd >= 0 else { continue }
            defer { close(fd) }
            guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { continue }
            unlink(path)
            report.actions.append("released host id block \(name.dropLast(5))")
        }
    }
}
