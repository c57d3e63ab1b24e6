public import Lab
internal import Cgroups
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

    /// A variant block applies when it names no capability or one the host has.
    func applies(_ capability: String?) -> Bool { capability.map { support.has($0) } ?? true }

    public func run(_ lesson: Lesson, onlyStep: Int? = nil) -> LessonResult {
        let clock = ContinuousClock()
        let started = clock.now
        func elapsed() -> Int {
            started.duration(to: clock.now).microseconds
        }
        let missing = lesson.requires.filter { !support.has($0) }
        if !missing.isEmpty {
            let reasons = missing.map { capability in
                let finding = support.findings.first { $0.capability == capability }
                return capability + (finding?.fix.map { " (\($0))" } ?? " (unknown capability)")
            }
            return LessonResult(lesson: lesson, outcome: .skipped("this host lacks " + reasons.joined(separator: ", ")), steps: [], microseconds: 0)
        }
        let configuration = LabConfiguration(
            hostname: lesson.lab.hostname ?? "gantry",
            limits: ResourceLimits(memoryMax: lesson.lab.memory.flatMap(ResourceLimits.parseBytes) ?? (1 << 30),
                                   pidsMax: lesson.lab.pids ?? 512))
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
            // Jumping into one step: its setup blocks bring the fresh lab to where it starts;
            // without any, the earlier steps' reference commands are replayed (unchecked),
            // which is what a learner who did them would have.
            if onlyStep != nil {
                let setup = step.setup.filter { applies($0.capability) }
                let replay: [(line: Int, command: String, expected: [ExpectedLine]?)] = setup.isEmpty
                    ? lesson.steps[..<index].flatMap { earlier in
                        earlier.console.filter { applies($0.capability) }.flatMap(\.commands).map { ($0.line, $0.command, $0.expected) }
                    }
                    : setup.flatMap { block in block.commands.map { (block.line, $0, nil) } }
                for (line, command, expected) in replay {
                    guard let result = try? shell.run(matcher.substitute(command)) else {
                        failures.append(Failure(line: line, message: "getting to this step: `\(command)` did not finish", diff: []))
                        continue
                    }
                    // Keeps the placeholders the earlier steps capture ({{loop}}).
                    if let expected { _ = matcher.match(result.output, expected: expected) }
                    if setup.isEmpty == false && result.status != 0 {
                        failures.append(Failure(line: line, message: "setup `\(command)` exited \(result.status)", diff: []))
                    }
                }
            }
            for block in step.console where applies(block.capability) {
                for command in block.commands {
                    let typed = matcher.substitute(command.command)
                    do {
                        let result = try shell.run(typed, timeoutMilliseconds: 60_000)
                        observed[command.line] = (result.output, result.status)
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
            let evaluator = CheckEvaluator(lab: lab)
            for block in step.checks where applies(block.capability) {
                for check in block.checks {
                    let outcome = evaluator.evaluateSettled(check)
                    if !outcome.passed {
                        failures.append(Failure(line: check.line, message: "check `\(check.text)` failed: \(outcome.message)", diff: []))
                    }
                }
            }
            results.append(StepResult(id: step.id, title: step.title, failures: failures, observed: observed))
        }
        return LessonResult(lesson: lesson, outcome: results.allSatisfy(\.passed) ? .passed : .failed, steps: results, microseconds: elapsed())
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
