internal import Glibc
public import Lab
internal import POSIXSupport

/// What running one line found: what it printed and how it ended.
public struct LineResult: Sendable {
    /// The line as run, with captured values put in and continuation lines joined.
    public var command: String
    public var output: String
    public var status: Int32
    public var timedOut: Bool
}

extension LessonSession {
    /// Where a line typed now goes: the lab's shell or the nested shell at its depth.
    public var lineTarget: SessionEvent.LineTarget {
        let depth = shell?.depth ?? 1
        return depth > 1 ? .nestedShell(depth: depth) : .labShell
    }

    /// Runs a line in the lab's shell, then checks the step. nil when there is no shell, the
    /// shell ended (a new one is started), or an unfinished line was dropped.
    @discardableResult
    public func run(_ original: String, io: CommandIO) -> LineResult? {
        guard let shell else { return nil }
        emit(.lineSent(text: original, target: lineTarget))
        // Values the lesson captured can be typed by name: `kill {{loop}}`, as :solve shows.
        let line = matcher.substitute(original)
        if line != original { emit(.substituted(line)) }
        var command = line
        let started = ContinuousClock.now
        do {
            io.willRun()
            var result = try shell.run(
                line, timeoutMilliseconds: io.timeoutMilliseconds, watching: io.watches, stopAtContinuation: io.asksForContinuation,
                onQuiet: io.onQuiet, stopWhen: io.stopWhen, echoing: io.echoes, onOutput: io.stream)
            var output = result.output
            while result.needsMore {
                io.didRun()
                guard let more = io.continuation() else {
                    try shell.cancelInput()
                    emit(.continuationDropped)
                    shellPrompt = try shell.readPrompt().prompt
                    lastStatus = shell.lastStatus
                    return nil
                }
                emit(.lineSent(text: more, target: .continuation))
                command += "\n" + more
                io.willRun()
                result = try shell.run(
                    more, timeoutMilliseconds: io.timeoutMilliseconds, watching: io.watches, stopAtContinuation: true,
                    onQuiet: io.onQuiet, stopWhen: io.stopWhen, echoing: io.echoes, onOutput: io.stream)
                output += result.output
            }
            // Lines the waiting shell printed before its prompt (job notices) are shown
            // after this command's output, as a terminal shows them; they are not its
            // output (bash tells them whenever it next looks at its jobs, so they are not
            // compared with a lesson's expected lines).
            let prompt = try shell.readPrompt()
            if !prompt.notices.isEmpty { io.stream?(prompt.notices) }
            io.didRun()
            io.finished(io.stream == nil ? output + prompt.notices : output)
            shellPrompt = prompt.prompt
            lastStatus = result.status
            emit(.commandEnded(status: result.status, milliseconds: started.duration(to: .now).milliseconds))
            afterCommand(command, output: output, status: result.status)
            return LineResult(command: command, output: output, status: result.status, timedOut: result.timedOut)
        } catch {
            io.didRun()
            restartShell(after: error)
            return nil
        }
    }

    /// Compares what a command printed with a lesson's expected lines, binding the
    /// placeholders they capture (`gantry test`, replay).
    public func compare(_ output: String, expected: [ExpectedLine]) -> OutputMatcher.Mismatch? {
        matcher.match(output, expected: expected)
    }

    /// After each command: the step is checked; when it holds, it is done and the next step
    /// opens. When a later step holds instead (the learner went ahead), the steps up to it
    /// are done. When the lab is not right, the learner is told what is wrong at once — once
    /// the step looks worked on.
    func afterCommand(_ command: String, output: String, status: Int32) {
        guard let lesson, let lab else { return }
        matcher.capture(from: output, expectations: capturingOutputs)
        explainMissingProgram(command, status: status)
        if lessonFinished { return }
        state?.tracker.record(output: output)
        // Lines typed into a program that has ended are looked at with the command.
        state?.typedUnlooked = false
        emit(.worked(step: lesson.steps[index].id, commands: 1))
        guard let state else { return }
        let shellPid = shell?.foregroundProcess
        // One command may have done this step and the next ones: the furthest that holds wins.
        if let ahead = state.overtaking.furthestHolding(
            lesson, after: index, applies: support.applies, lab: lab,
            captures: matcher.captures, shell: shellPid, outputs: state.tracker.outputs)
        {
            return overtake(to: ahead)
        }
        var verdict = state.tracker.verdict(lab: lab, captures: matcher.captures, shell: shellPid, look: .quick, onMeasuring: announceMeasuring)
        if verdict.done { return completeStep(verdict, purpose: .command) }
        // Something just sent to the background may still be starting: look again, briefly.
        // Otherwise once more at everything, to say what is wrong.
        let look: StepTracker.Look = Self.sendsToBackground(command) ? .settled : .snapshot
        verdict = state.tracker.verdict(lab: lab, captures: matcher.captures, shell: shellPid, look: look, onMeasuring: announceMeasuring)
        if verdict.done { return completeStep(verdict, purpose: .command) }
        emitCheck(verdict, purpose: .command)
        // A word at once for a wrong turn: something that held when the step opened is now
        // broken (the lab's hostname changed), or the step partly holds and a part of the lab
        // is wrong. A step not begun, or one only waiting to be looked at (`seen`), is left
        // in peace — unless the learner has tried a while.
        guard let failed = wrongTurn(verdict), failed.message != state.lastTold else { return }
        self.state?.lastTold = failed.message
        emit(.wrongTurn(step: lesson.steps[index].id, message: failed.message, hintsLeft: hintsLeft))
    }

    /// Lines entered in a program that is still running (a shell without Gantry's markers,
    /// like busybox sh in a chroot), once it is quiet: counted, and the step looked at.
    public func checkWhileRunning(lines: Int) {
        noteLinesInProgram(lines)
        lookWhileRunning()
    }

    /// Lines entered in a running program, counted as the step's work as they are sent; the
    /// step is looked at later (`lookWhileRunning`), once the program has done them.
    public func noteLinesInProgram(_ lines: Int) {
        guard let lesson, let state, !state.completed, lines > 0 else { return }
        self.state?.tracker.recordLinesInProgram(lines)
        self.state?.typedUnlooked = true
        emit(.worked(step: lesson.steps[index].id, commands: lines))
    }

    /// The step looked at while a program runs, for the lines typed into it: when it is
    /// quiet (it printed nothing for a while, or it waits for its next line).
    public func lookWhileRunning() {
        guard let lab, let state, !state.completed, state.typedUnlooked else { return }
        self.state?.typedUnlooked = false
        let verdict = state.tracker.verdict(
            lab: lab, captures: matcher.captures, shell: shell?.foregroundProcess, look: .quick, onMeasuring: announceMeasuring)
        if verdict.done { completeStep(verdict, purpose: .command) }
    }

    /// Whether a program without Gantry's markers holds the lab's terminal and waits for
    /// input (`sh`, busybox sh in a chroot, `cat > file`): lines for it are typed into it.
    public var programAwaitsLine: Bool { shell?.programAwaitsInput ?? false }

    /// Types a line into that program, as a person would; nil ends its input (Ctrl-D). It
    /// waits for input again, so what the line typed before did is done: the step is looked
    /// at first. (Looked at right after a line was sent, it raced the program: `exit` could
    /// end the very shell whose mount the step wanted to see.) For input without a person at
    /// a terminal (`gantry test`, plain mode): the REPL's keystrokes go to the program as they
    /// are typed.
    public func typeIntoProgram(_ line: String?) {
        guard let shell else { return }
        lookWhileRunning()
        guard let line else {
            try? shell.send([0x04])
            return
        }
        emit(.keystrokes(text: line + "\n", redacted: false))
        try? shell.send(Array((line + "\n").utf8))
        noteLinesInProgram(1)
    }

    /// The expected outputs that capture values (`[1] {{loop:int}}`), from every step.
    var capturingOutputs: [[ExpectedLine]] {
        guard let lesson else { return [] }
        return lesson.steps.flatMap { support.referenceCommands(of: $0).map(\.expected) }
    }

    /// Whether a command line leaves something starting in the background (a lone `&`, not
    /// `&&`, `&>` or `>&`): then the lab may take a moment to show it.
    static func sendsToBackground(_ command: String) -> Bool {
        let bytes = Array(command.utf8)
        for (index, byte) in bytes.enumerated() where byte == UInt8(ascii: "&") {
            let before = index > 0 ? bytes[index - 1] : 0, after = index + 1 < bytes.count ? bytes[index + 1] : 0
            if before != UInt8(ascii: "&") && after != UInt8(ascii: "&") && before != UInt8(ascii: ">") && after != UInt8(ascii: ">") {
                return true
            }
        }
        return false
    }

    /// What of a failing step is worth telling: something that held when the step opened
    /// and is now broken; else a wrong turn the lab shows (`ProbeOutcome.wrong`); else, after
    /// a few tries, the first thing missing. Work merely not done yet is left in peace.
    func wrongTurn(_ verdict: StepTracker.Verdict, tries: Int = 5) -> StepTracker.Expectation? {
        guard let state else { return nil }
        let labFailures = verdict.failed.filter { expectation in
            state.tracker.checks.first { $0.line == expectation.line }.map { !$0.probe.looksAtOutput } ?? true
        }.filter { !$0.measurement || $0.measured }
        let broken = labFailures.first { state.heldAtStart.contains($0.line) }
        let mistaken = labFailures.first(where: \.wrong)
        let stuck = state.tracker.commandsRun >= tries ? labFailures.first : nil
        return broken ?? mistaken ?? stuck
    }

    /// The steps from the current one up to `target` are done at once: the learner did them
    /// in one go.
    func overtake(to target: Int) {
        guard let lesson else { return }
        let from = index
        for skipped in from..<target {
            emit(.stepDone(step: lesson.steps[skipped].id, index: skipped, overtaken: true, why: nil))
        }
        emit(.stepsOvertaken(from: from, to: target))
        index = target
        state = StepState(tracker: StepTracker(step: lesson.steps[target], applies: support.applies))
        takeBaseline()
        guard let lab else { return }
        let verdict = state!.tracker.verdict(lab: lab, captures: matcher.captures, shell: shell?.foregroundProcess, look: .quick)
        // The step reached is done too (its checks hold), credited with this command.
        state?.tracker.record(output: "")
        completeStep(StepTracker.Verdict(commandsRun: 1, expectations: verdict.expectations), purpose: .command)
    }

    /// Programs the course notes use that a lab has no place for (desktop programs, another
    /// distribution's package manager): one line saying what to use instead.
    func explainMissingProgram(_ command: String, status: Int32) {
        guard status == 127, let word = command.split(separator: " ").first.map(String.init),
            let pointer = Self.missingPrograms[word]
        else { return }
        emit(.missingProgram(name: word, pointer: pointer))
    }

    static let missingPrograms: [String: Message] = [
        "gnome-system-monitor": Message(
            "a desktop program; here `top` (q quits) or `ps -eo pid,pcpu,comm --sort=-pcpu` shows what uses the CPU",
            ko: "데스크톱 프로그램입니다. 여기서는 `top`(q로 종료)이나 `ps -eo pid,pcpu,comm --sort=-pcpu`로 CPU 사용을 봅니다"),
        "nautilus": Message(
            "a desktop file manager; here `ls -l` and `tree`-like `find ~/newroot` show the files",
            ko: "데스크톱 파일 관리자입니다. 여기서는 `ls -l`이나 `find ~/newroot`로 파일을 봅니다"),
        "yum": Message(
            "CentOS's package manager; this lab is Debian, and its tools (cgroup-tools, iproute2) are already installed",
            ko: "CentOS의 패키지 관리자입니다. 이 랩은 데비안이고 필요한 도구(cgroup-tools, iproute2)는 이미 설치되어 있습니다"),
        "dnf": Message(
            "Fedora's package manager; this lab is Debian, and what the lessons need is installed",
            ko: "Fedora의 패키지 관리자입니다. 이 랩은 데비안이고 레슨에 필요한 것은 설치되어 있습니다"),
        "systemctl": Message(
            "the lab runs no systemd (its pid 1 is Gantry's keeper); the Docker part of the notes needs a Docker host",
            ko: "랩에는 systemd가 없습니다 (1번 프로세스는 Gantry의 keeper입니다). 노트의 Docker 부분은 Docker가 있는 호스트가 필요합니다"),
        "docker": Message(
            "the lab has no Docker engine: these lessons build what Docker does by hand",
            ko: "랩에는 Docker 엔진이 없습니다: 이 레슨들은 Docker가 하는 일을 손으로 만듭니다"),
    ]

    func announceMeasuring() {
        guard let state, !state.tracker.measuringChecks.isEmpty else { return }
        emit(.measuring)
    }

    /// One evaluation of the step's checks, for the observers.
    func emitCheck(_ verdict: StepTracker.Verdict, purpose: SessionEvent.CheckPurpose) {
        guard let step else { return }
        emit(
            .checkEvaluated(
                .init(
                    step: step.id, passed: verdict.done, purpose: purpose, commandsRun: verdict.commandsRun,
                    expectations: verdict.expectations.map {
                        .init(line: $0.line, expectation: $0.description, passed: $0.passed, seen: $0.message)
                    })))
    }

    func completeStep(_ verdict: StepTracker.Verdict, purpose: SessionEvent.CheckPurpose) {
        guard let lesson, let step else { return }
        emitCheck(verdict, purpose: purpose)
        state?.completed = true
        emit(.stepDone(step: step.id, index: index, overtaken: false, why: verdict.expectations.first { $0.passed }?.message))
        if index + 1 < lesson.steps.count {
            move(to: index + 1)
        } else {
            emit(.lessonComplete(id: lesson.id))
        }
    }
}
