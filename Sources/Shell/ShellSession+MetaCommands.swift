internal import POSIXSupport
internal import Lab
internal import Lessons

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
            say(style.dim("The lab is as you left it; :reset brings a fresh one to the start of this step."))
        case .hint: hint()
        case .check: check()
        case .next:
            guard let place else { break }
            guard progress[place.lesson.id, place.step.id].done else {
                say("Step \(place.index + 1) is not done yet: :check says what is missing, :skip passes it.")
                break
            }
            guard place.index + 1 < place.lesson.steps.count else { say("This is the last step."); break }
            move(to: place.index + 1)
        case .previous:
            guard let place else { break }
            guard place.index > 0 else { say("This is the first step."); break }
            move(to: place.index - 1)
        case .skip:
            guard let place else { break }
            progress[place.lesson.id, place.step.id].skipped = true
            failedSteps.removeAll { $0 == place.step.id }
            say(style.note("Skipped step \(place.index + 1).") + " Later steps may expect what it would have made; :solve shows its commands.")
            if place.index + 1 < place.lesson.steps.count { move(to: place.index + 1) } else { save() }
        case .solve: solve()
        case .reset:
            guard let place else { break }
            account()
            say(style.dim("A fresh lab for step \(place.index + 1)…"))
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
        case .quit: return .quit
        }
        return .more
    }

    func help() {
        say(style.bold("Commands") + " (anything else runs in the lab's shell)")
        let width = MetaCommand.catalog.map { $0.name.count + $0.arguments.count }.max() ?? 10
        for entry in MetaCommand.catalog {
            let name = ":" + entry.name + (entry.arguments.isEmpty ? "" : " " + entry.arguments)
            say("  " + style.code(name) + String(repeating: " ", count: max(1, width + 3 - name.count)) + entry.summary)
        }
        say(style.bold("Keys"))
        say("  Tab completes commands and paths in the lab · ↑/↓ and Ctrl-R search history")
        say("  Ctrl-C stops the running command (at the prompt: drops the line) · Ctrl-D leaves a nested shell, or ends the session")
    }

    func hint() {
        guard var place else { return }
        let hints = place.step.hints
        guard place.hintsShown < hints.count else {
            say(hints.isEmpty ? "This step has no hints; :solve shows its commands." : "No more hints; :solve shows the commands.")
            return
        }
        let text = hints[place.hintsShown]
        place.hintsShown += 1
        self.place = place
        var record = progress[place.lesson.id, place.step.id]
        record.hintsUsed = max(record.hintsUsed, place.hintsShown)
        progress[place.lesson.id, place.step.id] = record
        save()
        say(style.note("Hint \(place.hintsShown)/\(hints.count):"))
        let stripped = text.replacing("**Hint:**", with: "").trimmed
        sayLines(MarkdownRenderer(style: style).render(stripped.split(separator: "\n").map(String.init)).map { "  " + $0 })
    }

    /// `:check`: every expectation of the step, held or not, with what was seen; when the
    /// step holds it is done.
    func check() {
        guard let place, let lab else { return }
        let verdict = place.tracker.verdict(matcher: matcher, evaluator: CheckEvaluator(lab: lab), look: .report, onMeasuring: announceMeasuring)
        for expectation in verdict.expectations {
            let mark = expectation.passed ? style.good("✓") : style.bad("✗")
            say("\(mark) \(expectation.description): \(expectation.message)")
            for line in expectation.diff { say("    " + (line.hasPrefix("-") ? style.good(line) : line.hasPrefix("+") ? style.bad(line) : line)) }
        }
        if verdict.expectations.isEmpty { say("This step expects nothing the lab can show.") }
        if verdict.commandsRun == 0 { say(style.dim("Nothing has been run in this step yet.")) }
        if verdict.done { return completeStep(verdict) }
        if verdict.commandsRun > 0 && !verdict.expectations.allSatisfy(\.passed) { noteFailure() }
        if hintsLeft > 0 { say(style.dim(":hint for a hint (\(hintsLeft) left)")) } else { say(style.dim(":solve shows the commands")) }
    }

    /// `:solve`: the step's reference commands, with the values this lab captured.
    func solve() {
        guard let place else { return }
        progress[place.lesson.id, place.step.id].solved = true
        save()
        let commands = place.step.console.filter { runner.applies($0.capability) }.flatMap(\.commands)
        guard !commands.isEmpty else { say("This step has no commands to show."); return }
        say(style.note("The lesson's commands for this step") + style.dim(" (using them is recorded):"))
        for command in commands {
            let lines = matcher.substitute(command.command).split(separator: "\n", omittingEmptySubsequences: false)
            for (index, line) in lines.enumerated() { say("  " + style.code((index == 0 ? "$ " : "> ") + line)) }
        }
    }
}
