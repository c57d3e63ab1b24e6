internal import Glibc
public import Isolation
internal import POSIXSupport
internal import Terminal

/// A persistent bash in a lab, on a PTY, so `cd`, variables and nested interactive programs
/// behave as in a terminal. Each time a bash (this one, or one the learner started inside it)
/// is ready for input it prints an OSC 133 "D" marker with the last status and its depth:
/// `ESC ] 133 ; D ; <status> ; <SHLVL> BEL`. The marker comes from PROMPT_COMMAND, which is
/// exported, so shells nested with `unshare -u /bin/bash` or `ip netns exec testnet bash`
/// report too.
public final class LabShell {
    public struct Result: Sendable, Equatable {
        /// What the command printed, with the terminal's CR LF turned back into LF and mode
        /// switches (bracketed paste) removed. For a command typed into a nested shell, that
        /// shell's prompt line (prompt and echoed input) is not part of it.
        public var output: String
        /// What a terminal would have shown, prompt lines included (same cleaning).
        public var screen: String
        /// Exit status of the command, as the shell saw it.
        public var status: Int32
        /// Depth of the shell now waiting (1 for the lab's own, 2 inside a nested bash, …).
        public var depth: Int
        public var microseconds: Int
        public var timedOut: Bool
        /// The shell asked for more input (its PS2 continuation marker): the line did not
        /// finish a command (`for …; do`, a here-document). Send the next line with `run`.
        public var needsMore = false
    }

    public let lab: Lab
    public let process: SandboxProcess
    let terminal: Int32
    private var pending: [UInt8] = []
    /// Depth of the shell that printed the last marker.
    public private(set) var depth = 1
    /// Exit status the last marker reported.
    public private(set) var lastStatus: Int32 = 0
    /// The last poll timed out: nothing came, nothing was typed.
    private var quietWait = false
    /// Keystrokes the lab's terminal has not taken yet. The terminal is non-blocking, so a
    /// program that does not read (40 KB typed ahead into `sleep`) never blocks Gantry: the
    /// rest waits here, bounded, and goes out whenever the terminal has room.
    private var outgoing: [UInt8] = []
    /// At most this much is held for the lab's terminal; beyond it, input is refused.
    public static let outgoingLimit = 1 << 20

    static let markerPrefix: [UInt8] = Array("\u{1b}]133;D;".utf8)
    static let inputMarker: [UInt8] = Array("\u{1b}]133;B\u{07}".utf8)
    /// Gantry's own mark (not in the OSC 133 set) that a REPL puts in PS2: bash wants the
    /// rest of a command. `run(_:stopAtContinuation:)` stops there.
    static let continuationMarker: [UInt8] = Array("\u{1b}]133;P\u{07}".utf8)
    /// PS2 for `continuationMarker`, to be set in the shell by whoever wants it.
    public static let continuationPrompt = #"\[\e]133;P\a\]"#
    /// Reports the status and depth (OSC 133 "D"), then makes sure this shell's prompt ends
    /// with OSC 133 "B" (input starts here), so the prompt can be told from the output in
    /// any shell, with or without echo, whatever PS1 its rc files set.
    /// A nested bash (SHLVL > 1) also turns the terminal's echo off before its prompt:
    /// it reads with readline, which decides at each prompt from that flag whether to echo,
    /// and the lines Gantry types for the learner must not be echoed. Gantry may have
    /// turned echo on for the program the nested shell ran, and cannot turn it off again
    /// before readline looks without racing it; the shell itself can. (Where there is no
    /// `stty` — a chroot — the echoed line is taken off the output instead: `split`. No
    /// redirection to /dev/null either: a chroot may not have one; stderr is closed.)
    static let promptCommand =
        #"__gantry_status=$?; [ "${SHLVL:-1}" -gt 1 ] && stty -echo 2>&-; printf '\033]133;D;%s;%s\007' "$__gantry_status" "${SHLVL:-1}"; case "$PS1" in *'133;B'*) ;; *) PS1="$PS1"'\[\033]133;B\007\]' ;; esac"#

    /// Starts the shell and waits until it is ready (bounded by `timeoutMilliseconds`).
    public init(
        lab: Lab, rows: UInt16 = 24, columns: UInt16 = 80, terminalType: String = "xterm-256color",
        timeoutMilliseconds: Int = 10_000
    ) throws(LabError) {
        self.lab = lab
        var environment = lab.configuration.processEnvironment(terminal: terminalType)
        // PS1 stays unexported (set below), so shells the learner nests show Debian's usual
        // prompt and read /etc/bash.bashrc as on any machine.
        environment += ["PROMPT_COMMAND=" + Self.promptCommand, "SHLVL=0", "HISTFILE=/dev/null"]
        process = try lab.enter(
            ["/bin/bash", "--noprofile", "--norc", "--noediting", "-i"],
            io: .terminal(rows: rows, columns: columns), environment: environment)
        guard let terminal = process.terminal else { throw .gone("the lab's shell has no terminal") }
        self.terminal = terminal
        _ = fcntl(terminal, F_SETFL, fcntl(terminal, F_GETFL) | O_NONBLOCK)
        setEcho(false)
        let ready = try waitForMarker(timeoutMilliseconds: timeoutMilliseconds, onOutput: nil)
        guard ready != nil else { throw .gone("the lab's shell did not start") }
        // Gantry shows its own prompt; this shell's stays empty.
        _ = try run("PS1=''; PS2=''", timeoutMilliseconds: timeoutMilliseconds)
    }

    deinit {
        try? process.signal(SIGKILL)
        _ = try? process.wait()
    }

    /// Another descriptor to watch while a command runs (the learner's keyboard, a
    /// signalfd): `handle` is called when it is readable.
    public struct Watch {
        public var descriptor: Int32
        public var handle: () -> Void

        public init(descriptor: Int32, handle: @escaping () -> Void) {
            self.descriptor = descriptor
            self.handle = handle
        }
    }

    /// Runs one command line (or several, joined by newlines) and returns when a shell is
    /// waiting for input again. On timeout the command gets Ctrl-C, as a person would type;
    /// a nil timeout waits as long as the command runs (a learner's `top`).
    /// `onQuiet` is called each time the command has printed nothing for half a second (a
    /// REPL checks the lab then, while a program the learner is typing into still runs).
    /// `stopWhen` is asked after each wait: true gives up on the command as a timeout does
    /// (Ctrl-C, a moment for the prompt): a session told to end does not wait on a program.
    /// `echoing` turns the terminal's echo on while the command runs (a person types into it).
    public func run(
        _ command: String, timeoutMilliseconds: Int? = 60_000, watching: [Watch] = [],
        stopAtContinuation: Bool = false, onQuiet: (() -> Void)? = nil,
        stopWhen: (() -> Bool)? = nil, echoing: Bool = false,
        onOutput: ((String) -> Void)? = nil
    ) throws(LabError) -> Result {
        let clock = ContinuousClock()
        let started = clock.now
        let nested = depth > 1
        let shellGroup = foregroundProcess
        try send(Array((command + "\n").utf8))
        if echoing { try echoWhenProgramStarts(shellGroup: shellGroup) }
        // Off again before Gantry types anything more, and before the next prompt is read.
        defer { if echoing { setEcho(false) } }
        var stop = try waitForMarker(
            timeoutMilliseconds: timeoutMilliseconds, watching: watching,
            stopAtContinuation: stopAtContinuation, onQuiet: onQuiet, stopWhen: stopWhen, onOutput: onOutput)
        if case .continuation(let raw)? = stop {
            return Result(
                output: Self.normalizedNewlines(Self.withoutModeSwitches(raw)), screen: raw, status: 0, depth: depth,
                microseconds: started.duration(to: clock.now).microseconds, timedOut: false, needsMore: true)
        }
        var timedOut = false
        if stop == nil {
            timedOut = true
            try interrupt()
            stop = try waitForMarker(timeoutMilliseconds: stopWhen?() == true ? 1_000 : 5_000, watching: watching, onOutput: onOutput)
        }
        let elapsed = started.duration(to: clock.now)
        var (raw, status, depth) = ("", Int32(130), self.depth)
        if case .prompt(let output, let reported, let reportedDepth)? = stop { (raw, status, depth) = (output, reported, reportedDepth) }
        lastStatus = status
        let (prompt, output) = Self.split(raw, command: command, nested: nested)
        let screen = nested ? prompt + command + "\n" + output : output
        return Result(
            output: output, screen: screen, status: status, depth: depth,
            microseconds: elapsed.microseconds,
            timedOut: timedOut)
    }

    /// What a waiting shell printed before input starts: `notices` are whole lines a shell
    /// may print first (bash's job notices: `[1]+  Done  sleep 1`), as output; `prompt` is
    /// the last line, without escape sequences.
    public struct Prompt: Sendable, Equatable {
        public var notices = ""
        public var prompt = ""
    }

    /// After a command: the prompt the waiting shell prints (up to its OSC 133 "B" marker) —
    /// a nested shell's `root@con01:/#`, empty for the lab's own shell — and any lines it
    /// printed before it. Later output then starts with what the next command prints.
    public func readPrompt(timeoutMilliseconds: Int = 1_000) throws(LabError) -> Prompt {
        let deadline = ContinuousClock.now.advanced(by: .milliseconds(timeoutMilliseconds))
        while true {
            if let marker = Self.firstIndex(of: Self.inputMarker, in: pending) {
                let text = Array(pending[..<marker])
                pending.removeFirst(marker + Self.inputMarker.count)
                return Self.prompt(text)
            }
            let remaining = ContinuousClock.now.duration(to: deadline).milliseconds
            if remaining <= 0 { return Prompt() }
            guard try readOnce(waitingMilliseconds: remaining) else { continue }
        }
    }

    /// Splits a waiting shell's text at its last line break: the lines before are notices.
    static func prompt(_ bytes: [UInt8]) -> Prompt {
        guard let newline = bytes.lastIndex(of: 0x0a) else {
            return Prompt(prompt: String(decoding: bytes, as: UTF8.self).withoutTerminalEscapes)
        }
        let notices = normalizedNewlines(withoutModeSwitches(String(decoding: bytes[...newline], as: UTF8.self)))
        let prompt = String(decoding: bytes[(newline + 1)...], as: UTF8.self).withoutTerminalEscapes
        // A bare line break (readline ending the previous line) is not a notice.
        return Prompt(notices: notices.allSatisfy(\.isNewline) ? "" : notices, prompt: prompt)
    }

    /// While no command runs (the learner is at Gantry's prompt): what arrived since, from
    /// background jobs, and whether a shell finished something (type-ahead) and is waiting
    /// again. Call it when `descriptor` is readable.
    public func readAvailable() throws(LabError) -> (output: String, finished: Bool) {
        _ = try readOnce(waitingMilliseconds: 0)
        if let (before, status, depth, rest) = Self.splitAtMarker(pending) {
            pending = rest
            self.depth = depth
            lastStatus = status
            return (Self.text(before), true)
        }
        let safe = Self.safePrefixLength(pending)
        let chunk = Array(pending[0..<safe])
        pending.removeFirst(safe)
        return (Self.text(chunk), false)
    }

    /// The lab's terminal, for polling while idle.
    public var descriptor: Int32 { terminal }

    /// The process group in the terminal's foreground, as a host pid: the shell waiting for
    /// input, or the program running. Its /proc/PID/root and cwd are where the learner is.
    public var foregroundProcess: Int32? {
        let group = tcgetpgrp(terminal)
        return group > 0 ? group : nil
    }

    /// Keystrokes for whatever reads the terminal now (an interactive program). They go out
    /// as far as the terminal takes them; the rest is held (`outgoing`) and sent while Gantry
    /// waits. An interrupt character (Ctrl-C) jumps the queue, as the terminal's own line
    /// discipline would treat it: what was typed ahead is dropped and the interrupt lands.
    public func send(_ bytes: [UInt8]) throws(LabError) {
        if let interrupt = bytes.lastIndex(of: Self.interruptCharacter), !outgoing.isEmpty || Self.pendingInput(terminal) > 0 {
            outgoing.removeAll()
            // Discards what the program has not read yet, so the interrupt finds room.
            tcflush(terminal, TCOFLUSH)
            outgoing = Array(bytes[interrupt...])
        } else {
            guard outgoing.count + bytes.count <= Self.outgoingLimit else {
                throw .gone("the program in the lab is not reading its input (\(outgoing.count) bytes are waiting); Ctrl-C stops it")
            }
            outgoing += bytes
        }
        try flush()
    }

    /// Keys a person typed into the running command, sent as a terminal would take them:
    /// a builtin reading a line (`read name`) has the shell's terminal, whose echo Gantry
    /// left off, so it is turned on first — unless the program turned it off itself (a
    /// password: `read -s`). True when the keys were such a secret.
    @discardableResult
    public func type(_ bytes: [UInt8]) throws(LabError) -> Bool {
        let secret = programDisabledEcho
        if !secret && readsLines { setEcho(true) }
        try send(bytes)
        return secret
    }

    /// VINTR as the lab's shell leaves it (Ctrl-C).
    static let interruptCharacter: UInt8 = 0x03

    /// Bytes written to the terminal that the program side has not read yet: FIONREAD on the
    /// replica, opened for the question through TIOCGPTPEER (Linux 4.13) and closed again —
    /// TIOCOUTQ on the primary, which this asked before, is always 0 for a pseudo-terminal.
    static func pendingInput(_ terminal: Int32) -> Int32 {
        let replica = ioctl(terminal, 0x5441 /* TIOCGPTPEER */, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)
        guard replica >= 0 else { return 0 }
        defer { close(replica) }
        var count: Int32 = 0
        return ioctl(replica, UInt(FIONREAD), &count) == 0 ? count : 0
    }

    /// Writes what the terminal takes now.
    private func flush() throws(LabError) {
        // The terminal is non-blocking: what it does not take now (EAGAIN) waits for POLLOUT.
        while !outgoing.isEmpty {
            do { outgoing.removeFirst(try POSIX.call { outgoing.withUnsafeBytes { write(terminal, $0.baseAddress!, $0.count) } }) } catch {
                if error == .tryAgain { return }
                throw .system("write to the lab's terminal", error)
            }
        }
    }

    /// Ctrl-C: the terminal sends SIGINT to its foreground process group only, so the
    /// command stops and the shell (and Gantry) stay.
    public func interrupt() throws(LabError) { try send([Self.interruptCharacter]) }

    /// Abandons a command that was not finished (the shell showed its continuation prompt):
    /// Ctrl-C, then the prompt that follows. What was typed so far is dropped.
    public func cancelInput() throws(LabError) {
        try interrupt()
        _ = try waitForMarker(timeoutMilliseconds: 5_000, onOutput: nil)
        lastStatus = 130
    }

    /// Whether the program holding the lab's terminal is blocked waiting for input (in read,
    /// poll, select and kin), as a person at a terminal sees a program waiting at its prompt:
    /// from /proc of the terminal's foreground process. `sleep 5` is not. It must be
    /// waiting for the terminal, not for a pipe or a socket (`ping | grep` has grep reading a
    /// pipe and ping polling its socket): one of the descriptors it waits on is the terminal
    /// (`AwaitedInput`).
    /// A reader with input already waiting for it is about to take it, not waiting for more:
    /// on a slow machine the shell itself sits in its read for a while after the line came.
    public var programAwaitsInput: Bool {
        guard Self.pendingInput(terminal) == 0 else { return false }
        guard let pid = foregroundProcess, let descriptors = AwaitedInput.descriptors(of: pid) else { return false }
        return descriptors.contains { descriptor in
            guard let target = POSIX.readLink("/proc/\(pid)/fd/\(descriptor)") else { return false }
            return target.contains("/pts/") || target.hasPrefix("/dev/tty") || target == "/dev/console"
        }
    }

    /// Whether the terminal is in canonical (line) mode: a program reading lines (`cat`,
    /// `read`) wants its input echoed by the terminal, one in raw mode (`top`, readline)
    /// draws it itself.
    public var readsLines: Bool {
        var mode = termios()
        return tcgetattr(terminal, &mode) == 0 && mode.c_lflag & tcflag_t(ICANON) != 0
    }

    /// Terminal echo: off while Gantry types for the learner (output is then only what
    /// programs print), on for a person typing.
    public func setEcho(_ on: Bool) {
        var mode = termios()
        guard tcgetattr(terminal, &mode) == 0 else { return }
        if on { mode.c_lflag |= tcflag_t(ECHO) } else { mode.c_lflag &= ~tcflag_t(ECHO) }
        tcsetattr(terminal, TCSANOW, &mode)
        gantryMode = mode.c_lflag
    }

    /// The local modes Gantry last set; a program that changes them (a password prompt:
    /// `read -s`, getpass) did so for a reason.
    private var gantryMode: tcflag_t?

    /// Echo is off because the running program turned it off to read a line nobody should
    /// see (a password: `read -s`, getpass), not because Gantry did: the terminal reads
    /// lines, without echo, and its local modes differ from the ones Gantry left. Programs
    /// in raw mode (readline, `top`) draw their own input and are not secret.
    public var programDisabledEcho: Bool {
        var mode = termios()
        guard tcgetattr(terminal, &mode) == 0, mode.c_lflag & tcflag_t(ICANON) != 0, mode.c_lflag & tcflag_t(ECHO) == 0 else { return false }
        return gantryMode.map { $0 != mode.c_lflag } ?? false
    }

    /// Turns the terminal's echo on once the command just sent has started a program (the
    /// terminal's foreground process group is no longer the shell's): the shell has read
    /// the line by then, so the line itself stays unechoed. A program that reads lines
    /// (`cat`) then shows what is typed, and one that edits lines with readline (`python3`)
    /// draws it: readline looks at the echo flag when it starts a line and draws nothing
    /// when it is off, so echo must be on before the program's first prompt — hence a
    /// short, tight wait here rather than a look when output comes. A builtin (`cd`) or a
    /// command that has finished ends the wait.
    private func echoWhenProgramStarts(shellGroup: Int32?) throws(LabError) {
        guard let shellGroup else { return }
        for _ in 0..<50 {
            let group = tcgetpgrp(terminal)
            if group > 0 && group != shellGroup {
                setEcho(true)
                return
            }
            if Self.firstIndex(of: Self.markerPrefix, in: pending) != nil { return }
            _ = try readOnce(waitingMilliseconds: 1)
        }
    }

    public func resize(rows: UInt16, columns: UInt16) {
        var size = winsize(ws_row: rows, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0)
        _ = ioctl(terminal, UInt(TIOCSWINSZ), &size)
    }

    /// Where a wait for the shell ended: at a prompt (a status marker), or at the
    /// continuation marker of an unfinished command; with the output before it.
    private enum Stop: Equatable {
        case prompt(output: String, status: Int32, depth: Int)
        case continuation(output: String)
    }

    /// Reads until a marker, returning the output before it; nil at the deadline.
    private func waitForMarker(
        timeoutMilliseconds: Int?, watching: [Watch] = [], stopAtContinuation: Bool = false,
        onQuiet: (() -> Void)? = nil, stopWhen: (() -> Bool)? = nil,
        onOutput: ((String) -> Void)?
    ) throws(LabError) -> Stop? {
        let deadline = timeoutMilliseconds.map { ContinuousClock.now.advanced(by: .milliseconds($0)) }
        var output: [UInt8] = []
        while true {
            if stopAtContinuation, let index = Self.firstIndex(of: Self.continuationMarker, in: pending),
                Self.firstIndex(of: Self.markerPrefix, in: pending).map({ $0 > index }) ?? true
            {
                let before = Array(pending[..<index])
                output += before
                pending.removeFirst(index + Self.continuationMarker.count)
                onOutput?(Self.text(before))
                return .continuation(output: String(decoding: output, as: UTF8.self))
            }
            if let (before, status, depth, rest) = Self.splitAtMarker(pending) {
                output += before
                pending = rest
                self.depth = depth
                onOutput?(Self.text(before))
                return .prompt(output: String(decoding: output, as: UTF8.self), status: status, depth: depth)
            }
            // Keep a possible partial marker in `pending`; hand the rest on as it comes.
            let safe = Self.safePrefixLength(pending)
            if safe > 0 {
                let chunk = Array(pending[0..<safe])
                output += chunk
                onOutput?(Self.text(chunk))
                pending.removeFirst(safe)
            }
            let remaining = deadline.map { ContinuousClock.now.duration(to: $0).milliseconds } ?? 1000
            if remaining <= 0 { pending = output + pending; return nil }
            let quiet = onQuiet == nil ? 1000 : 500
            _ = try readOnce(waitingMilliseconds: min(remaining, quiet), watching: watching)
            if quietWait { onQuiet?() }
            if stopWhen?() == true { pending = output + pending; return nil }
        }
    }

    /// Waits up to `waitingMilliseconds` for the terminal (calling the watches' handlers as
    /// their descriptors become readable) and appends what it has to `pending`; true if
    /// anything came.
    private func readOnce(waitingMilliseconds: Int, watching: [Watch] = []) throws(LabError) -> Bool {
        let writing = !outgoing.isEmpty
        var descriptors = [pollfd(fd: terminal, events: Int16(POLLIN) | (writing ? Int16(POLLOUT) : 0), revents: 0)]
        descriptors += watching.map { pollfd(fd: $0.descriptor, events: Int16(POLLIN), revents: 0) }
        let ready = poll(&descriptors, nfds_t(descriptors.count), Int32(waitingMilliseconds))
        quietWait = ready == 0
        if ready <= 0 { return false }
        for (index, watch) in watching.enumerated() where descriptors[index + 1].revents != 0 {
            watch.handle()
        }
        if descriptors[0].revents & Int16(POLLOUT) != 0 { try flush() }
        guard descriptors[0].revents & ~Int16(POLLOUT) != 0 else { return false }
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        let count: Int
        do { count = try POSIX.call { read(terminal, &buffer, buffer.count) } } catch {
            if error == .tryAgain { return false }
            throw .gone("the lab's shell ended")
        }
        if count == 0 { throw .gone("the lab's shell ended") }
        pending += buffer[0..<count]
        return true
    }

    /// Splits at the first complete marker: (before, status, depth, after).
    static func splitAtMarker(_ bytes: [UInt8]) -> ([UInt8], Int32, Int, [UInt8])? {
        guard let start = firstIndex(of: markerPrefix, in: bytes),
            let end = bytes[(start + markerPrefix.count)...].firstIndex(of: 0x07)
        else { return nil }
        let fields = String(decoding: bytes[(start + markerPrefix.count)..<end], as: UTF8.self).split(separator: ";")
        let status = fields.first.flatMap { Int32($0) } ?? 0
        let depth = fields.count > 1 ? Int(fields[1]) ?? 1 : 1
        return (Array(bytes[..<start]), status, depth, Array(bytes[(end + 1)...]))
    }

    /// How much of `bytes` cannot be the start of a marker still arriving (a status marker
    /// runs to its BEL; the continuation marker is fixed).
    static func safePrefixLength(_ bytes: [UInt8]) -> Int {
        guard let escape = bytes.lastIndex(of: 0x1b) else { return bytes.count }
        let tail = bytes[escape...]
        let couldBeStatus =
            tail.count < markerPrefix.count
            ? markerPrefix.starts(with: tail)
            : tail.starts(with: markerPrefix) && !tail.contains(0x07)
        let couldBeContinuation = tail.count < continuationMarker.count && continuationMarker.starts(with: tail)
        return couldBeStatus || couldBeContinuation ? escape : bytes.count
    }

    static func firstIndex(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for index in 0...(haystack.count - needle.count) where haystack[index] == needle[0] {
            if haystack[index..<(index + needle.count)].elementsEqual(needle) { return index }
        }
        return nil
    }

    /// Splits what came back into the prompt (up to the input marker) and the command's
    /// output, without the echoed input line a readline shell may print.
    static func split(_ raw: String, command: String, nested: Bool) -> (String, String) {
        var bytes = Array(raw.utf8)
        var prompt: [UInt8] = []
        if let marker = lastIndex(of: inputMarker, in: bytes) {
            prompt = Array(bytes[..<marker])
            bytes = Array(bytes[(marker + inputMarker.count)...])
        }
        if nested { bytes = withoutAcceptedLine(bytes, command: command) }
        let text = normalizedNewlines(withoutModeSwitches(String(decoding: bytes, as: UTF8.self)))
        return (normalizedNewlines(withoutModeSwitches(String(decoding: prompt, as: UTF8.self))), text)
    }

    /// The start of a nested readline shell's output, without what that shell printed on
    /// accepting the line Gantry typed: the line itself if it echoed it (`echoScan`), the end
    /// of bracketed paste (bash 5.1 and later with a carriage return: "ESC[?2004l CR"), and,
    /// when it did not echo (the terminal's echo is off while Gantry types), its move to a
    /// new line. An echoed line already ended with its line break; a blank line after it is
    /// the command's.
    public static func withoutAcceptedLine(_ output: [UInt8], command: String) -> [UInt8] {
        var bytes = output[...]
        let echoed: Bool
        if case .echo(let end) = echoScan(output, command: command) {
            bytes = bytes.dropFirst(end)
            echoed = true
        } else {
            echoed = false
        }
        let accepted = Array("\u{1b}[?2004l".utf8)
        guard bytes.starts(with: accepted) else { return Array(bytes) }
        bytes = bytes.dropFirst(accepted.count)
        if bytes.first == 0x0d { bytes = bytes.dropFirst() }
        if !echoed {
            if bytes.starts(with: [0x0d, 0x0a]) { bytes = bytes.dropFirst(2) } else if bytes.first == 0x0a { bytes = bytes.dropFirst() }
        }
        return Array(bytes)
    }

    /// Whether output begins with the line Gantry typed, echoed by a nested readline that
    /// started its line while the terminal echoed (where `stty` is missing: a chroot; see
    /// `promptCommand`). Once that happens it goes on: readline puts back the terminal mode
    /// it found when the line is read. Such an echo is the first line, and its visible text
    /// is the command — after the shell's prompt, when readline drew that again (then the
    /// line holds the prompt's OSC 133 "B" marker).
    public enum EchoScan: Equatable {
        /// Not yet known: more output may still make it the echo.
        case undecided
        case none
        /// The echo, through its line break, ends at this offset.
        case echo(end: Int)
    }

    public static func echoScan(_ bytes: [UInt8], command: String) -> EchoScan {
        let newline = bytes.firstIndex(of: 0x0a)
        let line = bytes[..<(newline ?? bytes.count)]
        let marker = lastIndex(of: inputMarker, in: Array(line))
        let drawn = marker.map { Array(line[($0 + inputMarker.count)...]) } ?? Array(line)
        let visible = String(String(decoding: drawn, as: UTF8.self).withoutTerminalEscapes.drop(while: \.isWhitespace))
        let typed = command.trimmed
        guard !typed.isEmpty else { return .none }
        guard let newline else { return typed.hasPrefix(visible) ? .undecided : .none }
        guard visible.trimmed == typed else { return .none }
        // `exit` is what bash says when it leaves, too: an echo of it is followed by that
        // (or was drawn after the prompt).
        let word = typed.split(separator: " ").first.map(String.init) ?? ""
        if ["exit", "logout"].contains(word) && marker == nil {
            let rest = bytes[(newline + 1)...]
            guard let next = rest.firstIndex(of: 0x0a) else { return .undecided }
            let said = String(decoding: rest[..<next], as: UTF8.self).withoutTerminalEscapes.trimmed
            return said == word ? .echo(end: newline + 1) : .none
        }
        return .echo(end: newline + 1)
    }

    static func lastIndex(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for index in stride(from: haystack.count - needle.count, through: 0, by: -1)
        where haystack[index..<(index + needle.count)].elementsEqual(needle) {
            return index
        }
        return nil
    }

    /// Removes `ESC [ ? <digits> h|l` (private mode set/reset: bracketed paste, cursor keys).
    static func withoutModeSwitches(_ text: String) -> String {
        var bytes: [UInt8] = []
        let input = Array(text.utf8)
        var index = 0
        while index < input.count {
            if input[index] == 0x1b, index + 2 < input.count, input[index + 1] == UInt8(ascii: "["), input[index + 2] == UInt8(ascii: "?") {
                var end = index + 3
                while end < input.count, input[end] >= 0x30, input[end] <= 0x3b { end += 1 }
                if end < input.count, input[end] == UInt8(ascii: "h") || input[end] == UInt8(ascii: "l") {
                    index = end + 1
                    continue
                }
            }
            bytes.append(input[index])
            index += 1
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A terminal line ends in CR LF, readline's in CR CR LF: any CRs right before an LF go.
    static func normalizedNewlines(_ text: String) -> String {
        var result: [UInt8] = []
        for byte in text.utf8 {
            if byte == 0x0a { while result.last == 0x0d { result.removeLast() } }
            result.append(byte)
        }
        return String(decoding: result, as: UTF8.self)
    }

    static func text(_ bytes: [UInt8]) -> String {
        String(decoding: bytes, as: UTF8.self).replacingCRLF
    }
}

extension String {
    var replacingCRLF: String {
        var result = ""
        result.reserveCapacity(utf8.count)
        var previousCR = false
        for scalar in unicodeScalars {
            if previousCR && scalar != "\n" { result.unicodeScalars.append("\r") }
            previousCR = scalar == "\r"
            if !previousCR { result.unicodeScalars.append(scalar) }
        }
        if previousCR { result.unicodeScalars.append("\r") }
        return result
    }
}
