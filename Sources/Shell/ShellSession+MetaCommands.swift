internal import Lab
internal import Lessons
internal import POSIXSupport

extension ShellSession {
    func perform(_ command: MetaCommand) -> Next {
        switch command {
        case .help: help()
        case .lessons: sayLines(ProgressTable(style: style).lessons(lessons, progress: progress, current: place?.lesson.id, runner: runner))
        case .open(let id):
            guard let lesson = lessons.first(where: { $0.id == id }) else {
                say(style.bad("No lesson '\(id)'.") + " Lessons: " + lessons.map(\.id).joined(separator: ", "))
                break
            }
            _ = open(lesson, step: nil)
        case .step(nil), .show: showStep()
        case .step(let number?):
            guard let place else { break }
            guard number <= place.lesson.steps.count else {
                say(style.bad("'\(place.lesson.id)' has \(place.lesson.steps.count) steps."))
                break
            }
            move(to: number - 1)
            say(
                style.dim(
                    words(
                        "The lab is as you left it; :reset brings a fresh one to the start of this step.",
                        "랩은 그대로입니다. :reset은 이 단계의 시작 상태로 새 랩을 만듭니다.")))
        case .hint: hint()
        case .check: check()
        case .next:
            guard let place else { break }
            guard progress[place.lesson.id, place.step.id].done else {
                say(
                    words(
                        "Step \(place.index + 1) is not done yet: :check says what is missing, :skip passes it.",
                        "\(place.index + 1)단계를 아직 마치지 않았습니다: :check가 남은 것을 보여 주고, :skip으로 넘어갈 수 있습니다."))
                break
            }
            guard place.index + 1 < place.lesson.steps.count else { say(words("This is the last step.", "마지막 단계입니다.")); break }
            move(to: place.index + 1)
        case .previous:
            guard let place else { break }
            guard place.index > 0 else { say(words("This is the first step.", "첫 단계입니다.")); break }
            move(to: place.index - 1)
        case .skip:
            guard let place else { break }
            emit(.skipped(step: place.step.id))
            progress[place.lesson.id, place.step.id].skipped = true
            failedSteps.removeAll { $0 == place.step.id }
            say(
                style.note(words("Skipped step \(place.index + 1).", "\(place.index + 1)단계를 건너뛰었습니다."))
                    + words(" Later steps may expect what it would have made; :solve shows its commands.", " 다음 단계들이 이 단계의 결과를 기대할 수 있습니다. :solve가 명령을 보여 줍니다.")
            )
            if place.index + 1 < place.lesson.steps.count { move(to: place.index + 1) } else { save() }
        case .solve: solve()
        case .reset:
            guard let place else { break }
            emit(.reset(step: place.step.id))
            account()
            say(style.dim(words("A fresh lab for step \(place.index + 1)…", "\(place.index + 1)단계를 위한 새 랩…")))
            matcher = OutputMatcher()
            guard buildLab(for: place.lesson, preparingStep: place.index) else { break }
            self.place?.tracker = StepTracker(step: place.step, applies: runner.applies)
            self.place?.completed = false
            showStep()
        case .progress: sayLines(ProgressTable(style: style).steps(lessons, progress: progress))
        case .language(nil):
            say("Lesson text is in '\(progress.language)'. :lang en or :lang ko changes it.")
        case .language(let language?):
            guard ["en", "ko"].contains(language) else {
                say(style.bad("No language '\(language)'.") + " Lessons are written in en, and the course notes' steps also in ko.")
                break
            }
            progress.language = language
            save()
            showStep()
        case .quit:
            quitTyped = true
            return .quit
        }
        return .more
    }

    func help() {
        let language = progress.language
        let korean = language == "ko"
        say(style.bold(korean ? "명령" : "Commands") + (korean ? " (그 밖의 입력은 랩의 셸에서 실행됩니다)" : " (anything else runs in the lab's shell)"))
        let width = MetaCommand.catalog.map { $0.name.count + $0.arguments.count }.max() ?? 10
        for entry in MetaCommand.catalog {
            let name = ":" + entry.name + (entry.arguments.isEmpty ? "" : " " + entry.arguments)
            say("  " + style.code(name) + String(repeating: " ", count: max(1, width + 3 - name.count)) + entry.summary(in: language))
        }
        say(style.bold(korean ? "키" : "Keys"))
        say(
            korean
                ? "  Tab은 명령과 랩 안의 경로를 완성합니다 · ↑/↓와 Ctrl-R로 기록을 찾습니다"
                : "  Tab completes commands and paths in the lab · ↑/↓ and Ctrl-R search history")
        say(
            korean
                ? "  Ctrl-C는 실행 중인 명령을 멈춥니다 (프롬프트에서는 줄을 지웁니다) · Ctrl-D는 안쪽 셸을 나가거나 세션을 끝냅니다"
                : "  Ctrl-C stops the running command (at the prompt: drops the line) · Ctrl-D leaves a nested shell, or ends the session")
    }

    /// The next hint, in the learner's language: first one that speaks of what is wrong now
    /// (it names the object of the first failing check), else the next in order.
    func hint() {
        guard var place else { return }
        let language = progress.language
        let hints = place.step.hints(in: language)
        guard place.hintsShown < hints.count else {
            say(
                hints.isEmpty
                    ? (language == "ko" ? "이 단계에는 힌트가 없습니다. :solve가 명령을 보여 줍니다." : "This step has no hints; :solve shows its commands.")
                    : (language == "ko" ? "힌트를 다 보았습니다. :solve가 명령을 보여 줍니다." : "No more hints; :solve shows the commands."))
            return
        }
        var order = Array(hints.indices.dropFirst(place.hintsShown))
        if let lab {
            let verdict = place.tracker.verdict(lab: lab, captures: matcher.captures, shell: shell?.foregroundProcess, look: .quick)
            if let failing = verdict.failed.first,
                let check = place.tracker.checks.first(where: { $0.line == failing.line })
            {
                let names = Self.objectNames(check.text)
                if let fitting = order.first(where: { index in names.contains { hints[index].contains($0) } }) {
                    order.removeAll { $0 == fitting }
                    order.insert(fitting, at: 0)
                }
            }
        }
        let text = hints[order[0]]
        place.hintsShown += 1
        self.place = place
        emit(.hintShown(step: place.step.id, number: place.hintsShown))
        var record = progress[place.lesson.id, place.step.id]
        record.hintsUsed = max(record.hintsUsed, place.hintsShown)
        progress[place.lesson.id, place.step.id] = record
        save()
        say(style.note(language == "ko" ? "힌트 \(place.hintsShown)/\(hints.count):" : "Hint \(place.hintsShown)/\(hints.count):"))
        let stripped = text.replacing("**Hint:**", with: "").replacing("**힌트:**", with: "").trimmed
        sayLines(MarkdownRenderer(style: style).render(stripped.split(separator: "\n").map(String.init)).map { "  " + $0 })
    }

    /// The values a check line names (veth1, testnet, 172.16.0.2/24, limit_cpu_50), not its
    /// keywords: what a hint about that check would mention.
    static func objectNames(_ check: String) -> [String] {
        check.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().compactMap { word -> String? in
            guard let equals = word.firstIndex(of: "=") else { return nil }
            let value = String(word[word.index(after: equals)...].filter { $0 != "\"" })
            return value.count >= 3 && !["yes", "no", "own", "up", "down", "lab"].contains(value) ? value : nil
        }
    }

    /// `:check`: every expectation of the step, held or not, with what was seen; when the
    /// step holds it is done.
    func check() {
        guard let place, let lab else { return }
        let language = progress.language
        let verdict = place.tracker.verdict(
            lab: lab, captures: matcher.captures, shell: shell?.foregroundProcess, look: .report, onMeasuring: announceMeasuring)
        for expectation in verdict.expectations {
            let mark = expectation.passed ? style.good("✓") : style.bad("✗")
            say("\(mark) \(expectation.description.text(language)): \(expectation.message.text(language))")
        }
        if verdict.expectations.isEmpty { say(language == "ko" ? "이 단계는 랩에서 확인할 것이 없습니다." : "This step expects nothing the lab can show.") }
        if verdict.commandsRun == 0 { say(style.dim(language == "ko" ? "이 단계에서 아직 아무것도 실행하지 않았습니다." : "Nothing has been run in this step yet.")) }
        if verdict.done { return completeStep(verdict) }
        if verdict.commandsRun > 0 && !verdict.expectations.allSatisfy(\.passed) { noteFailure() }
        if hintsLeft > 0 {
            say(style.dim(words(":hint for a hint (\(hintsLeft) left)", ":hint 힌트 (\(hintsLeft)개 남음)")))
        } else {
            say(style.dim(words(":solve shows the commands", ":solve가 명령을 보여 줍니다")))
        }
    }

    /// `:solve`: the step's reference commands, with the values this lab captured.
    func solve() {
        guard let place else { return }
        emit(.solutionShown(step: place.step.id))
        progress[place.lesson.id, place.step.id].solved = true
        save()
        let commands = place.step.console.filter { runner.applies($0.capability) }.flatMap(\.commands)
        guard !commands.isEmpty else { say(words("This step has no commands to show.", "이 단계에는 보여 줄 명령이 없습니다.")); return }
        say(style.note(words("The lesson's commands for this step", "이 단계의 레슨 명령")) + style.dim(words(" (using them is recorded):", " (사용하면 기록됩니다):")))
        for command in commands {
            let lines = matcher.substitute(command.command).split(separator: "\n", omittingEmptySubsequences: false)
            for (index, line) in lines.enumerated() { say("  " + style.code((index == 0 ? "$ " : "> ") + line)) }
        }
    }
}
