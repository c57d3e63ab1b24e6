internal import Glibc
public import Lab

/// What makes a step done, in one place: the REPL asks it after every command a learner
/// types, and `gantry test` after the reference commands, so a lesson that passes its test
/// can be completed in the shell — by its commands or by any others that get the lab there.
///
/// A step is done when
/// - something was run in it (a check that already holds when the step opens, like "the
///   lab's hostname is dockeredu", must not pass a step nobody worked on), and
/// - every check holds: the lab is in the state the step teaches. Where what a command
///   shows *is* the point, the step says so with a `seen` check.
///
/// What the step's console block prints is the reference solution, compared by
/// `gantry test`; it does not gate a learner.
public struct StepTracker {
    /// One thing the step expects, and whether it holds now.
    public struct Expectation: Sendable {
        /// Line in the lesson file.
        public var line: Int
        /// What is expected, in the learner's words.
        public var description: Message
        public var passed: Bool
        /// What was seen, in a sentence.
        public var message: Message
        /// A check over a time window (measured CPU): taken only once the rest holds.
        public var measurement = false
        /// For a measurement: whether it was taken.
        public var measured = false
        /// The lab shows a wrong turn, not merely work still to do (`ProbeOutcome.wrong`).
        public var wrong = false
    }

    public struct Verdict: Sendable {
        public var commandsRun: Int
        public var expectations: [Expectation]

        public init(commandsRun: Int, expectations: [Expectation]) {
            self.commandsRun = commandsRun
            self.expectations = expectations
        }

        public var done: Bool { commandsRun > 0 && expectations.allSatisfy(\.passed) }
        public var failed: [Expectation] { expectations.filter { !$0.passed } }
    }

    public let step: Step
    /// The step's checks that apply on this host.
    public let checks: [Check]
    public private(set) var commandsRun = 0
    /// What the step's commands printed, for `seen`.
    public private(set) var outputs: [String] = []

    /// `applies` says which capability variants of the step's blocks this host runs.
    public init(step: Step, applies: (String?) -> Bool) {
        self.step = step
        checks = step.checks.filter { applies($0.capability) }.flatMap(\.checks)
    }

    /// The checks that take a measuring window (CPU use), so a caller can say it is measuring.
    public var measuringChecks: [Check] { checks.filter(\.probe.measures) }

    /// Records one command the learner ran and what it printed.
    public mutating func record(output: String) {
        commandsRun += 1
        outputs.append(output)
    }

    /// Lines the learner entered in a program still running (its output is recorded when it
    /// ends): they count as work done in the step.
    public mutating func recordLinesInProgram(_ count: Int) { commandsRun += count }

    /// How hard to look at the lab.
    public struct Look: Sendable {
        /// Run every check even after one failed, to report them all.
        public var everything: Bool
        /// Tries, 100 ms apart, while a check fails: something just started with `&` may
        /// still be starting. A failing measurement is measured once more at most (it
        /// already took its window).
        public var tries: Int
        /// Probes may wait longer (a ping's reply).
        public var thorough: Bool
        /// Keep looking, beyond `tries` and up to `startingTries`, while the lab's processes
        /// still change from one look to the next: what was started with `&` is still
        /// starting (a chain of exec'ing tools, as the capstone's container is, takes seconds
        /// under emulation). A lab that stopped changing is looked at `tries` times only.
        public var startingTries = 0

        public init(everything: Bool, tries: Int, thorough: Bool, startingTries: Int = 0) {
            self.everything = everything
            self.tries = tries
            self.thorough = thorough
            self.startingTries = startingTries
        }

        /// After every command in the REPL: each probe once, stopping at the first failure.
        public static let quick = Look(everything: false, tries: 1, thorough: false)
        /// Every probe once: what the lab shows now (a step's start, a command that left
        /// nothing running behind it).
        public static let snapshot = Look(everything: true, tries: 1, thorough: false)
        /// A second look when the first found a failure: half a second for the lab to catch
        /// up, and every check looked at, to say what is wrong.
        public static let settled = Look(everything: true, tries: 5, thorough: false, startingTries: 100)
        /// `:check`: every expectation, reported.
        public static let report = Look(everything: true, tries: 5, thorough: true)
        /// `gantry test`: every expectation, and two seconds for a slow machine.
        public static let test = Look(everything: true, tries: 12, thorough: true)
    }

    /// Evaluates the step. Checks that measure over a window (CPU use) run last and only
    /// once everything else holds; `onMeasuring` is called just before each measurement.
    public func verdict(
        lab: Lab, captures: [String: String], shell: Int32? = nil, look: Look,
        onMeasuring: () -> Void = {}
    ) -> Verdict {
        var verdict = evaluateOnce(lab: lab, captures: captures, shell: shell, look: look, onMeasuring: onMeasuring)
        var measuredAgain = false
        // The lab's processes, read only once the usual tries are spent on a failing step
        // (a /proc scan each): a verdict that passes, or fails for good, never reads them.
        var processes: Set<LabProcess>?
        var unchangedLooks = 0
        for attempt in 1..<max(look.tries, look.startingTries, 1) {
            let failed = verdict.failed
            // Only the lab can catch up: a check of outputs already printed gives the same
            // answer however long one waits.
            let checkFailed = failed.contains { expectation in
                !expectation.measurement && !(checks.first { $0.line == expectation.line }?.probe.looksAtOutput ?? false)
            }
            let measurementFailed = failed.contains { $0.measurement && $0.measured }
            guard checkFailed || (measurementFailed && !measuredAgain) else { break }
            if attempt >= look.tries {
                // Past the usual tries only while the lab is still starting something.
                let now = Set(lab.processes())
                unchangedLooks = now == processes ? unchangedLooks + 1 : 0
                processes = now
                if unchangedLooks >= 3 { break }
            }
            if !checkFailed { measuredAgain = true }
            usleep(100_000)
            verdict = evaluateOnce(lab: lab, captures: captures, shell: shell, look: look, onMeasuring: onMeasuring)
        }
        return verdict
    }

    private func evaluateOnce(
        lab: Lab, captures: [String: String], shell: Int32?, look: Look,
        onMeasuring: () -> Void
    ) -> Verdict {
        let context = ProbeContext(lab: lab, captures: captures, shell: shell, outputs: outputs, thorough: look.thorough)
        var expectations: [Expectation] = []
        var holding = true
        for check in checks where !check.probe.measures {
            guard holding || look.everything else {
                expectations.append(
                    Expectation(
                        line: check.line, description: check.probe.expectation, passed: false,
                        message: Message("not looked at yet", ko: "아직 보지 않음")))
                continue
            }
            let outcome = check.probe.evaluate(context)
            holding = holding && outcome.passed
            expectations.append(
                Expectation(
                    line: check.line, description: check.probe.expectation, passed: outcome.passed, message: outcome.seen,
                    wrong: outcome.wrong))
        }
        for check in checks where check.probe.measures {
            var expectation = Expectation(
                line: check.line, description: check.probe.expectation, passed: false,
                message: Message("not measured until the rest of the step holds", ko: "나머지가 맞을 때까지 재지 않음"),
                measurement: true)
            if holding {
                onMeasuring()
                let outcome = check.probe.evaluate(context)
                expectation.passed = outcome.passed
                expectation.message = outcome.seen
                expectation.measured = true
                expectation.wrong = outcome.wrong
                holding = outcome.passed
            }
            expectations.append(expectation)
        }
        return Verdict(commandsRun: commandsRun, expectations: expectations)
    }

    /// Whether the lab-state checks all hold (what `seen` looks at and measurements left
    /// out): the lab already is as the step wants, with no sign of who made it so.
    public func labStateHolds(lab: Lab, captures: [String: String], shell: Int32?) -> Bool? {
        let labChecks = checks.filter { !$0.probe.looksAtOutput && !$0.probe.measures }
        guard !labChecks.isEmpty else { return nil }
        let context = ProbeContext(lab: lab, captures: captures, shell: shell, outputs: outputs, thorough: false)
        return labChecks.allSatisfy { $0.probe.evaluate(context).passed }
    }
}

/// A learner who goes ahead — brings `lo` up in the same line that made the namespace —
/// completes the steps they overtook: when a later step holds, every step before it is done.
/// A later step counts only if its lab state did not already hold when the learner reached
/// the current step (the baseline): "the hostname is still dockeredu" proves nothing.
public struct Overtaking {
    /// Steps (by index) whose lab state already held at the baseline.
    public private(set) var alreadyHeld: Set<Int> = []

    public init() {}

    /// Takes the baseline for the steps after `current`.
    public mutating func takeBaseline(
        _ lesson: Lesson, from current: Int, applies: (String?) -> Bool, lab: Lab,
        captures: [String: String]
    ) {
        alreadyHeld = []
        for index in lesson.steps.indices where index > current {
            let tracker = StepTracker(step: lesson.steps[index], applies: applies)
            if tracker.labStateHolds(lab: lab, captures: captures, shell: nil) != false { alreadyHeld.insert(index) }
        }
    }

    /// The furthest step after `current` whose checks all hold now, with what the current
    /// step's commands printed standing in for its own — provided every step it passes over
    /// holds too, but for what a step in between undoes (`undone-by`); nil when none does.
    public func furthestHolding(
        _ lesson: Lesson, after current: Int, applies: (String?) -> Bool, lab: Lab,
        captures: [String: String], shell: Int32?, outputs: [String]
    ) -> Int? {
        for index in lesson.steps.indices.reversed() where index > current && !alreadyHeld.contains(index) {
            var tracker = StepTracker(step: lesson.steps[index], applies: applies)
            for output in outputs.isEmpty ? [""] : outputs { tracker.record(output: output) }
            guard tracker.labStateHolds(lab: lab, captures: captures, shell: shell) == true else { continue }
            guard tracker.verdict(lab: lab, captures: captures, shell: shell, look: .quick).done else { continue }
            let undone = Set(lesson.steps[(current + 1)...index].map(\.id))
            let passedOver = lesson.steps[current..<index].allSatisfy { step in
                StepTracker(step: step, applies: applies).stillHolds(lab: lab, captures: captures, shell: shell, undoneBy: undone)
            }
            if passedOver { return index }
        }
        return nil
    }
}

extension StepTracker {
    /// Whether the step's lab state holds now, leaving out what a step in `undoneBy` undoes.
    func stillHolds(lab: Lab, captures: [String: String], shell: Int32?, undoneBy: Set<String>) -> Bool {
        let context = ProbeContext(lab: lab, captures: captures, shell: shell, outputs: [], thorough: false)
        // Measurements too: half a CPU cannot be taken on trust once the loop is gone.
        return checks.filter { !$0.probe.looksAtOutput && !($0.undoneBy.map(undoneBy.contains) ?? false) }
            .allSatisfy { $0.probe.evaluate(context).passed }
    }
}
