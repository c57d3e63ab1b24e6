public import Glibc
internal import POSIXSupport

/// Copies bytes between the caller's terminal and a PTY primary, with the caller's terminal
/// in raw mode so Ctrl-C, Ctrl-Z and line editing belong to the program in the sandbox.
public final class TerminalRelay {
    private let primary: Int32
    private let raw = RawTerminal()
    private var closed: Set<Int32> = []

    public init(primary: Int32) {
        self.primary = primary
        if isatty(STDIN_FILENO) == 1 { copyWindowSize() }
    }

    public var pollDescriptors: [pollfd] {
        [
            pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0),
            pollfd(fd: primary, events: Int16(POLLIN), revents: 0),
        ]
    }

    public func isClosed(_ fd: Int32) -> Bool { closed.contains(fd) }

    public func pump(_ ready: ArraySlice<pollfd>) {
        for descriptor in ready where descriptor.fd >= 0 && descriptor.revents != 0 {
            if descriptor.fd == STDIN_FILENO {
                if !copy(from: STDIN_FILENO, to: primary) { closed.insert(STDIN_FILENO) }
            } else if !copy(from: primary, to: STDOUT_FILENO) {
                closed.insert(primary)
            }
        }
    }

    /// After the command ended: whatever it wrote last is still in the PTY buffer.
    public func drain() {
        let flags = fcntl(primary, F_GETFL)
        _ = fcntl(primary, F_SETFL, flags | O_NONBLOCK)
        while !closed.contains(primary) && copy(from: primary, to: STDOUT_FILENO) {}
    }

    public func copyWindowSize() {
        var size = winsize()
        if ioctl(STDIN_FILENO, UInt(TIOCGWINSZ), &size) == 0 {
            _ = ioctl(primary, UInt(TIOCSWINSZ), &size)
        }
    }

    public func restore() { raw.restore() }

    /// One read and a full write; false on EOF, on error (EIO: every replica is closed) and
    /// when a non-blocking read finds nothing (EAGAIN: `drain` is done).
    private func copy(from source: Int32, to destination: Int32) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        guard let count = try? POSIX.call({ buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) } }), count > 0 else {
            return false
        }
        return (try? POSIX.writeAll(destination, buffer[0..<count])) != nil
    }
}
