internal import Glibc

/// What makes a step done, in one place: the REPL asks it after every command a learner
/// types, and `gantry test` asks it after the reference commands, so a lesson that passes
/// its test can be completed in the shell.
///
/// A step is done when
/// - the learner ran at least one command in it (checks that already hold when the step
///   opens, like "the lab's hostname is dockeredu", must not pass a step nobody worked on);
/// - the last command the step shows with an expected output (or exit status) was matched by
///   something the learner ran: what they saw looks like what the notes show, whatever
///   command printed it;
/// - every check holds;
/// - a step with neither output nor checks has each of its commands typed.
public struct StepTracker {
    /// One thing the step expects, and whether it holds now.
    public struct Expectation: Sendable, Equatable {
        /// Line in the lesson file.
        public var line: Int
        /// What is expected, for a person: "output of `hostname`" or a check's text.
        public var description: String
        public var passed: Bool
        /// What was seen, in a sentence.
        public var message: String
        /// For an output expectation: the diff against what the learner saw last.
        public var diff: [String] = []
        public var kind: Kind = .check
        /// For a measurement: whether it was taken (it waits for the rest of the step).
        public var measured = false

        public enum Kind: Sendable, Equatable {
            /// What the learner saw matches the step's last output.
            case output
            /// A step with neither output nor checks: its commands were typed.
            case commands
            case check
            /// A check over a time window (`measured-cpu`).
            case measurement
        }
    }

    public struct Verdict: Sendable {
        public var commandsRun: Int
        public var expectations: [Expectation]
        public var done: Bool { commandsRun > 0 && expectations.allSatisfy(\.passed) }
        public var failed: [Expectation] { expectations.filter { !$0.passed } }
    }

    public let step: Step
    /// Every console command of the step that applies on this host, in order.
    let commands: [ConsoleCommand]
    let checks: [Check]
    /// The last command whose output (or status) is part of the step.
    let target: ConsoleCommand?
    public private(set) var commandsRun = 0
    private var targetMatched = false
    /// What the learner's last command printed, for saying what was seen.
    private var lastOutput: (command: String, output: String, status: Int32)?
    private var typed: Set<String> = []

    /// `applies` says which capability variants of the step's blocks this host runs.
    public init(step: Step, applies: (String?) -> Bool) {
        self.step = step
        commands = step.console.filter { applies($0.capability) }.flatMap(\.commands)
        checks = step.checks.filter { applies($0.capability) }.flatMap(\.checks)
        target = commands.last { !$0.expected.isEmpty || ($0.expectedStatus ?? 0) != 0 }
    }

    /// The checks that take a measuring window (CPU use), so a caller can say it is measuring.
    public var measuringChecks: [Check] { checks.filter { $0.argument("measured-cpu") != nil } }

    /// Records one command the learner ran and what it printed. Captures
    /// (`{{loop:int}}`) are taken from any of the step's outputs it matches.
    public mutating func record(command: String, output: String, status: Int32, matcher: inout OutputMatcher) {
        commandsRun += 1
        lastOutput = (command, output, status)
        typed.insert(Self.normalized(command))
        for expected in commands where !expected.expected.isEmpty || (expected.expectedStatus ?? 0) != 0 {
            guard status == (expected.expectedStatus ?? 0), matcher.match(output, expected: expected.expected) == nil else { continue }
            if expected == target { targetMatched = true }
        }
    }

    /// Lines the learner entered in a program still running (its output is recorded when it
    /// ends): they count as work done in the step.
    public mutating func recordLinesInProgram(_ count: Int) { commandsRun += count }

    /// Whether the output (or typed commands) part holds; cheap, no probe runs.
    public func outputExpectation(matcher: OutputMatcher) -> Expectation? {
        if let target {
            let command = matcher.substitute(target.command)
            var expectation = Expectation(line: target.line, description: "output of `\(command)`", passed: targetMatched,
                                          message: "", kind: .output)
            if targetMatched {
                expectation.message = "you saw what the notes show"
            } else if let lastOutput {
                var scratch = matcher
                let diff = scratch.match(lastOutput.output, expected: target.expected)?.diff ?? []
                let statusNote = lastOutput.status == (target.expectedStatus ?? 0) ? "" : " (it exited \(lastOutput.status), expected \(target.expectedStatus ?? 0))"
                expectation.message = "the last command, `\(lastOutput.command)`, printed something else" + statusNote
                expectation.diff = diff
            } else {
                expectation.message = "nothing run in this step yet"
            }
            return expectation
        }
        guard checks.isEmpty, !commands.isEmpty else { return nil }
        let missing = commands.map { matcher.substitute($0.command) }.filter { !typed.contains(Self.normalized($0)) }
        return Expectation(line: commands[0].line, description: "the step's commands", passed: missing.isEmpty,
                           message: missing.isEmpty ? "all typed" : "not typed yet: " + missing.map { "`\($0)`" }.joined(separator: ", "),
                           kind: .commands)
    }

    /// How hard to look at the lab.
    public struct Look: Sendable {
        /// Run the checks even while the output part does not hold, to report them all.
        public var everything: Bool
        /// Tries, 100 ms apart, while a check fails: something just started with `&` may
        /// still be starting. A failing measurement is measured once more at most (it
        /// already took its window).
        public var tries: Int

        /// After every command in the REPL: the cheap part first, each probe once.
        public static let quick = Look(everything: false, tries: 1)
        /// When the learner's output looks right: half a second for the lab to catch up,
        /// so a wrong attempt is told at once.
        public static let settled = Look(everything: false, tries: 5)
        /// `:check`: every expectation, reported.
        public static let report = Look(everything: true, tries: 5)
        /// `gantry test`: every expectation, and two seconds for a slow machine.
        public static let test = Look(everything: true, tries: 20)
    }

    /// Evaluates the step. Checks that measure over a window (CPU use) run last and only
    /// once everything else holds; `onMeasuring` is called just before each measurement.
    public func verdict(matcher: OutputMatcher, evaluator: CheckEvaluator, look: Look,
                        onMeasuring: () -> Void = {}) -> Verdict {
        var verdict = evaluateOnce(matcher: matcher, evaluator: evaluator, everything: look.everything, onMeasuring: onMeasuring)
        var measuredAgain = false
        for _ in 1..<max(look.tries, 1) {
            let failed = verdict.failed
            let checkFailed = failed.contains { $0.kind == .check }
            let measurementFailed = failed.contains { $0.kind == .measurement && $0.measured }
            guard checkFailed || (measurementFailed && !measuredAgain) else { break }
            if !checkFailed { measuredAgain = true }
            usleep(100_000)
            verdict = evaluateOnce(matcher: matcher, evaluator: evaluator, everything: look.everything, onMeasuring: onMeasuring)
        }
        return verdict
    }

    private func evaluateOnce(matcher: OutputMatcher, evaluator: CheckEvaluator, everything: Bool,
                              onMeasuring: () -> Void) -> Verdict {
        var expectations: [Expectation] = []
        let output = outputExpectation(matcher: matcher)
        if let output { expectations.append(output) }
        if output?.passed == false && !everything {
            return Verdict(commandsRun: commandsRun, expectations: expectations)
        }
        let measuring = measuringChecks
        for check in checks where !measuring.contains(check) {
            let outcome = evaluator.evaluate(check)
            expectations.append(Expectation(line: check.line, description: check.text, passed: outcome.passed, message: outcome.message))
        }
        let measure = expectations.allSatisfy(\.passed)
        for check in measuring {
            var expectation = Expectation(line: check.line, description: check.text, passed: false,
                                          message: "not measured until the rest of the step holds", kind: .measurement)
            if measure {
                onMeasuring()
                let outcome = evaluator.evaluate(check)
                expectation.passed = outcome.passed
                expectation.message = outcome.message
                expectation.measured = true
            }
            expectations.append(expectation)
        }
        return Verdict(commandsRun: commandsRun, expectations: expectations)
    }

    /// Commands compared as a person would: runs of spaces are one space.
    static func normalized(_ command: String) -> String {
        command.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
    }
}
