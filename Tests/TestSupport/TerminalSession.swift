import CGantry
import Glibc
import POSIXSupport

/// A program run on a real pseudo-terminal, driven like a person at a keyboard: keystrokes
/// in, the screen's text out. The child gets a session of its own with the PTY as its
/// controlling terminal, so readline, raw mode, Ctrl-C and window sizes behave as they do
/// for a learner.
public final class TerminalSession {
    public let pid: Int32
    private let primary: Int32
    /// Everything the program wrote, raw.
    public private(set) var raw: [UInt8] = []
    /// Where the next `waitFor` starts looking.
    private var mark = 0
    private var exitStatus: Int32?

    public struct Timeout: Error, CustomStringConvertible {
        public var waitingFor: String
        public var screen: String
        public var description: String { "no '\(waitingFor)' on the terminal; it shows:\n\(screen)" }
    }

    /// Starts `path arguments` on a new PTY of `rows`×`columns` with `environment` added
    /// to this process's.
    public init(
        _ path: String, _ arguments: [String], environment: [String: String] = [:],
        rows: UInt16 = 40, columns: UInt16 = 120
    ) throws {
        var name = [CChar](repeating: 0, count: 128)
        primary = gantry_open_pty(&name, name.count)
        guard primary >= 0 else {
            throw Timeout(waitingFor: "a pseudo-terminal", screen: String(cString: strerror(errno)))
        }
        var size = winsize(ws_row: rows, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0)
        _ = ioctl(primary, UInt(TIOCSWINSZ), &size)
        let replica = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // A new session first; then opening the replica (without O_NOCTTY) makes it the
        // controlling terminal.
        // POSIX_SPAWN_SETSID (0x80) is hidden from Swift behind _GNU_SOURCE.
        let setsid: Int32 = 0x80
        posix_spawnattr_setflags(&attributes, Int16(setsid | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigfillset(&defaults)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, replica, O_RDWR, 0)
        posix_spawn_file_actions_adddup2(&actions, 0, 1)
        posix_spawn_file_actions_adddup2(&actions, 0, 2)

        var variables = POSIX.currentEnvironment().filter { entry in !environment.keys.contains { entry.hasPrefix($0 + "=") } }
        variables += environment.map { "\($0.key)=\($0.value)" }
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = variables.map { strdup($0) } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var child: Int32 = 0
        let result = posix_spawn(&child, path, &actions, &attributes, argv, envp)
        guard result == 0 else { throw Timeout(waitingFor: "\(path) to start", screen: String(cString: strerror(result))) }
        pid = child
    }

    deinit {
        if exitStatus == nil {
            kill(pid, SIGKILL)
            _ = waitForExit()
        }
        close(primary)
    }

    /// Changes the window size, as a terminal emulator does: the kernel sends SIGWINCH to
    /// the program in the foreground.
    public func resize(rows: UInt16, columns: UInt16) {
        var size = winsize(ws_row: rows, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0)
        _ = ioctl(primary, UInt(TIOCSWINSZ), &size)
    }

    /// Types `text` (use "\r" for Enter, "\u{03}" for Ctrl-C, "\u{1b}[A" for ↑).
    public func type(_ text: String) {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { write(primary, $0.baseAddress! + offset, bytes.count - offset) }
            if written < 0 && errno == EINTR { continue }
            if written <= 0 { return }
            offset += written
        }
    }

    /// Waits until `text` shows up after the previous match (escape sequences and CRs
    /// ignored) and returns the screen text up to and including it. The limit only stops a
    /// hung test; nothing is timed.
    @discardableResult
    public func waitFor(_ text: String, seconds: Int = 120) throws -> String {
        let deadline = ContinuousClock.now.advanced(by: .seconds(seconds))
        while true {
            let screen = Self.plain(Array(raw[mark...]))
            if let range = screen.firstRange(of: text) {
                // Next search starts after this match: find how many raw bytes that is.
                mark += Self.rawLength(of: screen[..<range.upperBound], in: Array(raw[mark...]))
                return String(screen[..<range.upperBound])
            }
            let remaining = Int(ContinuousClock.now.duration(to: deadline).components.seconds)
            if remaining <= 0 || !readSome(milliseconds: 1000) && exitStatus != nil {
                throw Timeout(waitingFor: text, screen: String(screen.suffix(3000)))
            }
        }
    }

    /// Everything shown so far, as text.
    public var screen: String { Self.plain(raw) }

    /// Waits for the program to end; its exit status (128 + signal when killed).
    public func waitForExit(seconds: Int = 120) -> Int32 {
        let deadline = ContinuousClock.now.advanced(by: .seconds(seconds))
        while exitStatus == nil {
            _ = readSome(milliseconds: 100)
            reap()
            if exitStatus == nil && ContinuousClock.now >= deadline { kill(pid, SIGKILL) }
        }
        while readSome(milliseconds: 50) {}
        return exitStatus!
    }

    /// Collects the exit status once the program has ended.
    private func reap() {
        guard exitStatus == nil else { return }
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid {
            exitStatus = status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        }
    }

    private func readSome(milliseconds: Int32) -> Bool {
        var descriptor = pollfd(fd: primary, events: Int16(POLLIN), revents: 0)
        guard poll(&descriptor, 1, milliseconds) > 0 else { return false }
        var buffer = [UInt8](repeating: 0, count: 65536)
        let count = read(primary, &buffer, buffer.count)
        guard count > 0 else {
            reap()
            usleep(10_000)
            return false
        }
        raw += buffer[0..<count]
        return true
    }

    /// The text a person would read: escape sequences (CSI, OSC, charset) and CRs removed.
    public static func plain(_ bytes: [UInt8]) -> String {
        String(decoding: plainBytes(bytes).map(\.byte), as: UTF8.self)
    }

    /// Plain bytes, each with the index of the raw byte it came from.
    static func plainBytes(_ bytes: [UInt8]) -> [(byte: UInt8, index: Int)] {
        var result: [(UInt8, Int)] = []
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 0x1b, index + 1 < bytes.count {
                let kind = bytes[index + 1]
                index += 2
                if kind == UInt8(ascii: "[") {
                    while index < bytes.count, !(0x40...0x7e).contains(bytes[index]) { index += 1 }
                    index += 1
                } else if kind == UInt8(ascii: "]") {
                    while index < bytes.count, bytes[index] != 0x07, bytes[index] != 0x1b { index += 1 }
                    index += bytes.count > index && bytes[index] == 0x1b ? 2 : 1
                } else if kind == UInt8(ascii: "(") || kind == UInt8(ascii: ")") {
                    index += 1
                }
                continue
            }
            if byte != 0x0d && byte != 0x07 && byte != 0x01 && byte != 0x02 { result.append((byte, index)) }
            index += 1
        }
        return result
    }

    /// How many raw bytes produce the plain `prefix`.
    static func rawLength(of prefix: Substring, in bytes: [UInt8]) -> Int {
        let count = prefix.utf8.count
        let plain = plainBytes(bytes)
        guard count > 0, count <= plain.count else { return 0 }
        return plain[count - 1].index + 1
    }
}
