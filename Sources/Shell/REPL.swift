internal import CReadline
internal import Glibc
internal import Lab
internal import Lessons
internal import POSIXSupport
internal import Terminal

/// The loop around a `ShellSession`: with a person at a terminal, readline at Gantry's
/// prompt and the terminal handed to each command while it runs; without one (input from a
/// file or pipe), plain lines in and plain text out.
public enum REPL {
    /// Runs the session to its end; the process exit status.
    public static func run(_ session: ShellSession) -> Int32 {
        useUTF8Locale()
        let signals: SignalQueue
        do {
            signals = try SignalQueue([SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP, SIGWINCH])
        } catch {
            Screen.write("gantry: \(error)\n")
            return 1
        }
        return session.options.interactive ? interactive(session, signals: signals) : plain(session, signals: signals)
    }

    /// Whether standard input and output are a terminal a person types at.
    public static var hasTerminal: Bool { isatty(STDIN_FILENO) == 1 && isatty(STDOUT_FILENO) == 1 }

    /// readline edits and wcwidth measures multi-byte text (Korean) only in a UTF-8 locale:
    /// the learner's if it is one, else C.UTF-8, which glibc always has.
    static func useUTF8Locale() {
        setlocale(LC_ALL, "")
        let codeset = String(cString: nl_langinfo(nl_item(CODESET)))
        if codeset != "UTF-8" { setlocale(LC_CTYPE, "C.UTF-8") }
    }

    // MARK: With a terminal

    static func interactive(_ session: ShellSession, signals: SignalQueue) -> Int32 {
        guard session.start() else { return 1 }
        let editor = LineEditor(historyFile: session.options.paths.historyFile)
        LineEditor.completer = Completer(
            lessonIDs: session.lessons.map(\.id),
            listDirectory: Completer.labLister { [weak session] in session?.shell?.foregroundProcess })
        var interrupts = 0
        var exitStatus: Int32 = 0
        session: while true {
            LineEditor.completer.stepCount = session.engine.lesson?.steps.count ?? 0
            editor.start(prompt: session.prompt(forReadline: true))
            var line: String?? = nil
            while line == nil {
                var descriptors = [
                    pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0),
                    pollfd(fd: signals.descriptor, events: Int16(POLLIN), revents: 0),
                    pollfd(fd: session.shell?.descriptor ?? -1, events: Int16(POLLIN), revents: 0),
                ]
                if poll(&descriptors, 3, -1) < 0 { continue }
                if descriptors[1].revents != 0, let (signal, _) = signals.next() {
                    switch signal {
                    case SIGINT:
                        interrupts += 1
                        editor.interrupt()
                        if interrupts == 2 {
                            let text = session.style.dim("(Ctrl-D or :quit ends the session; nothing is lost either way)")
                            editor.printAbove(text)
                            session.engine.emit(.output(text + "\n"))
                        }
                    case SIGWINCH:
                        editor.resize()
                        let size = TerminalSize.current()
                        session.resized(columns: Int(size.columns))
                        session.shell?.resize(rows: size.rows, columns: size.columns)
                        session.engine.emit(.resized(columns: Int(size.columns), rows: Int(size.rows)))
                    case SIGTERM, SIGHUP:
                        editor.stop()
                        exitStatus = 128 + signal
                        session.endReason = "signal \(signal == SIGTERM ? "SIGTERM" : "SIGHUP")"
                        break session
                    default:
                        break  // Ctrl-Z, Ctrl-\ at Gantry's prompt: nothing to stop
                    }
                }
                if descriptors[2].revents != 0 {
                    let (text, finished) = session.engine.idleOutput()
                    if !text.isEmpty {
                        editor.printAbove(text)
                        session.engine.emit(.output(text.hasSuffix("\n") ? text : text + "\n"))
                    }
                    if finished {
                        editor.stop()
                        break
                    }
                }
                if descriptors[0].revents != 0 {
                    interrupts = 0
                    line = editor.readAvailable()
                    if descriptors[0].revents & Int16(POLLHUP) != 0 && line == nil { line = .some(nil) }
                }
            }
            guard let accepted = line else { continue }  // the prompt changed: draw it again
            guard let text = accepted else {
                // Ctrl-D: leaves a nested shell as in a terminal; at the top, ends the session.
                // readline ended the prompt's line; the shell says `exit` itself, as bash
                // does on Ctrl-D.
                if (session.shell?.depth ?? 1) > 1 {
                    session.engine.emit(.output(session.prompt(forReadline: false) + "\n"))
                    _ = session.handle("exit", io: terminalIO(session, signals: signals, line: "exit"))
                    continue
                }
                session.show("\n")
                session.endReason = "Ctrl-D"
                break
            }
            editor.remember(text)
            // readline drew the prompt and the line; the observers see them as shown.
            session.engine.emit(.output(session.prompt(forReadline: false) + text + "\n"))
            if session.handle(text, io: terminalIO(session, signals: signals, line: text)) == .quit { break }
            if session.quitRequested != 0 {
                exitStatus = 128 + session.quitRequested
                session.endReason = "signal \(session.quitRequested == SIGTERM ? "SIGTERM" : "SIGHUP")"
                break
            }
        }
        session.end()
        return exitStatus
    }

    /// The terminal handed to a running command: raw mode, keystrokes to the lab's PTY
    /// (echoed by the lab's terminal, as any terminal does), output streamed.
    static func terminalIO(_ session: ShellSession, signals: SignalQueue, line: String) -> CommandIO {
        guard let shell = session.shell else { return CommandIO() }
        let state = RunState(nested: shell.depth > 1, line: line)
        var io = CommandIO()
        io.watches = [
            LabShell.Watch(descriptor: STDIN_FILENO) {
                var buffer = [UInt8](repeating: 0, count: 4096)
                let count = read(STDIN_FILENO, &buffer, buffer.count)
                guard count > 0 else { return }
                // A program that turned echo off itself (a password prompt) keeps it off,
                // and what is typed there is recorded only as its length.
                let secret = shell.programDisabledEcho
                state.linesEntered += buffer[0..<count].filter { $0 == 0x0d }.count
                session.engine.emit(.keystrokes(text: String(decoding: buffer[0..<count], as: UTF8.self), redacted: secret))
                _ = try? shell.type(Array(buffer[0..<count]))
            },
            LabShell.Watch(descriptor: signals.descriptor) {
                guard let (signal, _) = signals.next() else { return }
                switch signal {
                case SIGWINCH:
                    let size = TerminalSize.current()
                    session.resized(columns: Int(size.columns))
                    shell.resize(rows: size.rows, columns: size.columns)
                    session.engine.emit(.resized(columns: Int(size.columns), rows: Int(size.rows)))
                case SIGTERM, SIGHUP:
                    session.quitRequested = signal
                    try? shell.interrupt()
                case SIGINT:
                    try? shell.interrupt()  // from kill(1): the terminal's own Ctrl-C is a byte now
                default:
                    break
                }
            },
        ]
        io.echoes = true
        io.willRun = { state.raw = RawTerminal() }
        io.didRun = {
            let rest = state.flush()
            if !rest.isEmpty { session.show(rest.replacing("\n", with: "\r\n")) }
            state.raw?.restore()
            state.raw = nil
        }
        io.stream = { text in
            let shown = state.strippingAcceptedLine(text)
            // Raw mode: the terminal no longer turns \n into \r\n.
            session.show(shown.replacing("\n", with: "\r\n"))
        }
        io.onQuiet = {
            guard state.linesEntered > 0 else { return }
            let lines = state.linesEntered
            state.linesEntered = 0
            // The terminal is raw: Gantry's lines need their carriage returns.
            session.rawOutput = true
            session.engine.checkWhileRunning(lines: lines)
            session.rawOutput = false
        }
        // SIGTERM or SIGHUP: the command was sent Ctrl-C; one that ignores it (busybox sh at
        // its prompt) is not waited for: the session ends, the lab with it.
        io.stopWhen = { session.quitRequested != 0 }
        io.continuation = {
            guard let line = readline("> ") else { return nil }
            defer { free(line) }
            return String(cString: line)
        }
        return io
    }

    /// What one running command needs to remember: the saved terminal mode, whether echo
    /// and whether the start of its output is still to be looked at.
    final class RunState {
        var raw: RawTerminal?
        /// Enter pressed in the running program since the lab was last checked.
        var linesEntered = 0
        var atStart: Bool
        var held: [UInt8] = []
        let line: String

        init(nested: Bool, line: String) {
            atStart = nested
            self.line = line
        }

        /// A nested readline shell, accepting the line Gantry typed, ends bracketed paste
        /// and moves to a new line: Gantry's own prompt already did, so that goes; so does
        /// the line itself if that shell echoed it (`LabShell.withoutAcceptedLine`). Held
        /// until it is known which.
        func strippingAcceptedLine(_ text: String) -> String {
            guard atStart else { return text }
            held += Array(text.utf8)
            if held.count < 4096 {
                let echo = LabShell.echoScan(held, command: line)
                if echo == .undecided { return "" }
                // What readline prints next: after its own echo the end of bracketed paste,
                // else that and the move to a new line.
                var rest = held[...]
                if case .echo(let end) = echo { rest = rest.dropFirst(end) }
                let accepted = Array((echo == .none ? "\u{1b}[?2004l\r\r\n" : "\u{1b}[?2004l\r").utf8)
                if rest.count < accepted.count && accepted.starts(with: rest) { return "" }
            }
            return flush()
        }

        /// What is still held when the command ends (it printed only part of a line).
        func flush() -> String {
            defer { held = [] }
            guard atStart else { return String(decoding: held, as: UTF8.self) }
            atStart = false
            return String(decoding: LabShell.withoutAcceptedLine(held, command: line), as: UTF8.self)
        }

    }

    // MARK: Without a terminal

    static func plain(_ session: ShellSession, signals: SignalQueue) -> Int32 {
        guard session.start() else { return 1 }
        let reader = PlainLineReader(descriptor: STDIN_FILENO, signals: signals)
        var io = CommandIO()
        io.echoes = true
        io.finished = { session.show($0) }
        io.watches = [
            LabShell.Watch(descriptor: signals.descriptor) {
                guard let (signal, _) = signals.next(), [SIGINT, SIGTERM, SIGHUP].contains(signal) else { return }
                session.quitRequested = signal
                try? session.shell?.interrupt()
            }
        ]
        io.continuation = {
            guard let line = reader.next() else { return nil }
            session.show("> " + line + "\n")
            return line
        }
        // A program without Gantry's markers (`sh`, busybox sh in a chroot) holds the lab's
        // terminal: the next lines go to it whenever it waits for input, as they would from
        // a person typing, and the step is looked at after each; at the end of the input it
        // gets Ctrl-D.
        io.onQuiet = {
            if session.engine.programAwaitsLine { session.engine.typeIntoProgram(reader.next()) }
        }
        io.stopWhen = { session.quitRequested != 0 }
        while session.quitRequested == 0, let line = reader.next() {
            session.show(session.prompt(forReadline: false) + line + "\n")
            if session.handle(line, io: io) == .quit { break }
        }
        if reader.interrupted != 0 { session.quitRequested = reader.interrupted }
        if session.quitRequested != 0 {
            session.endReason = "signal \(session.quitRequested == SIGTERM ? "SIGTERM" : session.quitRequested == SIGINT ? "SIGINT" : "SIGHUP")"
        } else if session.endReason == "quit" && !session.quitTyped {
            session.endReason = "end of input"
        }
        let unfinished = session.unfinishedStepReport()
        session.end()
        if session.quitRequested != 0 { return 128 + session.quitRequested }
        if let unfinished {
            session.show(unfinished + "\n")
            return 1
        }
        return session.failedSteps.isEmpty ? 0 : 1
    }
}
