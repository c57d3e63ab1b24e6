internal import Cgroups
public import Lab
internal import POSIXSupport

/// Runs a lesson's reference solution in a fresh lab: every command of every step through a
/// persistent shell, every output compared, every check evaluated. What `gantry test` does.
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

    /// "this host lacks cgroup.cpu (how to get it)" for a lesson this host cannot run, or nil.
    public func missingRequirements(_ lesson: Lesson) -> String? {
        let missing = lesson.requires.filter { !support.has($0) }
        guard !missing.isEmpty else { return nil }
        let reasons = missing.map { capability in
            let finding = support.findings.first { $0.capability == capability }
            return capability + (finding?.fix.map { " (\($0))" } ?? " (unknown capability)")
        }
        return "this host lacks " + reasons.joined(separator: ", ")
    }

    /// A variant block applies when it names no capability or one the host has.
    public func applies(_ capability: String?) -> Bool { capability.map { support.has($0) } ?? true }

    public func run(_ lesson: Lesson, onlyStep: Int? = nil) -> LessonResult {
        let clock = ContinuousClock()
        let started = clock.now
        func elapsed() -> Int {
            started.duration(to: clock.now).microseconds
        }
        if let missing = missingRequirements(lesson) {
            return LessonResult(lesson: lesson, outcome: .skipped(missing), steps: [], microseconds: 0)
        }
        let configuration = lesson.labConfiguration
        let lab: Lab
        let shell: LabShell
        do {
            lab = try Lab.create(configuration)
            shell = try LabShell(lab: lab)
        } catch {
            let failure = Failure(line: 1, message: "could not build the lab: \(error)", diff: [])
            return LessonResult(lesson: lesson, outcome: .failed, steps: [StepResult(id: "lab", title: "lab", failures: [failure])], microseconds: elapsed())
        }
        defer { lab.destroy() }

        var matcher = OutputMatcher()
        var results: [StepResult] = []
        for (index, step) in lesson.steps.enumerated() {
            if let onlyStep, index + 1 != onlyStep { continue }
            var failures: [Failure] = []
            var observed: [Int: (output: String, status: Int32)] = [:]
            // Jumping into one step: the lab is brought to where it starts.
            if onlyStep != nil {
                failures += prepare(lesson, step: index, shell: shell, matcher: &matcher)
            }
            var tracker = StepTracker(step: step, applies: applies)
            // As in the shell, the step is looked at after every command: it is done as soon
            // as it holds (a chroot step holds while the learner is inside, not after `exit`).
            var done = false
            for block in step.console where applies(block.capability) {
                for command in block.commands {
                    let typed = matcher.substitute(command.command)
                    do {
                        let result = try shell.run(typed, timeoutMilliseconds: 60_000)
                        observed[command.line] = (result.output, result.status)
                        tracker.record(output: result.output)
                        if !done {
                            done = tracker.verdict(lab: lab, captures: matcher.captures, shell: shell.foregroundProcess, look: .quick).done
                        }
                        if result.timedOut {
                            failures.append(Failure(line: command.line, message: "`\(typed)` did not finish within 60 s (interrupted)", diff: []))
                            continue
                        }
                        if let mismatch = matcher.match(result.output, expected: command.expected) {
                            failures.append(Failure(line: command.line, message: "`\(typed)` printed something else", diff: mismatch.diff))
                        }
                        let expectedStatus = command.expectedStatus ?? 0
                        if result.status != expectedStatus {
                            failures.append(Failure(line: command.line, message: "`\(typed)` exited \(result.status), expected \(expectedStatus)", diff: []))
                        }
                    } catch {
                        failures.append(Failure(line: command.line, message: "`\(typed)`: \(error)", diff: []))
                    }
                }
            }
            // Checks, through the same rule the REPL applies to a learner: a lesson that passes
            // here can be completed there. Output mismatches were reported above, per command.
            let verdict = done ? nil : tracker.verdict(lab: lab, captures: matcher.captures, shell: shell.foregroundProcess, look: .test)
            for expectation in verdict?.failed ?? [] {
                let text = step.checks.flatMap(\.checks).first { $0.line == expectation.line }?.text ?? expectation.description.en
                failures.append(Failure(line: expectation.line, message: "check `\(text)` failed: \(expectation.message)", diff: []))
            }
            results.append(StepResult(id: step.id, title: step.title, failures: failures, observed: observed))
        }
        return LessonResult(lesson: lesson, outcome: results.allSatisfy(\.passed) ? .passed : .failed, steps: results, microseconds: elapsed())
    }

    /// Every `.md` lesson under the paths (files or directories), README.md excepted, sorted.
    /// The commands that bring a fresh lab to the start of step `index` (0-based): the step's
    /// setup blocks or, without any, the earlier steps' reference commands, which is what a
    /// learner who did them would have. Setup commands must exit 0; replayed ones are not
    /// checked, but their outputs feed the placeholders later steps use ({{loop}}).
    public func preparation(for lesson: Lesson, step index: Int) -> [Preparation] {
        let setup = lesson.steps[index].setup.filter { applies($0.capability) }
        if !setup.isEmpty {
            return setup.flatMap { block in block.commands.map { Preparation(line: block.line, command: $0, expected: nil) } }
        }
        return lesson.steps[..<index].flatMap { earlier in
            earlier.console.filter { applies($0.capability) }.flatMap(\.commands).map { Preparation(line: $0.line, command: $0.command, expected: $0.expected) }
        }
    }

    public struct Preparation: Sendable {
        public var line: Int
        public var command: String
        /// nil for a setup command, which must exit 0.
        public var expected: [ExpectedLine]?
    }

    /// Runs `preparation(for:step:)` in a lab's shell; what went wrong, by lesson line.
    public func prepare(
        _ lesson: Lesson, step index: Int, shell: LabShell, matcher: inout OutputMatcher,
        onCommand: (String) -> Void = { _ in }
    ) -> [Failure] {
        var failures: [Failure] = []
        for item in preparation(for: lesson, step: index) {
            let command = matcher.substitute(item.command)
            onCommand(command)
            guard let result = try? shell.run(command) else {
                failures.append(Failure(line: item.line, message: "getting to this step: `\(command)` did not finish", diff: []))
                continue
            }
            if let expected = item.expected {
                _ = matcher.match(result.output, expected: expected)
            } else if result.status != 0 {
                failures.append(Failure(line: item.line, message: "setup `\(command)` exited \(result.status)", diff: []))
            }
        }
        return failures
    }

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

    /// Parses each file; errors are collected, not thrown.
    public static func load(_ files: [String]) -> (lessons: [Lesson], errors: [LessonError]) {
        var lessons: [Lesson] = []
        var errors: [LessonError] = []
        for file in files {
            guard let text = POSIX.readFile(file) else {
                errors.append(LessonError(file: file, line: 1, "cannot read the file"))
                continue
            }
            do { lessons.append(try LessonParser.parse(text, file: file)) } catch { errors.append(error) }
        }
        var seen: [String: String] = [:]
        for lesson in lessons {
            if let other = seen[lesson.id] {
                errors.append(LessonError(file: lesson.file, line: 2, "lesson id '\(lesson.id)' is also used by \(other)"))
            }
            seen[lesson.id] = lesson.file
        }
        return (lessons, errors)
    }
}
