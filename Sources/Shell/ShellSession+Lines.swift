internal import Glibc
internal import Isolation
internal import Lab
internal import Lessons
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
    /// Gives up on the running command (the session was told to end).
    var stopWhen: (() -> Bool)?
}

extension ShellSession {
    public enum Next { case more, quit }

    /// One line from the learner: a meta-command, or a command for the lab.
    func handle(_ line: String, io: CommandIO) -> Next {
        if !line.trimmed.isEmpty {
            let depth = shell?.depth ?? 1
            emit(.lineSent(text: line, target: line.hasPrefix(":") ? .gantry : depth > 1 ? .nestedShell(depth: depth) : .labShell))
        }
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
        let started = ContinuousClock.now
        do {
            io.willRun()
            var result = try shell.run(
                line, timeoutMilliseconds: nil, watching: io.watches, stopAtContinuation: true, onQuiet: io.onQuiet,
                stopWhen: io.stopWhen, onOutput: io.stream)
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
                result = try shell.run(
                    more, timeoutMilliseconds: nil, watching: io.watches, stopAtContinuation: true,
                    onQuiet: io.onQuiet, stopWhen: io.stopWhen, onOutput: io.stream)
                output += result.output
            }
            io.didRun()
            if io.stream == nil { show(output) }
            if !output.isEmpty && !output.hasSuffix("\n") { show(style.dim("⏎") + "\n") }
            shellPrompt = try shell.readPrompt()
            lastStatus = result.status
            emit(.commandEnded(status: result.status, milliseconds: started.duration(to: .now).milliseconds))
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
        say(
            style.note(words("The lab's own shell ended\(reason).", "랩의 셸이 끝났습니다\(reason)."))
                + words(
                    " A new one is started; the lab is as you left it. :quit or Ctrl-D ends the session.", " 새 셸을 시작합니다. 랩은 그대로입니다. :quit이나 Ctrl-D로 세션을 끝냅니다."))
        do {
            try startShell(in: lab)
        } catch {
            say(style.bad(words("No new shell: \(error).", "새 셸을 시작할 수 없습니다: \(error).")) + words(" :reset builds a fresh lab.", " :reset으로 새 랩을 만드세요."))
        }
    }

    /// After each command: the step is checked; when it holds, a ✓, the reason, and the
    /// next step. When a later step holds instead (the learner went ahead), the steps up to
    /// it are done. When the lab is not right, the learner is told what is wrong at once —
    /// in their words, with the fix — once the step looks worked on.
    func afterCommand(_ command: String, output: String, status: Int32) {
        guard var place, let lab else { return }
        matcher.capture(from: output, expectations: capturingOutputs)
        explainMissingProgram(command, status: status)
        // A finished lesson is finished: nothing more is checked or counted.
        if place.completed && place.index == place.lesson.steps.count - 1 { return }
        place.tracker.record(output: output)
        if !progress[place.lesson.id, place.step.id].done { progress[place.lesson.id, place.step.id].attempts += 1 }
        self.place = place
        let shellPid = shell?.foregroundProcess
        // One command may have done this step and the next ones: the furthest that holds wins.
        if let ahead = place.overtaking.furthestHolding(
            place.lesson, after: place.index, applies: runner.applies, lab: lab,
            captures: matcher.captures, shell: shellPid, outputs: place.tracker.outputs)
        {
            return overtake(to: ahead)
        }
        var verdict = place.tracker.verdict(lab: lab, captures: matcher.captures, shell: shellPid, look: .quick, onMeasuring: announceMeasuring)
        if verdict.done { return completeStep(verdict) }
        // Something just sent to the background may still be starting: look again, briefly.
        // Otherwise once more at everything, to say what is wrong.
        let look: StepTracker.Look = Self.sendsToBackground(command) ? .settled : .snapshot
        verdict = place.tracker.verdict(lab: lab, captures: matcher.captures, shell: shellPid, look: look, onMeasuring: announceMeasuring)
        if verdict.done { return completeStep(verdict) }
        emitCheck(verdict)
        // A word at once for a wrong turn: something that held when the step opened is now
        // broken (the lab's hostname changed), or the step partly holds and a part of the lab
        // is wrong. A step not begun, or one only waiting to be looked at (`seen`), is left
        // in peace — unless the learner has tried a while.
        let language = progress.language
        guard let failed = wrongTurn(verdict, in: place), failed.message != place.lastTold else { return }
        self.place?.lastTold = failed.message
        say(style.bad(language == "ko" ? "✗ 아직: " : "✗ Not yet: ") + failed.message.text(language) + ".")
        say(
            style.dim(
                "  " + (hintsLeft > 0 ? (language == "ko" ? ":hint 힌트 (\(hintsLeft)개 남음), " : ":hint for a hint (\(hintsLeft) left), ") : "")
                    + (language == "ko" ? ":check 자세히" : ":check for the details")))
        noteFailure()
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
    func wrongTurn(_ verdict: StepTracker.Verdict, in place: Place, tries: Int = 5) -> StepTracker.Expectation? {
        let labFailures = verdict.failed.filter { expectation in
            place.tracker.checks.first { $0.line == expectation.line }.map { !$0.probe.looksAtOutput } ?? true
        }.filter { !$0.measurement || $0.measured }
        let broken = labFailures.first { place.heldAtStart.contains($0.line) }
        let mistaken = labFailures.first(where: \.wrong)
        let stuck = place.tracker.commandsRun >= tries ? labFailures.first : nil
        return broken ?? mistaken ?? stuck
    }

    /// The steps from the current one up to `index` are done at once: the learner did them
    /// in one go.
    func overtake(to index: Int) {
        guard let place else { return }
        let language = progress.language
        for skipped in place.index..<index {
            emit(.stepDone(step: place.lesson.steps[skipped].id, overtaken: true))
            progress[place.lesson.id, place.lesson.steps[skipped].id].done = true
            failedSteps.removeAll { $0 == place.lesson.steps[skipped].id }
        }
        say(style.good(language == "ko" ? "✓ 한 번에 \(place.index + 1)–\(index + 1)단계를 마쳤습니다." : "✓ Steps \(place.index + 1)–\(index + 1) done in one go."))
        move(to: index, quietly: true)
        if let lab {
            let verdict = self.place!.tracker.verdict(lab: lab, captures: matcher.captures, shell: shell?.foregroundProcess, look: .quick)
            // The step reached is done too (its checks hold), credited with this command.
            self.place?.tracker.record(output: "")
            completeStep(StepTracker.Verdict(commandsRun: 1, expectations: verdict.expectations))
        }
    }

    /// Programs the course notes use that a lab has no place for (desktop programs, another
    /// distribution's package manager): one line saying what to use instead.
    func explainMissingProgram(_ command: String, status: Int32) {
        guard status == 127, let word = command.split(separator: " ").first.map(String.init) else { return }
        let language = progress.language
        let pointers: [String: (String, String)] = [
            "gnome-system-monitor": (
                "a desktop program; here `top` (q quits) or `ps -eo pid,pcpu,comm --sort=-pcpu` shows what uses the CPU",
                "데스크톱 프로그램입니다. 여기서는 `top`(q로 종료)이나 `ps -eo pid,pcpu,comm --sort=-pcpu`로 CPU 사용을 봅니다"
            ),
            "nautilus": (
                "a desktop file manager; here `ls -l` and `tree`-like `find ~/newroot` show the files",
                "데스크톱 파일 관리자입니다. 여기서는 `ls -l`이나 `find ~/newroot`로 파일을 봅니다"
            ),
            "yum": (
                "CentOS's package manager; this lab is Debian, and its tools (cgroup-tools, iproute2) are already installed",
                "CentOS의 패키지 관리자입니다. 이 랩은 데비안이고 필요한 도구(cgroup-tools, iproute2)는 이미 설치되어 있습니다"
            ),
            "dnf": (
                "Fedora's package manager; this lab is Debian, and what the lessons need is installed",
                "Fedora의 패키지 관리자입니다. 이 랩은 데비안이고 레슨에 필요한 것은 설치되어 있습니다"
            ),
            "systemctl": (
                "the lab runs no systemd (its pid 1 is Gantry's keeper); the Docker part of the notes needs a Docker host",
                "랩에는 systemd가 없습니다 (1번 프로세스는 Gantry의 keeper입니다). 노트의 Docker 부분은 Docker가 있는 호스트가 필요합니다"
            ),
            "docker": (
                "the lab has no Docker engine: these lessons build what Docker does by hand",
                "랩에는 Docker 엔진이 없습니다: 이 레슨들은 Docker가 하는 일을 손으로 만듭니다"
            ),
        ]
        guard let pointer = pointers[word] else { return }
        say(style.note("\(word): ") + (language == "ko" ? pointer.1 : pointer.0) + ".")
    }

    /// A line was entered in a program that is still running (a shell without Gantry's
    /// markers, like busybox sh in a chroot): the step's checks are looked at once it is
    /// quiet.
    func checkWhileRunning(lines: Int) {
        guard var place, let lab, !place.completed else { return }
        place.tracker.recordLinesInProgram(lines)
        progress[place.lesson.id, place.step.id].attempts += lines
        self.place = place
        let verdict = place.tracker.verdict(lab: lab, captures: matcher.captures, shell: shell?.foregroundProcess, look: .quick, onMeasuring: announceMeasuring)
        if verdict.done { completeStep(verdict) }
    }

    var hintsLeft: Int { place.map { $0.step.hints.count - $0.hintsShown } ?? 0 }

    func announceMeasuring() {
        guard let place, !place.tracker.measuringChecks.isEmpty else { return }
        say(style.dim(words("… measuring CPU use over a second", "… 1초 동안 CPU 사용량을 재는 중")))
    }

    /// In a run without a terminal, a step that was worked on and did not pass fails it.
    func noteFailure() {
        guard let place, !failedSteps.contains(place.step.id) else { return }
        failedSteps.append(place.step.id)
    }

    /// One evaluation of the step's checks, for the observers.
    func emitCheck(_ verdict: StepTracker.Verdict) {
        guard let place, !observers.isEmpty else { return }
        emit(
            .checkEvaluated(
                step: place.step.id, passed: verdict.done,
                expectations: verdict.expectations.map {
                    .init(line: $0.line, expectation: $0.description.en, passed: $0.passed, seen: $0.message.en)
                }))
    }

    func completeStep(_ verdict: StepTracker.Verdict) {
        guard let place else { return }
        emitCheck(verdict)
        emit(.stepDone(step: place.step.id, overtaken: false))
        account()
        let language = progress.language
        self.place?.completed = true
        progress[place.lesson.id, place.step.id].done = true
        failedSteps.removeAll { $0 == place.step.id }
        let why = verdict.expectations.first { $0.passed }?.message.text(language) ?? (language == "ko" ? "완료" : "done")
        say(style.good(language == "ko" ? "✓ \(place.index + 1)단계 완료: " : "✓ Step \(place.index + 1) done: ") + why + ".")
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
        say(
            language == "ko"
                ? style.good("레슨 '\(place.lesson.title(in: language))' 완료: ")
                    + "\(place.lesson.steps.count)단계, 힌트 \(hints)개, \(ProgressTable.duration(seconds))."
                : style.good("Lesson '\(place.lesson.title(in: language))' complete: ")
                    + "\(place.lesson.steps.count) steps, \(hints) hint\(hints == 1 ? "" : "s"), \(ProgressTable.duration(seconds)).")
        if let following = lessons.drop(while: { $0.id != place.lesson.id }).dropFirst().first {
            say((language == "ko" ? "다음: " : "Next: ") + style.code(":open \(following.id)") + " — " + following.title(in: language))
        }
    }
}
