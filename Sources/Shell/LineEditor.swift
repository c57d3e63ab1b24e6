internal import CReadline
internal import Glibc
internal import POSIXSupport
internal import Terminal

/// GNU readline in its callback ("alternate") interface, so the REPL's one loop can wait on
/// the keyboard, the lab's terminal and signals at once: output a background job prints in
/// the lab appears above the prompt, and Ctrl-C or a window resize is handled between
/// keystrokes. History is read at start and each line is appended to the file as it is
/// accepted, so a crash loses none of it.
///
/// readline is one global state machine in C, so this is one object used from the main
/// thread only; the statics below are how its C callbacks reach Swift.
final class LineEditor {
    /// What the line handler received: nil while typing, .some(nil) on Ctrl-D (EOF).
    nonisolated(unsafe) private static var accepted: String??
    nonisolated(unsafe) static var completer = Completer()
    nonisolated(unsafe) private static var matches: [String] = []
    nonisolated(unsafe) private static var nextMatch = 0

    let historyFile: String
    static let historyLimit: Int32 = 2000

    init(historyFile: String) {
        self.historyFile = historyFile
        // Gantry owns the signals (signalfd): readline installs no handlers.
        gantry_rl_configure(strdup("gantry")) { text, start, end in
            LineEditor.complete(text: text, start: start, end: end)
        }
        using_history()
        stifle_history(Self.historyLimit)
        try? POSIX.makeDirectories(POSIX.parentDirectory(of: historyFile), mode: 0o700)
        // append_history needs the file to exist.
        let fd = open(historyFile, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        if fd >= 0 { close(fd) }
        read_history(historyFile)
    }

    /// Shows `prompt` and starts taking keystrokes (the terminal goes into readline's mode).
    func start(prompt: String) {
        Self.accepted = nil
        gantry_rl_forget_eof()
        rl_callback_handler_install(prompt) { line in
            LineEditor.accepted = .some(line.map { String(cString: $0) })
            // The handler gets a malloc'd line it must free; nil means EOF.
            free(line)
            // Stop here so the terminal is back to normal while the line runs.
            rl_callback_handler_remove()
        }
    }

    /// Gives readline the keystrokes waiting on standard input; returns a line once one is
    /// accepted (.some(nil) for Ctrl-D on an empty line).
    func readAvailable() -> String?? {
        rl_callback_read_char()
        defer { if Self.accepted != nil { Self.accepted = nil } }
        return Self.accepted
    }

    /// Leaves readline's terminal mode (before a command takes the terminal).
    func stop() { rl_callback_handler_remove() }

    func remember(_ line: String) {
        guard !line.trimmed.isEmpty else { return }
        if let last = gantry_last_history_line(), String(cString: last) == line { return }
        add_history(line)
        append_history(1, historyFile)
        if gantry_history_length() >= Self.historyLimit { history_truncate_file(historyFile, Self.historyLimit) }
    }

    /// Ctrl-C at the prompt: the line is dropped and a fresh prompt drawn, as in bash.
    func interrupt() {
        Screen.write("^C")
        gantry_rl_drop_line()
    }

    func resize() { rl_resize_terminal() }

    /// Prints text that arrived while the learner is typing, above the prompt and the
    /// half-typed line, which are then drawn again.
    func printAbove(_ text: String) {
        let shown = text.hasSuffix("\n") ? text : text + "\n"
        gantry_rl_clear_for_print()
        Screen.write(shown)
        gantry_rl_redraw()
    }

    /// The C side of Tab: candidates from `completer`, handed out one by one by a generator.
    private static func complete(text: UnsafePointer<CChar>?, start: Int32, end: Int32) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? {
        let line = gantry_rl_line_buffer().map { String(cString: $0) } ?? ""
        let word = text.map { String(cString: $0) } ?? ""
        let prefixBytes = Array(line.utf8.prefix(Int(start)))
        matches = completer.candidates(
            line: String(decoding: prefixBytes, as: UTF8.self) + word,
            wordStart: String(decoding: prefixBytes, as: UTF8.self).count, word: word)
        // No fallback to readline's file names (the host's); a directory is completed to its
        // slash with no space after, so Tab can go on.
        gantry_rl_completion_settings(matches.count == 1 && matches[0].hasSuffix("/") ? 0 : 32)
        nextMatch = 0
        return rl_completion_matches(text) { _, state in
            if state == 0 { LineEditor.nextMatch = 0 }
            guard LineEditor.nextMatch < LineEditor.matches.count else { return nil }
            defer { LineEditor.nextMatch += 1 }
            return strdup(LineEditor.matches[LineEditor.nextMatch])
        }
    }
}

/// Lines from a descriptor that is not a terminal (`gantry shell uts < commands.txt`): no
/// editing, no history.
final class PlainLineReader {
    private let descriptor: Int32
    private let signals: SignalQueue?
    private var buffer: [UInt8] = []
    private var ended = false
    /// The signal (SIGINT, SIGTERM, SIGHUP) that stopped reading, or 0.
    private(set) var interrupted: Int32 = 0

    init(descriptor: Int32, signals: SignalQueue? = nil) {
        self.descriptor = descriptor
        self.signals = signals
    }

    /// The next line without its newline; nil at end of input or on a signal to stop.
    func next() -> String? {
        while true {
            if let newline = buffer.firstIndex(of: 0x0a) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeFirst(newline + 1)
                return line
            }
            if ended || interrupted != 0 {
                guard !buffer.isEmpty, interrupted == 0 else { return nil }
                defer { buffer = [] }
                return String(decoding: buffer, as: UTF8.self)
            }
            var descriptors = [
                pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0),
                pollfd(fd: signals?.descriptor ?? -1, events: Int16(POLLIN), revents: 0),
            ]
            guard (try? POSIX.call({ poll(&descriptors, 2, -1) })) != nil else { continue }
            if descriptors[1].revents != 0, let (signal, _) = signals?.next(), [SIGINT, SIGTERM, SIGHUP].contains(signal) {
                interrupted = signal
                continue
            }
            guard descriptors[0].revents != 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 4096)
            guard let count = try? POSIX.call({ read(descriptor, &chunk, chunk.count) }), count > 0 else { ended = true; continue }
            buffer += chunk[0..<count]
        }
    }
}
