internal import CGantry
internal import Glibc
internal import POSIXSupport

/// Runs a sandbox in the foreground of the caller's terminal, the way `unshare` or
/// `docker run -it` do: signals sent to Gantry are passed on, a PTY is relayed to the
/// caller's terminal (raw mode, window size), and the command's status comes back.
///
/// Create it *before* spawning: it blocks the signals it handles on the calling thread so
/// none is lost between the spawn and the wait (they queue on a signalfd instead).
public final class Foreground {
    private static let handled: [Int32] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCHLD, SIGWINCH]
    private let signals: SignalQueue

    public init() throws(IsolationError) {
        signals = try SignalQueue(Self.handled)
    }

    /// The window size of the caller's terminal (standard input's, else output's), or
    /// 24×80 when it has none.
    public static func terminalSize() -> (rows: UInt16, columns: UInt16) {
        var size = winsize()
        for descriptor in [STDIN_FILENO, STDOUT_FILENO]
        where ioctl(descriptor, UInt(TIOCGWINSZ), &size) == 0 && size.ws_row > 0 && size.ws_col > 0 {
            return (size.ws_row, size.ws_col)
        }
        return (24, 80)
    }

    /// Waits for `process` to end. Signals someone sends Gantry go to the sandbox; signals
    /// the terminal sends its whole process group are not sent twice.
    public func wait(for process: SandboxProcess) throws(IsolationError) -> ExitStatus {
        let relay = process.terminal.map { TerminalRelay(primary: $0) }
        defer { relay?.restore() }
        var descriptors = [pollfd(fd: signals.descriptor, events: Int16(POLLIN), revents: 0)]
        if let relay { descriptors += relay.pollDescriptors }

        while true {
            if let status = process.poll() {
                relay?.drain()
                return status
            }
            for index in descriptors.indices { descriptors[index].revents = 0 }
            try IsolationError.call(.wait, "poll") { Glibc.poll(&descriptors, nfds_t(descriptors.count), -1) }
            if descriptors[0].revents & Int16(POLLIN) != 0 {
                try handleSignal(process: process, relay: relay)
            }
            if let relay {
                relay.pump(descriptors[1...])
                // Stop watching what hung up, or poll would spin on it.
                for index in 1..<descriptors.count where relay.isClosed(descriptors[index].fd) {
                    descriptors[index].fd = -1
                }
            }
        }
    }

    private func handleSignal(process: SandboxProcess, relay: TerminalRelay?) throws(IsolationError) {
        guard let (signal, fromKernel) = signals.next() else { return }
        switch signal {
        case SIGCHLD:
            return  // the loop polls the process
        case SIGWINCH:
            relay?.copyWindowSize()
            if relay != nil { return }
        default:
            break
        }
        // SI_KERNEL: the terminal sent it to our whole process group, the sandbox included.
        let fromTerminal = fromKernel && [SIGINT, SIGQUIT, SIGWINCH].contains(signal)
        if fromTerminal && relay == nil { return }
        try process.signal(signal)
    }
}

/// Copies bytes between the caller's terminal and a PTY primary, with the caller's terminal
/// in raw mode so Ctrl-C, Ctrl-Z and line editing belong to the program in the sandbox.
final class TerminalRelay {
    private let primary: Int32
    private let raw = RawTerminal()
    private var closed: Set<Int32> = []

    init(primary: Int32) {
        self.primary = primary
        if isatty(STDIN_FILENO) == 1 { copyWindowSize() }
    }

    var pollDescriptors: [pollfd] {
        [
            pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0),
            pollfd(fd: primary, events: Int16(POLLIN), revents: 0),
        ]
    }

    func isClosed(_ fd: Int32) -> Bool { closed.contains(fd) }

    func pump(_ ready: ArraySlice<pollfd>) {
        for descriptor in ready where descriptor.fd >= 0 && descriptor.revents != 0 {
            if descriptor.fd == STDIN_FILENO {
                if !copy(from: STDIN_FILENO, to: primary) { closed.insert(STDIN_FILENO) }
            } else if !copy(from: primary, to: STDOUT_FILENO) {
                closed.insert(primary)
            }
        }
    }

    /// After the command ended: whatever it wrote last is still in the PTY buffer.
    func drain() {
        let flags = fcntl(primary, F_GETFL)
        _ = fcntl(primary, F_SETFL, flags | O_NONBLOCK)
        while !closed.contains(primary) && copy(from: primary, to: STDOUT_FILENO) {}
    }

    func copyWindowSize() {
        var size = winsize()
        if ioctl(STDIN_FILENO, UInt(TIOCGWINSZ), &size) == 0 {
            _ = ioctl(primary, UInt(TIOCSWINSZ), &size)
        }
    }

    func restore() { raw.restore() }

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

/// The caller's terminal (standard input) in raw mode until `restore()`: no echo, no line
/// editing, Ctrl-C and Ctrl-Z as bytes, so they reach the program on the other side of a
/// relay. Nothing happens when standard input is not a terminal.
public final class RawTerminal {
    private var saved: termios?

    public init() {
        var mode = termios()
        guard isatty(STDIN_FILENO) == 1, tcgetattr(STDIN_FILENO, &mode) == 0 else { return }
        saved = mode
        cfmakeraw(&mode)
        tcsetattr(STDIN_FILENO, TCSADRAIN, &mode)
    }

    /// Puts back the mode the terminal had; once.
    public func restore() {
        if var mode = saved { tcsetattr(STDIN_FILENO, TCSADRAIN, &mode) }
        saved = nil
    }
}
