import ArgumentParser
import Shell

/// `gantry reset [LESSON]`: forget progress, after asking.
struct ResetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reset",
        abstract: "Forget your progress in one lesson, or in all of them (asks first).")

    @Argument(help: ArgumentHelp("The lesson to forget; without it, every lesson.", valueName: "lesson"))
    var lesson: String?
    @Flag(name: .shortAndLong, help: "Do not ask (needed when standard input is not a terminal).")
    var yes = false

    func run() throws {
        let store = ProgressStore.forLearner()
        let loaded = store.load()
        if let notice = loaded.notice { printError(notice); throw ExitCode(1) }
        var progress = loaded.progress
        let what = lesson.map { "your progress in '\($0)'" } ?? "all your progress"
        if let lesson, progress.lessons[lesson] == nil {
            print("There is no progress in '\(lesson)' to forget.")
            return
        }
        if !yes {
            guard REPL.hasTerminal else { throw ValidationError("not a terminal to ask on: add --yes to forget \(what)") }
            print("Forget \(what)? This cannot be undone. [y/N] ", terminator: "")
            guard let answer = readLine(), ["y", "yes"].contains(answer.lowercased()) else {
                print("Nothing was changed.")
                return
            }
        }
        if let lesson {
            progress.lessons[lesson] = nil
            if progress.currentLesson == lesson { progress.currentLesson = nil }
        } else {
            progress = Progress()
        }
        do { try store.save(progress) } catch { throw ValidationError("\(error)") }
        print("Forgot \(what).")
    }
}
