internal import Lab
internal import Lessons
internal import Glibc
internal import Isolation
internal import POSIXSupport

/// How a command gets the terminal while it runs; the REPL makes one per mode.
struct CommandIO {
    /// Descriptors to watch while the command runs (the keyboard, signals).
    var watches: [LabShell.Watch] = []
    /// Called before the command runs and after it ends (raw mode on, off).
    var willRun: () -> Void = {}
    var didRun: () -> Void = {}
    /// Shows what the command prints, as it comes; nil prints it once it is done.
    var stream: ((String) -> Void)?
    /// The next line of a command the shell says is not finished (`for …; do`); nil gives up.
    var continuation: () -> String? = { nil }
    /// Called when the running command has been quiet for a moment.
    var onQuiet: (() -> Void)?
}

extension ShellSession {
    public enum Next { case more, quit }

    /// One line from the learner: a meta-command, or a command for the lab.
    func handle(_ line: String, io: CommandIO) -> Next {
        if line.hasPrefix(":") {
            switch MetaCommand.parse(line) {
            case .success(let command): return perform(command)
            case .failure(let error):
                say(style.bad(error.description))
                return .more
            }
        }
        if line.trimmed.isEmpty { return .more }
        run(line, io: io)
        return .more
    }

    /// Runs a command in the lab's shell, shows what it printed, then checks the step.
    func run(_ original: String, io: CommandIO) {
        guard let shell else {
            say(style.bad("There is no lab.") + " :open a lesson, or :reset.")
            return
        }
        account()
        // Values the lesson captured can be typed by name: `kill {{loop}}`, as :solve shows.
        let line = matcher.substitute(original)
        if line != original { say(style.dim("→ " + line)) }
        var command = line
        do {
            io.willRun()
            var result = try shell.run(line, timeoutMilliseconds: nil, watching: io.watches, stopAtContinuation: true, onQuiet: io.onQuiet, onOutput: io.stream)
            var output = result.output
            while result.needsMore {
                io.didRun()
                guard let more = io.continuation() else {
                    try shell.cancelInput()
                    say(style.dim("(the unfinished command was dropped)"))
                    shellPrompt = try shell.readPrompt()
                    lastStatus = shell.lastStatus
                    return
                }
                command += "\n" + more
                io.willRun()
                result = try shell.run(more, timeoutMilliseconds: nil, watching: io.watches, stopAtContinuation: true,
                                       onQuiet: io.onQuiet, onOutput: io.stream)
                output += result.output
            }
            io.didRun()
            if io.stream == nil { Terminal.write(output) }
            if !output.isEmpty && !output.hasSuffix("\n") { Terminal.write(style.dim("⏎") + "\n") }
            shellPrompt = try shell.readPrompt()
            lastStatus = result.status
            afterCommand(command, output: output, status: result.status)
        } catch {
            io.didRun()
            restartShell(after: error)
        }
    }

    /// `exit` in the lab's own shell ends it, not the lab: a new shell is started there.
    func restartShell(after error: LabError) {
        shell = nil
        guard let lab else { return }
        var reason = ""
        if case .gone = error {} else { reason = " (\(error))" }
        say(style.note("The lab's own shell ended\(reason).") + " A new one is started; the lab is as you left it. :quit or Ctrl-D ends the session.")
        do {
            try startShell(in: lab)
        } catch {
            say(style.bad("No new shell: \(error).") + " :reset builds a fresh lab.")
        }
    }

    /// After each command: the step is checked; when it holds, a ✓, the reason, and the
    /// next step. When the command printed what the step shows but the lab is not right
    /// (the wrong namespace, a typo in an address), the learner is told at once.
    func afterCommand(_ command: String, output: String, status: Int32) {
        guard var place, let lab else { return }
        place.tracker.record(command: command, output: output, status: status, matcher: &matcher)
        progress[place.lesson.id, place.step.id].attempts += 1
        self.place = place
        let evaluator = CheckEvaluator(lab: lab)
        var verdict = place.tracker.verdict(matcher: matcher, evaluator: evaluator, look: .quick, onMeasuring: announceMeasuring)
        if verdict.done { return completeStep(verdict) }
        let output = place.tracker.outputExpectation(matcher: matcher)
        // Something just sent to the background may still be starting: look again, briefly.
        let backgrounded = command.replacing("&&", with: "").contains("&")
        guard output?.passed == true || (output == nil && backgrounded) else { return }
        verdict = place.tracker.verdict(matcher: matcher, evaluator: evaluator, look: .settled, onMeasuring: announceMeasuring)
        if verdict.done { return completeStep(verdict) }
        guard output?.passed == true, let failed = verdict.failed.first else { return }
        say(style.bad("✗ Not yet: ") + failed.message + ".")
        say(style.dim("  " + (hintsLeft > 0 ? ":hint for a hint (\(hintsLeft) left), " : "") + ":check for the details"))
        noteFailure()
    }

    /// A line was entered in a program that is still running (a shell without Gantry's
    /// markers, like busybox sh in a chroot): the step's checks are looked at once it is
    /// quiet. Only checks: what the program printed is matched once it ends.
    func checkWhileRunning(lines: Int) {
        guard var place, let lab, !place.completed else { return }
        place.tracker.recordLinesInProgram(lines)
        progress[place.lesson.id, place.step.id].attempts += lines
        self.place = place
        guard place.tracker.outputExpectation(matcher: matcher)?.passed != false else { return }
        let verdict = place.tracker.verdict(matcher: matcher, evaluator: CheckEvaluator(lab: lab), look: .quick, onMeasuring: announceMeasuring)
        if verdict.done { completeStep(verdict) }
    }

    var hintsLeft: Int { place.map { $0.step.hints.count - $0.hintsShown } ?? 0 }

    func announceMeasuring() {
        guard let place, !place.tracker.measuringChecks.isEmpty else { return }
        say(style.dim("… measuring CPU use over a second"))
    }

    /// In a run without a terminal, a step that was worked on and did not pass fails it.
    func noteFailure() {
        guard let place, !failedSteps.contains(place.step.id) else { return }
        failedSteps.append(place.step.id)
    }

    func completeStep(_ verdict: StepTracker.Verdict) {
        guard let place else { return }
        account()
        self.place?.completed = true
        progress[place.lesson.id, place.step.id].done = true
        failedSteps.removeAll { $0 == place.step.id }
        let why = verdict.expectations.first { $0.passed && $0.kind != .output }?.message
            ?? verdict.expectations.first?.message ?? "done"
        say(style.good("✓ Step \(place.index + 1) done: ") + why + ".")
        let next = place.index + 1
        if next < place.lesson.steps.count {
            move(to: next)
            return
        }
        progress.lessons[place.lesson.id, default: Progress.LessonRecord()].step = place.lesson.steps.count + 1
        save()
        let records = place.lesson.steps.map { progress[place.lesson.id, $0.id] }
        let hints = records.map(\.hintsUsed).reduce(0, +)
        let seconds = records.map(\.seconds).reduce(0, +)
        say()
        say(style.good("Lesson '\(place.lesson.title(in: progress.language))' complete: ") +
            "\(place.lesson.steps.count) steps, \(hints) hint\(hints == 1 ? "" : "s"), \(ProgressTable.duration(seconds)).")
        if let following = lessons.drop(while: { $0.id != place.lesson.id }).dropFirst().first {
            say("Next: " + style.code(":open \(following.id)") + " — " + following.title(in: progress.language))
        }
    }
}
