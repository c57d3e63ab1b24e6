internal import CGantry
internal import Glibc
internal import POSIXSupport
internal import Terminal

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
        do { signals = try SignalQueue(Self.handled) } catch { throw IsolationError(stage: .wait, cause: error, subject: "signalfd") }
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
