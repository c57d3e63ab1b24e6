internal import Glibc
public import Lab
internal import POSIXSupport

/// The session engine: a lesson open at a step, the lab it runs in and the shell there. It
/// opens lessons, moves between steps, runs lines, follows nested shells and running
/// programs, checks the step after each command, hints, solves, resets and ends — and says
/// everything that happens as `SessionEvent`s to its observers. It draws nothing: the REPL
/// is one observer that renders, the recorder another; `gantry test` and replay drive the
/// same engine, so what passes there is what a learner's session would have found.
///
/// Single-threaded: it lives on the thread that drives it.
public final class LessonSession {
    public let support: HostSupport
    /// The learner's language, for step titles in the events (lesson text is the renderer's).
    public var language = "en"
    /// Who hears the events, in order; an observer may emit while it hears one (the
    /// renderer's `.output`), and that event is delivered after the current one.
    public var observers: [any SessionObserver] = []
    /// The size a new shell's terminal gets.
    public var terminalSize: () -> (rows: UInt16, columns: UInt16) = { (24, 80) }

    public internal(set) var lesson: Lesson?
    /// The current step (0-based).
    public internal(set) var index = 0
    public internal(set) var lab: Lab?
    public internal(set) var shell: LabShell?
    /// The waiting shell's own prompt (`root@dockeredu:~#`).
    public internal(set) var shellPrompt = ""
    public internal(set) var lastStatus: Int32 = 0
    /// Placeholders captured from the learner's outputs in this lesson ({{loop}}).
    public internal(set) var matcher = OutputMatcher()
    /// The current step's state for this visit.
    var state: StepState?

    /// What the engine knows of the step being worked on; a fresh one per step visit.
    struct StepState {
        var tracker: StepTracker
        var hintsShown = 0
        /// Completed during this visit (the last step of a lesson stays current after).
        var completed = false
        /// Later steps whose lab state already held when this one opened, which therefore
        /// cannot show that the learner went ahead.
        var overtaking = Overtaking()
        /// The lines of this step's checks that held when it opened: one that fails later
        /// was broken by the learner, which is worth saying at once.
        var heldAtStart: Set<Int> = []
        /// What the learner was last told was wrong: said once, not after every command.
        var lastTold: Message?
        /// Lines were typed into a running program whose effects the step has not been looked
        /// at for yet (`typeIntoProgram`, a replay's keys): it is, once the program is quiet.
        var typedUnlooked = false
    }

    private var pending: [SessionEvent] = []
    private var delivering = false

    public init(support: HostSupport) { self.support = support }

    public func emit(_ event: SessionEvent) {
        pending.append(event)
        guard !delivering else { return }
        delivering = true
        defer { delivering = false }
        while !pending.isEmpty {
            let next = pending.removeFirst()
            for observer in observers { observer.observe(next) }
        }
    }

    public var step: Step? { lesson.map { $0.steps[index] } }
    /// The current step was completed in this visit.
    public var stepCompleted: Bool { state?.completed ?? false }
    /// The last step is done: nothing more is checked or counted.
    public var lessonFinished: Bool {
        guard let lesson, let state else { return false }
        return state.completed && index == lesson.steps.count - 1
    }
    public var hintsLeft: Int { step.map { step in step.hints.count - (state?.hintsShown ?? 0) } ?? 0 }
    public var commandsRun: Int { state?.tracker.commandsRun ?? 0 }

    // MARK: Lessons and labs

    /// Opens `lesson` in a fresh lab at step `requested` (0-based). False when it cannot run
    /// here (what was open stays open) or its lab could not be built.
    @discardableResult
    public func open(_ lesson: Lesson, at requested: Int) -> Bool {
        if let missing = support.missingRequirements(lesson) {
            emit(.cannotRun(lesson: lesson.id, reason: missing))
            return false
        }
        if self.lesson != nil { end(reason: "another lesson opened") }
        let index = max(0, min(requested, lesson.steps.count - 1))
        self.lesson = lesson
        self.index = index
        state = StepState(tracker: StepTracker(step: lesson.steps[index], applies: support.applies))
        matcher = OutputMatcher()
        emit(
            .lessonOpened(
                .init(
                    id: lesson.id, title: lesson.title(in: language), file: lesson.file, steps: lesson.steps.map(\.id),
                    language: language, index: index)))
        guard buildLab(preparingStep: index) else { return false }
        takeBaseline()
        openStep()
        return true
    }

    /// A fresh lab for the lesson, brought to the start of step `index` (0-based).
    func buildLab(preparingStep index: Int) -> Bool {
        guard let lesson else { return false }
        destroyLab()
        let started = ContinuousClock.now
        do {
            let lab = try Lab.create(lesson.labConfiguration)
            self.lab = lab
            try startShell(in: lab)
        } catch {
            emit(.labFailed("\(error)"))
            return false
        }
        let lab = self.lab!
        emit(
            .labReady(
                .init(
                    milliseconds: started.duration(to: .now).milliseconds, hostname: lesson.labConfiguration.hostname,
                    unmapped: lab.unmappedDirectories, limited: lab.cgroup != nil)))
        if index > 0 { prepare(step: index) }
        return true
    }

    func destroyLab() {
        shell = nil
        lab?.destroy()
        lab = nil
    }

    /// The learner's shell in `lab`: a prompt like any machine's (the hostname matters in
    /// these lessons), and a continuation marker so `for …; do` can be finished at Gantry's
    /// prompt.
    func startShell(in lab: Lab) throws(LabError) {
        let size = terminalSize()
        let shell = try LabShell(lab: lab, rows: size.rows, columns: size.columns)
        _ = try shell.run(#"PS1='\u@\h:\w\$ '; PS2='"# + LabShell.continuationPrompt + "'")
        shellPrompt = try shell.readPrompt().prompt
        lastStatus = 0
        self.shell = shell
    }

    /// Runs what brings a fresh lab to the start of step `index`, and says so.
    func prepare(step index: Int) {
        guard let lesson, let shell else { return }
        let preparation = support.preparation(for: lesson, step: index)
        guard !preparation.isEmpty else { return }
        emit(.preparing(index: index, commands: preparation.count))
        for item in preparation {
            let command = matcher.substitute(item.command)
            emit(.preparationCommand(command))
            guard let result = try? shell.run(command) else {
                emit(.preparationFailed(line: item.line, message: "getting to this step: `\(command)` did not finish"))
                continue
            }
            if let expected = item.expected {
                _ = matcher.match(result.output, expected: expected)
            } else if result.status != 0 {
                emit(.preparationFailed(line: item.line, message: "setup `\(command)` exited \(result.status)"))
            }
        }
        shellPrompt = (try? shell.readPrompt().prompt) ?? ""
        lastStatus = shell.lastStatus
    }

    /// What of the later steps already holds, before the learner works on this one.
    func takeBaseline() {
        guard let lab, let lesson, var state else { return }
        state.overtaking.takeBaseline(lesson, from: index, applies: support.applies, lab: lab, captures: matcher.captures)
        let start = state.tracker.verdict(lab: lab, captures: matcher.captures, shell: shell?.foregroundProcess, look: .snapshot)
        state.heldAtStart = Set(start.expectations.filter { $0.passed && !$0.measurement }.map(\.line))
        self.state = state
    }

    func openStep() {
        guard let step else { return }
        emit(.stepOpened(index: index, id: step.id, title: step.title(in: language)))
    }

    /// Moves to step `index` (0-based) without touching the lab.
    public func move(to index: Int) {
        guard let lesson, lesson.steps.indices.contains(index) else { return }
        self.index = index
        state = StepState(tracker: StepTracker(step: lesson.steps[index], applies: support.applies))
        takeBaseline()
        openStep()
    }

    /// `:reset`: a fresh lab brought to the start of the current step, the step begun again.
    @discardableResult
    public func reset() -> Bool {
        guard let lesson, let step else { return false }
        emit(.reset(step: step.id))
        matcher = OutputMatcher()
        guard buildLab(preparingStep: index) else { return false }
        state = StepState(tracker: StepTracker(step: lesson.steps[index], applies: support.applies))
        takeBaseline()
        openStep()
        return true
    }

    /// `:skip`: the step is passed over without being done; the next one opens.
    public func skip() {
        guard let lesson, let step else { return }
        emit(.skipped(step: step.id))
        if index + 1 < lesson.steps.count { move(to: index + 1) }
    }

    /// Tears the lab down; the last event of the lesson's part of the session. The teardown
    /// only waits on the kernel (the keeper's death, the cgroup's removal), so it runs on a
    /// thread of its own while the observers take the end (the recorder's seal and the
    /// progress file are flushed to disk: three fsyncs, the longest part of `:quit`); the lab
    /// is gone when this returns.
    public func end(reason: String) {
        let lab = self.lab
        self.lab = nil
        let teardown = lab.flatMap { lab in try? JoinableThread { lab.destroy() } }
        defer {
            // The shell dies with the lab; waiting for it overlaps the teardown, after the
            // observers' writes (it had them start ~0.5 ms later).
            shell = nil
            teardown?.join()
            lab?.destroy()  // at once if no thread could be started; else already done
        }
        guard lesson != nil else { return }
        emit(.ended(reason: reason))
        lesson = nil
        state = nil
    }

    /// Output that arrived while the learner is at Gantry's prompt (a background job), and
    /// whether a shell finished a command meanwhile (type-ahead): then the prompt is new.
    public func idleOutput() -> (String, Bool) {
        guard let shell else { return ("", false) }
        do {
            var (text, finished) = try shell.readAvailable()
            if finished {
                let prompt = try shell.readPrompt()
                text += prompt.notices
                shellPrompt = prompt.prompt
                lastStatus = shell.lastStatus
            }
            return (text, finished)
        } catch {
            restartShell(after: error)
            return ("", true)
        }
    }

    /// `exit` in the lab's own shell ends it, not the lab: a new shell is started there.
    func restartShell(after error: LabError) {
        shell = nil
        guard let lab else { return }
        var reason: String?
        if case .gone = error {} else { reason = "\(error)" }
        do {
            try startShell(in: lab)
            emit(.shellRestarted(reason: reason, failure: nil))
        } catch {
            emit(.shellRestarted(reason: reason, failure: "\(error)"))
        }
    }
}
