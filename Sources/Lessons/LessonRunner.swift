internal import Cgroups
public import Lab
internal import POSIXSupport

/// Runs a lesson's reference solution in a fresh lab through the session engine, as a
/// learner typing it would: every command of every step, every output compared, every check
/// evaluated. What `gantry test` does.
public struct LessonRunner {
    public struct Failure: Sendable {
        public var line: Int
        public var message: String
        /// Expected/actual lines for an output mismatch.
        public var diff: [String]
    }

    public struct StepResult: Sendable {
        public var id: String
        public var title: String
        public var failures: [Failure]
        /// What each command (by the file line of its `$`) printed and how it exited, for
        /// `gantry test --update`.
        public var observed: [Int: (output: String, status: Int32)] = [:]
        public var passed: Bool { failures.isEmpty }
    }

    public struct LessonResult: Sendable {
        public enum Outcome: Sendable, Equatable { case passed, failed, skipped(String) }
        public var lesson: Lesson
        public var outcome: Outcome
        public var steps: [StepResult]
        public var microseconds: Int
    }

    public let support: HostSupport

    public init(support: HostSupport) { self.support = support }

    /// Drives the session engine with the lesson's reference commands, as a learner who
    /// typed them would: the engine checks the step after each command and moves on when it
    /// holds; a step whose commands ran out before it held is checked once more, thoroughly.
    /// `observers` hear the session as the engine tells it (the same events the REPL renders).
    public func run(_ lesson: Lesson, onlyStep: Int? = nil, observers: [any SessionObserver] = []) -> LessonResult {
        let started = ContinuousClock.now
        func elapsed() -> Int { started.duration(to: .now).microseconds }
        if let missing = support.missingRequirements(lesson) {
            return LessonResult(lesson: lesson, outcome: .skipped(missing), steps: [], microseconds: 0)
        }
        let engine = LessonSession(support: support)
        let heard = Heard()
        engine.observers = [heard] + observers
        // Jumping into one step: the engine brings the lab to where it starts.
        guard engine.open(lesson, at: (onlyStep ?? 1) - 1) else {
            let failure = Failure(line: 1, message: "could not build the lab: \(heard.labFailure ?? "unknown")", diff: [])
            return LessonResult(lesson: lesson, outcome: .failed, steps: [StepResult(id: "lab", title: "lab", failures: [failure])], microseconds: elapsed())
        }
        defer { engine.end(reason: "test finished") }

        var results: [StepResult] = []
        for (index, step) in lesson.steps.enumerated() {
            if let onlyStep, index + 1 != onlyStep { continue }
            var failures = heard.preparationFailures.map { Failure(line: $0.line, message: $0.message, diff: []) }
            heard.preparationFailures = []
            var observed: [Int: (output: String, status: Int32)] = [:]
            // The step before did not pass: this one is worked on from where the lab is.
            if engine.index < index { engine.move(to: index) }
            let commands = support.referenceCommands(of: step)
            var next = 0
            let io = Self.io(engine) {
                defer { next += 1 }
                return next < commands.count ? engine.matcher.substitute(commands[next].command) : nil
            }
            while next < commands.count {
                let command = commands[next]
                next += 1
                let following = next
                let typed = engine.matcher.substitute(command.command)
                guard let result = engine.run(command.command, io: io) else {
                    failures.append(Failure(line: command.line, message: "`\(typed)`: the shell ended", diff: []))
                    continue
                }
                observed[command.line] = (result.output, result.status)
                if result.timedOut {
                    failures.append(Failure(line: command.line, message: "`\(typed)` did not finish within 60 s (interrupted)", diff: []))
                    continue
                }
                // A program that was typed into (`sh`) printed its prompts and banner; the
                // lesson says what it prints only if it gives lines for it.
                let typedInto = next > following
                if !(typedInto && command.expected.isEmpty), let mismatch = engine.compare(result.output, expected: command.expected) {
                    failures.append(Failure(line: command.line, message: "`\(typed)` printed something else", diff: mismatch.diff))
                }
                let expectedStatus = command.expectedStatus ?? 0
                if result.status != expectedStatus {
                    failures.append(Failure(line: command.line, message: "`\(typed)` exited \(result.status), expected \(expectedStatus)", diff: []))
                }
            }
            // Checks, through the same rule the REPL applies to a learner: a lesson that passes
            // here can be completed there. Output mismatches were reported above, per command.
            if !heard.done.contains(step.id) {
                let verdict = engine.index == index ? engine.check(look: .test, purpose: .test) : nil
                if verdict?.done != true {
                    for expectation in verdict?.failed ?? [] {
                        let text = step.checks.flatMap(\.checks).first { $0.line == expectation.line }?.text ?? expectation.description.en
                        failures.append(Failure(line: expectation.line, message: "check `\(text)` failed: \(expectation.message)", diff: []))
                    }
                    if verdict == nil {
                        failures.append(Failure(line: step.line, message: "the session left this step before it was done", diff: []))
                    }
                }
            }
            results.append(StepResult(id: step.id, title: step.title, failures: failures, observed: observed))
        }
        return LessonResult(lesson: lesson, outcome: results.allSatisfy(\.passed) ? .passed : .failed, steps: results, microseconds: elapsed())
    }

    /// How the reference commands get the lab's terminal: each runs to its prompt (60 s at
    /// most). A program without Gantry's markers that waits for input (`sh`, busybox sh in a
    /// chroot, `cat > file`) is given the step's next lines as a person would type them,
    /// once it is quiet and reading, and the step is looked at after each; when the step's
    /// lines run out it gets Ctrl-D. Their output is the program's (`nextLine` hands out
    /// the lines; the caller's loop skips those it took).
    static func io(_ engine: LessonSession, nextLine: @escaping () -> String?) -> CommandIO {
        var io = CommandIO()
        io.timeoutMilliseconds = 60_000
        io.asksForContinuation = false
        io.echoes = true
        io.onQuiet = {
            if engine.programAwaitsLine { engine.typeIntoProgram(nextLine()) }
        }
        return io
    }

    /// What `gantry test` needs to hear from the engine.
    final class Heard: SessionObserver {
        var labFailure: String?
        var preparationFailures: [(line: Int, message: String)] = []
        var done: Set<String> = []

        func observe(_ event: SessionEvent) {
            switch event {
            case .labFailed(let reason): labFailure = reason
            case .preparationFailed(let line, let message): preparationFailures.append((line, message))
            case .stepDone(let step, _, _, _): done.insert(step)
            default: break
            }
        }
    }

    /// Every `.md` lesson under the paths (files or directories), README.md excepted, sorted.
    public static func lessonFiles(_ paths: [String]) -> [String] {
        var files: [String] = []
        for path in paths {
            if path.hasSuffix(".md") { files.append(path); continue }
            for name in POSIX.list(path) where name.hasSuffix(".md") && name != "README.md" {
                files.append((path.hasSuffix("/") ? path : path + "/") + name)
            }
        }
        return files.sorted()
    }

    /// Parses each file; errors are collected, not thrown. The files are split between this
    /// thread and one more (every start of the REPL parses the whole course, ~1/6 of its
    /// time to the prompt); results keep the files' order.
    public static func load(_ files: [String]) -> (lessons: [Lesson], errors: [LessonError]) {
        let half = files.count / 2
        let first = Parsed()
        let helper = half > 0 ? try? JoinableThread { first.parse(files[..<half]) } : nil
        if helper == nil { first.parse(files[..<half]) }
        let second = Parsed()
        second.parse(files[half...])
        helper?.join()
        let lessons = first.lessons + second.lessons
        var errors = first.errors + second.errors
        var seen: [String: String] = [:]
        for lesson in lessons {
            if let other = seen[lesson.id] {
                errors.append(LessonError(file: lesson.file, line: 2, "lesson id '\(lesson.id)' is also used by \(other)"))
            }
            seen[lesson.id] = lesson.file
        }
        return (lessons, errors)
    }

    /// What one thread parsed.
    private final class Parsed: @unchecked Sendable {
        // @unchecked: filled by one thread, read by another only after pthread_join.
        var lessons: [Lesson] = []
        var errors: [LessonError] = []

        func parse(_ files: ArraySlice<String>) {
            for file in files {
                guard let text = POSIX.readFile(file) else {
                    errors.append(LessonError(file: file, line: 1, "cannot read the file"))
                    continue
                }
                do { lessons.append(try LessonParser.parse(text, file: file)) } catch { errors.append(error) }
            }
        }
    }
}
