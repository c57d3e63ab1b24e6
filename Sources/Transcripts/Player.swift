internal import Glibc
public import POSIXSupport
internal import Terminal

/// `gantry play`: a transcript's terminal output at the pace it was recorded, in this
/// terminal. Ctrl-C stops it and leaves the terminal as it was.
public struct Player {
    public var speed = 1.0
    /// Pauses longer than this many seconds are shortened to it.
    public var idleLimit: Double?
    /// Start at this step (1-based): the output before its marker is skipped.
    public var fromStep: Int?
    /// Stop at each step marker until a key is pressed (q quits).
    public var pauseAtSteps = false

    public init() {}

    public enum Outcome: Equatable { case finished, interrupted, noSuchStep }

    public func play(_ transcript: Transcript) throws(Errno) -> Outcome {
        let signals = try SignalQueue([SIGINT, SIGTERM, SIGHUP])
        // Raw only to read single keys at markers; output then needs its own \r\n, which
        // the recorded output already has.
        let raw = pauseAtSteps && isatty(STDIN_FILENO) == 1 ? RawTerminal() : nil
        defer {
            raw?.restore()
            try? POSIX.writeAll(STDOUT_FILENO, "\u{1b}[0m")
        }
        let size = TerminalSize.current()
        if Int(size.columns) < transcript.header.width || Int(size.rows) < transcript.header.height {
            try? POSIX.writeAll(
                STDOUT_FILENO,
                "(recorded at \(transcript.header.width)x\(transcript.header.height); this terminal is \(size.columns)x\(size.rows): lines may wrap)\r\n")
        }
        var markers = 0
        var playing = fromStep == nil
        var clock = 0.0
        for event in transcript.events {
            if event.code == "m" {
                markers += 1
                if !playing, markers == fromStep {
                    playing = true
                    clock = event.time
                } else if playing, pauseAtSteps {
                    try? POSIX.writeAll(STDOUT_FILENO, "\u{1b}[7m \(event.data) — any key goes on, q quits \u{1b}[0m\r\n")
                    guard let key = waitForKey(signals), key != UInt8(ascii: "q") else { return .interrupted }
                }
                continue
            }
            guard playing, event.code == "o" else { continue }
            var delay = (event.time - clock) / max(speed, 0.01)
            if let idleLimit { delay = min(delay, idleLimit) }
            clock = event.time
            if delay > 0, !sleep(delay, signals) { return .interrupted }
            try? POSIX.writeAll(STDOUT_FILENO, event.data)
        }
        return playing ? .finished : .noSuchStep
    }

    /// Waits `seconds`; false when a signal asked to stop.
    private func sleep(_ seconds: Double, _ signals: SignalQueue) -> Bool {
        var descriptor = pollfd(fd: signals.descriptor, events: Int16(POLLIN), revents: 0)
        let ready = (try? POSIX.call { poll(&descriptor, 1, Int32(min(seconds * 1000, 3_600_000))) }) ?? 0
        return !(ready > 0 && signals.next() != nil)
    }

    /// A key from the terminal, or nil on a signal or end of input.
    private func waitForKey(_ signals: SignalQueue) -> UInt8? {
        var descriptors = [pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0), pollfd(fd: signals.descriptor, events: Int16(POLLIN), revents: 0)]
        guard (try? POSIX.call { poll(&descriptors, 2, -1) }) != nil, descriptors[1].revents == 0 else { return nil }
        var byte: UInt8 = 0
        return (try? POSIX.call { read(STDIN_FILENO, &byte, 1) }) == 1 ? byte : nil
    }
}
