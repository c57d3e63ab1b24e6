public import Cgroups
internal import Glibc
public import Ledger

extension Ledger {
    /// Creates the group `path` with `limits`, each of its directories recorded here before
    /// it is made: a session that dies leaves the group to `gantry cleanup`, never unknown.
    /// A lab's group and a `gantry exec`'s are both made this way.
    public func createGroup(
        _ path: String, limits: ResourceLimits, delegating: Set<String> = [],
        with manager: CgroupManager
    ) throws(CgroupError) -> Cgroup {
        try manager.create(path, limits: limits, delegating: delegating) { directories in
            for directory in directories { try record(.cgroupDirectory(directory)) }
        }
    }
}

/// The cgroup of one `gantry exec`, in a ledger of its own from before it exists until it
/// is removed (with everything in it) when the sandbox is done.
public struct ExecGroup {
    public let group: Cgroup
    public let ledger: Ledger

    public init(limits: ResourceLimits) throws(LabError) {
        let session = "exec-\(getpid())"
        do { ledger = try Ledger(session: session) } catch { throw .ledger(error) }
        do {
            group = try ledger.createGroup("gantry/\(session)", limits: limits, with: try CgroupManager.host())
        } catch {
            ledger.finish()
            throw .cgroup(error)
        }
    }

    /// Removes the group; the ledger goes only when that worked, so a failure is left for
    /// `gantry cleanup` (the error says so).
    public func release() throws(LabError) {
        do { try group.remove() } catch {
            throw .gone("could not remove cgroup \(group.path): \(error) (recorded in \(ledger.path) for `gantry cleanup`)")
        }
        ledger.finish()
    }
}
