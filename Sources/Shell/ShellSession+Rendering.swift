internal import Lab
public import Lessons
internal import POSIXSupport

/// The engine's events as the learner sees them, and as the progress file keeps them.
extension ShellSession {
    func render(_ event: SessionEvent) {
        let language = progress.language
        switch event {
        case .lessonOpened(let opened):
            guard let lesson = lessons.first(where: { $0.id == opened.id }) ?? engine.lesson else { return }
            lastActivity = .now
            progress.currentLesson = lesson.id
            progress.lessons[lesson.id, default: Progress.LessonRecord()].step = opened.index + 1
            save()
            say(style.heading(lesson.title(in: language)))
            if opened.index == 0 {
                let introduction = language == "en" ? lesson.introduction : lesson.introductionTranslations[language] ?? lesson.introduction
                sayLines(MarkdownRenderer(style: style).render(introduction.filter { !$0.hasPrefix("# ") }))
                say()
            }
        case .cannotRun(let lesson, let reason):
            say(style.bad("'\(lesson)' cannot run here: ") + reason + ".")
            say("`gantry doctor` says what this host can do; :lessons lists the others.")
        case .labFailed(let reason):
            say(style.bad("Could not build the lab: ") + reason)
            say("`gantry doctor` checks what labs need; `gantry cleanup` removes what a crashed session left.")
        case .labReady(let ready): renderLabReady(ready)
        case .preparing(let index, let count):
            say(
                style.dim(
                    words(
                        "Bringing the lab to the start of step \(index + 1): \(count) command\(count == 1 ? "" : "s") from the lesson…",
                        "랩을 \(index + 1)단계의 시작 상태로 맞춥니다: 레슨의 명령 \(count)개…")))
        case .preparationCommand(let command): say(style.dim("  $ " + command))
        case .preparationFailed(let line, let message): say(style.bad("  \(message)") + " (\(engine.lesson?.file ?? ""):\(line))")
        case .stepOpened(let index, _, _):
            if let lesson = engine.lesson {
                progress.lessons[lesson.id, default: Progress.LessonRecord()].step = index + 1
                save()
            }
            showStep()
        case .output, .keystrokes, .resized, .commandEnded: break
        case .lineSent(_, let target):
            if target != .continuation { account() }
        case .substituted(let line): say(style.dim("→ " + line))
        case .continuationDropped: say(style.dim("(the unfinished command was dropped)"))
        case .shellRestarted(let reason, let failure):
            let why = reason.map { " (\($0))" } ?? ""
            say(
                style.note(words("The lab's own shell ended\(why).", "랩의 셸이 끝났습니다\(why)."))
                    + words(
                        " A new one is started; the lab is as you left it. :quit or Ctrl-D ends the session.",
                        " 새 셸을 시작합니다. 랩은 그대로입니다. :quit이나 Ctrl-D로 세션을 끝냅니다."))
            if let failure {
                say(
                    style.bad(words("No new shell: \(failure).", "새 셸을 시작할 수 없습니다: \(failure).")) + words(" :reset builds a fresh lab.", " :reset으로 새 랩을 만드세요.")
                )
            }
        case .worked(let step, let commands):
            guard let lesson = engine.lesson, !progress[lesson.id, step].done else { return }
            progress[lesson.id, step].attempts += commands
        case .measuring: say(style.dim(words("… measuring CPU use over a second", "… 1초 동안 CPU 사용량을 재는 중")))
        case .checkEvaluated(let evaluation):
            if evaluation.purpose == .report { renderReport(evaluation) }
        case .wrongTurn(let step, let message, let hintsLeft):
            say(style.bad(language == "ko" ? "✗ 아직: " : "✗ Not yet: ") + message.text(language) + ".")
            say(
                style.dim(
                    "  " + (hintsLeft > 0 ? (language == "ko" ? ":hint 힌트 (\(hintsLeft)개 남음), " : ":hint for a hint (\(hintsLeft) left), ") : "")
                        + (language == "ko" ? ":check 자세히" : ":check for the details")))
            noteFailure(step)
        case .missingProgram(let name, let pointer): say(style.note("\(name): ") + pointer.text(language) + ".")
        case .hintShown(let step, let number, let count, let hint): renderHint(step: step, number: number, count: count, hint: hint)
        case .noMoreHints(_, let count):
            say(
                count == 0
                    ? words("This step has no hints; :solve shows its commands.", "이 단계에는 힌트가 없습니다. :solve가 명령을 보여 줍니다.")
                    : words("No more hints; :solve shows the commands.", "힌트를 다 보았습니다. :solve가 명령을 보여 줍니다."))
        case .solutionShown(let step, let commands): renderSolution(step: step, commands: commands)
        case .reset:
            say(style.dim(words("A fresh lab for step \(engine.index + 1)…", "\(engine.index + 1)단계를 위한 새 랩…")))
        case .skipped(let step):
            guard let lesson = engine.lesson else { return }
            progress[lesson.id, step].skipped = true
            failedSteps.removeAll { $0 == step }
            say(
                style.note(words("Skipped step \(engine.index + 1).", "\(engine.index + 1)단계를 건너뛰었습니다."))
                    + words(" Later steps may expect what it would have made; :solve shows its commands.", " 다음 단계들이 이 단계의 결과를 기대할 수 있습니다. :solve가 명령을 보여 줍니다.")
            )
            save()
        case .stepDone(let step, let index, let overtaken, let why):
            guard let lesson = engine.lesson else { return }
            progress[lesson.id, step].done = true
            failedSteps.removeAll { $0 == step }
            if !overtaken {
                let reason = why?.text(language) ?? words("done", "완료")
                say(style.good(words("✓ Step \(index + 1) done: ", "✓ \(index + 1)단계 완료: ")) + reason + ".")
            }
            save()
        case .stepsOvertaken(let from, let to):
            say(style.good(words("✓ Steps \(from + 1)–\(to + 1) done in one go.", "✓ 한 번에 \(from + 1)–\(to + 1)단계를 마쳤습니다.")))
        case .lessonComplete: renderLessonComplete()
        case .ended:
            account()
            save()
        }
    }

    func renderLabReady(_ ready: SessionEvent.LabReady) {
        say(
            style.dim(
                words(
                    "Lab ready in \(ready.milliseconds) ms: hostname \(ready.hostname), its own namespaces, cgroup and /; nothing you do here touches this machine.",
                    "랩 준비 완료 (\(ready.milliseconds)ms): 호스트 이름 \(ready.hostname), 자신만의 네임스페이스, cgroup, / — 여기서 하는 일은 이 머신에 닿지 않습니다.")))
        if !ready.unmapped.isEmpty {
            say(
                style.note(words("Read-only here: ", "여기서는 읽기 전용: ")) + ready.unmapped.joined(separator: " ")
                    + words(
                        " (this host's filesystem cannot be idmapped: the lab sees these files owned by nobody).",
                        " (이 호스트의 파일시스템은 idmap할 수 없어, 랩에서는 이 파일들의 주인이 nobody로 보입니다)."))
        }
        if !ready.limited {
            say(
                style.note(words("No limits: ", "제한 없음: "))
                    + words(
                        "no cgroup is delegated to your user, so this lab has no memory or process limits and cgroup lessons cannot run.",
                        "사용자에게 위임된 cgroup이 없어, 이 랩에는 메모리·프로세스 제한이 없고 cgroup 레슨은 실행할 수 없습니다."))
        }
    }

    /// The step's title and text, in the learner's language.
    func showStep() {
        guard let lesson = engine.lesson, let step = engine.step else { return }
        let language = progress.language
        let count = lesson.steps.count
        say()
        say(style.bold(words("Step \(engine.index + 1)/\(count): ", "\(engine.index + 1)/\(count)단계: ")) + style.heading(step.title(in: language)))
        if language != "en" && step.translations[language] == nil {
            say(style.dim("(no \(language) text for this step; in English)"))
        }
        sayLines(MarkdownRenderer(style: style).render(step.prose(in: language)))
        say(style.dim(words(":hint for a hint · :check to see what is still missing · :help for more", ":hint 힌트 · :check 아직 남은 것 · :help 도움말")))
    }

    /// `:check`'s answer: every expectation, with what was seen.
    func renderReport(_ evaluation: SessionEvent.CheckEvaluation) {
        let language = progress.language
        for expectation in evaluation.expectations {
            let mark = expectation.passed ? style.good("✓") : style.bad("✗")
            say("\(mark) \(expectation.expectation.text(language)): \(expectation.seen.text(language))")
        }
        if evaluation.expectations.isEmpty { say(words("This step expects nothing the lab can show.", "이 단계는 랩에서 확인할 것이 없습니다.")) }
        if evaluation.commandsRun == 0 { say(style.dim(words("Nothing has been run in this step yet.", "이 단계에서 아직 아무것도 실행하지 않았습니다."))) }
        guard !evaluation.passed else { return }
        if evaluation.commandsRun > 0 && !evaluation.expectations.allSatisfy(\.passed) { noteFailure(evaluation.step) }
        let hintsLeft = engine.hintsLeft
        say(
            style.dim(
                hintsLeft > 0
                    ? words(":hint for a hint (\(hintsLeft) left)", ":hint 힌트 (\(hintsLeft)개 남음)") : words(":solve shows the commands", ":solve가 명령을 보여 줍니다")))
    }

    func renderHint(step: String, number: Int, count: Int, hint: Int) {
        guard let lesson = engine.lesson, let text = engine.step?.hints(in: progress.language)[hint] else { return }
        var record = progress[lesson.id, step]
        record.hintsUsed = max(record.hintsUsed, number)
        progress[lesson.id, step] = record
        save()
        say(style.note(words("Hint \(number)/\(count):", "힌트 \(number)/\(count):")))
        let stripped = text.replacing("**Hint:**", with: "").replacing("**힌트:**", with: "").trimmed
        sayLines(MarkdownRenderer(style: style).render(stripped.split(separator: "\n").map(String.init)).map { "  " + $0 })
    }

    func renderSolution(step: String, commands: [String]) {
        guard let lesson = engine.lesson else { return }
        progress[lesson.id, step].solved = true
        save()
        guard !commands.isEmpty else { return say(words("This step has no commands to show.", "이 단계에는 보여 줄 명령이 없습니다.")) }
        say(style.note(words("The lesson's commands for this step", "이 단계의 레슨 명령")) + style.dim(words(" (using them is recorded):", " (사용하면 기록됩니다):")))
        for command in commands {
            let lines = command.split(separator: "\n", omittingEmptySubsequences: false)
            for (index, line) in lines.enumerated() { say("  " + style.code((index == 0 ? "$ " : "> ") + line)) }
        }
    }

    func renderLessonComplete() {
        guard let lesson = engine.lesson else { return }
        let language = progress.language
        progress.lessons[lesson.id, default: Progress.LessonRecord()].step = lesson.steps.count + 1
        save()
        let records = lesson.steps.map { progress[lesson.id, $0.id] }
        let hints = records.map(\.hintsUsed).reduce(0, +)
        let seconds = records.map(\.seconds).reduce(0, +)
        say()
        say(
            language == "ko"
                ? style.good("레슨 '\(lesson.title(in: language))' 완료: ") + "\(lesson.steps.count)단계, 힌트 \(hints)개, \(ProgressTable.duration(seconds))."
                : style.good("Lesson '\(lesson.title(in: language))' complete: ")
                    + "\(lesson.steps.count) steps, \(hints) hint\(hints == 1 ? "" : "s"), \(ProgressTable.duration(seconds)).")
        if let following = lessons.drop(while: { $0.id != lesson.id }).dropFirst().first {
            say(words("Next: ", "다음: ") + style.code(":open \(following.id)") + " — " + following.title(in: language))
        }
    }

    /// In a run without a terminal, a step that was worked on and did not pass fails it.
    func noteFailure(_ step: String) {
        guard !failedSteps.contains(step) else { return }
        failedSteps.append(step)
    }
}
