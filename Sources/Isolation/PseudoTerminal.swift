internal import CGantry
internal import Glibc
internal import POSIXSupport

/// A PTY pair opened on the host: the primary (master) side stays with Gantry, the replica
/// (slave) becomes the sandboxed command's controlling terminal.
/// The corresponding C calls are posix_openpt(3), grantpt(3), unlockpt(3) and ptsname_r(3)
/// (wrapped by gantry_open_pty).
final class PseudoTerminal {
    private(set) var primary: Int32
    let replica: Int32

    init(rows: UInt16, columns: UInt16) throws(IsolationError) {
        var name = [CChar](repeating: 0, count: 128)
        let primary = try IsolationError.call(.terminal, "/dev/ptmx") { gantry_open_pty(&name, name.count) }
        let path = POSIX.string(name)
        let replica: Int32
        do { replica = try IsolationError.call(.terminal, path) { open(path, O_RDWR | O_NOCTTY | O_CLOEXEC) } } catch {
            close(primary)
            throw error
        }
        var size = winsize(ws_row: rows, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0)
        _ = ioctl(replica, UInt(TIOCSWINSZ), &size)
        self.primary = primary
        self.replica = replica
    }

    /// Hands the primary to a new owner; this object then closes only the replica.
    func takePrimary() -> Int32 {
        let fd = primary
        primary = -1
        return fd
    }

    deinit {
        if primary >= 0 { close(primary) }
        close(replica)
    }
}
