import Cgroups
import Isolation
import Lab
import Ledger
internal import Glibc

/// The cgroup of one `gantry exec`, recorded in a ledger before it exists and removed (with
/// everything in it) when the sandbox is done.
struct ExecResources {
    let group: Cgroup
    let ledger: Ledger

    init(limits: ResourceLimits) throws {
        let manager = try CgroupManager.host()
        let session = "exec-\(getpid())"
        let ledger = try Ledger(session: session)
        do {
            group = try manager.create("gantry/\(session)", limits: limits) { directories in
                for directory in directories { try ledger.record(.cgroupDirectory(directory)) }
            }
        } catch {
            ledger.finish()
            throw error
        }
        self.ledger = ledger
    }

    /// The sandbox's own /sys/fs/cgroup, seen from inside its cgroup namespace.
    func viewMounts() -> [Mount] { group.viewMounts() }

    /// Removes the group; the ledger goes only when that worked, so a failure is left for
    /// `gantry cleanup` with the reason printed.
    func release() {
        do {
            try group.remove()
            ledger.finish()
        } catch {
            printError("gantry exec: could not remove cgroup \(group.path): \(error) (recorded in \(ledger.path))")
        }
    }
}
