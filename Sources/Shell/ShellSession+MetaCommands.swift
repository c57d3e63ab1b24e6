internal import Lab
internal import Lessons
internal import POSIXSupport

extension ShellSession {
    func perform(_ command: MetaCommand) -> Next {
        switch command {
        case .help: help()
        case .lessons: sayLines(ProgressTable(style: style).lessons(lessons, progress: progress, current: engine.lesson?.id, support: support))
        case .open(let id):
            guard let lesson = lessons.first(where: { $0.id == id }) else {
                say(style.bad("No lesson '\(id)'.") + " Lessons: " + lessons.map(\.id).joined(separator: ", "))
                break
            }
            _ = open(lesson, step: nil)
        case .step(nil), .show: showStep()
        case .step(let number?):
            guard let lesson = engine.lesson else { break }
            guard number <= lesson.steps.count else {
                say(style.bad("'\(lesson.id)' has \(lesson.steps.count) steps."))
                break
            }
            engine.move(to: number - 1)
            say(
                style.dim(
                    words(
                        "The lab is as you left it; :reset brings a fresh one to the start of this step.",
                        "랩은 그대로입니다. :reset은 이 단계의 시작 상태로 새 랩을 만듭니다.")))
        case .hint: engine.hint()
        case .check: engine.check()
        case .next:
            guard let lesson = engine.lesson, let step = engine.step else { break }
            let index = engine.index
            guard progress[lesson.id, step.id].done else {
                say(
                    words(
                        "Step \(index + 1) is not done yet: :check says what is missing, :skip passes it.",
                        "\(index + 1)단계를 아직 마치지 않았습니다: :check가 남은 것을 보여 주고, :skip으로 넘어갈 수 있습니다."))
                break
            }
            guard index + 1 < lesson.steps.count else { say(words("This is the last step.", "마지막 단계입니다.")); break }
            engine.move(to: index + 1)
        case .previous:
            guard engine.lesson != nil else { break }
            guard engine.index > 0 else { say(words("This is the first step.", "첫 단계입니다.")); break }
            engine.move(to: engine.index - 1)
        case .skip: engine.skip()
        case .solve: engine.solve()
        case .reset: engine.reset()
        case .progress: sayLines(ProgressTable(style: style).steps(lessons, progress: progress))
        case .language(nil):
            say("Lesson text is in '\(progress.language)'. :lang en or :lang ko changes it.")
        case .language(let language?):
            guard ["en", "ko"].contains(language) else {
                say(style.bad("No language '\(language)'.") + " Lessons are written in en, and the course notes' steps also in ko.")
                break
            }
            progress.language = language
            engine.language = language
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
}
