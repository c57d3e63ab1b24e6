internal import CGantry
internal import Glibc
public import Lab
public import Lessons
internal import POSIXSupport

/// Why a transcript is not replayed: it cannot be trusted as it is, it was made from
/// another lesson, or this host cannot run what it recorded.
public struct ReplayRefusal: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Re-runs a recorded session in a fresh lab: every line to where it went (the lab's shell,
/// the nested shell it is in by then), keys to the program that held the terminal at the
/// times they were typed, hints, solves, resets, skips and moves as the learner made them,
/// and the same session engine checking every step. What it found is a `ReplayScript`-shaped
/// record to compare with the recording's (`Verification`).
public final class Replayer {
    public let transcript: Transcript
    public let script: ReplayScript
    public let lesson: Lesson
    let support: HostSupport

    /// What the replay found, step by step, and each line's output and status.
    public private(set) var steps: [String: ReplayScript.StepRecord] = [:]
    public private(set) var lines: [(line: ReplayScript.Line, result: LineResult?)] = []

    /// Checks the file and the host first: a transcript that cannot be trusted as it is, one
    /// made from another version of the lesson (unless `lessonOverride` says to use this
    /// one), or one this host cannot run as recorded is refused, with the reason.
    public init(
        transcript: Transcript, lessons: [Lesson], lessonOverride: Lesson? = nil, allowUnsealed: Bool = false,
        support: HostSupport
    ) throws(ReplayRefusal) {
        self.transcript = transcript
        self.support = support
        switch transcript.integrity {
        case .sealed: break
        case .unsealed where allowUnsealed: break
        case .unsealed:
            throw ReplayRefusal(
                "\(transcript.path): \(transcript.integrityDescription); --allow-unsealed replays what it holds")
        case .broken:
            throw ReplayRefusal("\(transcript.path): \(transcript.integrityDescription): it was edited, and is not replayed")
        }
        let facts = transcript.header.gantry.lesson
        if let lessonOverride {
            lesson = lessonOverride
        } else {
            guard let found = lessons.first(where: { $0.id == facts.id }) else {
                throw ReplayRefusal("\(transcript.path): no lesson '\(facts.id)' here; --lessons DIR or --lesson FILE names it")
            }
            let here = SHA256.hexDigest(POSIX.readFileBytes(found.file) ?? [])
            guard here == facts.sha256 else {
                throw ReplayRefusal(
                    "\(transcript.path): recorded with another version of \(found.file) (SHA-256 \(facts.sha256) then, \(here) here); "
                        + "--lesson FILE replays it against a version on purpose")
            }
            lesson = found
        }
        if let missing = support.missingRequirements(lesson) {
            throw ReplayRefusal("\(transcript.path): '\(lesson.id)' cannot run here: \(missing)")
        }
        // Steps whose commands differ by host (```console cgroup.v1 / cgroup.v2): a session
        // recorded where another variant applied typed commands meant for that host.
        let recorded = Set(transcript.header.gantry.host.capabilities)
        for capability in Self.variantCapabilities(of: lesson) where recorded.contains(capability) != support.has(capability) {
            throw ReplayRefusal(
                "\(transcript.path): recorded on a host where \(capability) was \(recorded.contains(capability) ? "available" : "missing") "
                    + "(cgroups \(transcript.header.gantry.host.cgroups)); here it is \(support.has(capability) ? "available" : "missing"), and '\(lesson.id)' "
                    + "has steps that differ by it: replay it on a host like the recording's")
        }
        script = ReplayScript(transcript)
    }

    static func variantCapabilities(of lesson: Lesson) -> Set<String> {
        var names = Set<String>()
        for step in lesson.steps {
            names.formUnion(step.console.compactMap(\.capability))
            names.formUnion(step.checks.compactMap(\.capability))
            names.formUnion(step.setup.compactMap(\.capability))
        }
        return names
    }

    /// Runs the session; `show` hears what a terminal would show (nil: quiet). False when
    /// the lab could not be built.
    @discardableResult
    public func run(show: ((String) -> Void)? = nil) -> Bool {
        let engine = LessonSession(support: support)
        engine.language = transcript.header.gantry.lesson.language
        let size = (rows: UInt16(clamping: transcript.header.height), columns: UInt16(clamping: transcript.header.width))
        engine.terminalSize = { size }
        let heard = Heard()
        engine.observers = [heard]
        guard engine.open(lesson, at: script.startIndex) else { return false }
        defer {
            engine.end(reason: "replay finished")
            steps = heard.steps
        }
        for action in script.actions {
            switch action {
            case .line(let line):
                show?("$ " + ([line.text] + line.continuation).joined(separator: "\n> ") + "\n")
                let result = run(line, in: engine, show: show)
                lines.append((line, result))
            case .hint: engine.hint()
            case .solve: engine.solve()
            case .reset: engine.reset()
            case .skip: engine.skip()
            case .check: engine.check()
            case .move(let index): if index != engine.index { engine.move(to: index) }
            }
        }
        return true
    }

    /// One recorded line: continuation lines when the shell asks, keys at their times.
    func run(_ line: ReplayScript.Line, in engine: LessonSession, show: ((String) -> Void)?) -> LineResult? {
        var io = CommandIO()
        var continuation = line.continuation[...]
        io.continuation = { continuation.popFirst() }
        io.stream = show
        // Keys typed into a program are echoed by the terminal, as they were for the learner.
        io.echoes = !line.keys.isEmpty
        // As long as the recording ran, and a minute more: a replay that went another way
        // (a command that waits for what never comes) is interrupted, as `gantry test` does.
        io.timeoutMilliseconds = (line.milliseconds ?? 0) * 2 + 60_000
        let keys = KeyTimer(line)
        if let keys, let shell = engine.shell {
            io.watches = [
                LabShell.Watch(descriptor: keys.descriptor) { engine.noteLinesInProgram(keys.fire(into: shell)) }
            ]
            // As the learner's session did: the step is looked at once the program is quiet,
            // not the moment its keys were sent (it had not done them yet).
            io.onQuiet = { engine.lookWhileRunning() }
        }
        defer { keys?.close() }
        return engine.run(line.text, io: io)
    }

    /// Sends a line's recorded keys at the offsets they were typed (each gap at most two
    /// seconds: the recording's pauses to think are not worth waiting for).
    final class KeyTimer {
        let descriptor: Int32
        var keys: ArraySlice<(text: String, after: Double)>

        init?(_ line: ReplayScript.Line) {
            guard !line.keys.isEmpty else { return nil }
            let fd = timerfd_create(CLOCK_MONOTONIC, Int32(TFD_CLOEXEC | TFD_NONBLOCK))
            guard fd >= 0 else { return nil }
            descriptor = fd
            var previous = 0.0
            var offsets: [(text: String, after: Double)] = []
            for (text, offset) in zip(line.keys, line.keyOffsets + Array(repeating: 0, count: max(0, line.keys.count - line.keyOffsets.count))) {
                let gap = min(max(offset - previous, 0.05), 2)
                previous = offset
                offsets.append((text, gap))
            }
            keys = offsets[...]
            arm()
        }

        func arm() {
            guard let next = keys.first else { return }
            let nanoseconds = Int(next.after * 1_000_000_000)
            var spec = itimerspec()
            spec.it_value = timespec(tv_sec: nanoseconds / 1_000_000_000, tv_nsec: nanoseconds % 1_000_000_000)
            _ = timerfd_settime(descriptor, 0, &spec, nil)
        }

        /// Sends the next keys; how many lines they entered (Enter pressed).
        func fire(into shell: LabShell) -> Int {
            var expirations: UInt64 = 0
            _ = read(descriptor, &expirations, 8)
            guard let next = keys.popFirst() else { return 0 }
            _ = try? shell.type(Array(next.text.utf8))
            arm()
            return next.text.utf8.filter { $0 == 0x0d || $0 == 0x0a }.count
        }

        func close() { Glibc.close(descriptor) }
    }

    /// The replayed session's steps, in the terms the recording's are read in.
    final class Heard: SessionObserver {
        var steps: [String: ReplayScript.StepRecord] = [:]

        func observe(_ event: SessionEvent) {
            switch event {
            case .stepDone(let step, _, let overtaken, _):
                steps[step, default: .init()].done = true
                steps[step, default: .init()].overtaken = overtaken
            case .skipped(let step): steps[step, default: .init()].skipped = true
            case .hintShown(let step, _, _, _): steps[step, default: .init()].hints += 1
            case .solutionShown(let step, _): steps[step, default: .init()].solved = true
            case .worked(let step, let commands): steps[step, default: .init()].attempts += commands
            case .checkEvaluated(let evaluation):
                var expectations: [Int: (passed: Bool, seen: String)] = [:]
                for expectation in evaluation.expectations { expectations[expectation.line] = (expectation.passed, expectation.seen.en) }
                steps[evaluation.step, default: .init()].expectations = expectations
                steps[evaluation.step, default: .init()].failing = evaluation.expectations.first { !$0.passed }.map {
                    "\($0.expectation.en): \($0.seen.en)"
                }
            default: break
            }
        }
    }
}
