import ArgumentParser
import Isolation
import Lab
import Lessons
import Shell

/// `gantry` / `gantry shell [LESSON]`: the REPL a learner works in.
struct ShellCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shell",
        abstract: "Follow a lesson in a disposable lab, checked as you go (what `gantry` alone runs).",
        discussion: """
            Every line you type runs in the lab's shell; after each command the step's \
            expectations are checked, and a ✓ moves you on. Lines starting with ':' are \
            Gantry's: :help lists them (:hint, :check, :solve, :reset, :progress, :lang ko, :quit). \
            Without LESSON, the lesson you worked on last is resumed where you left it.

            With standard input not a terminal (gantry shell uts < commands.txt), lines are \
            read plainly, the same checks run, and the exit status is 1 if a step you worked \
            on did not pass.

            History is kept in $XDG_STATE_HOME/gantry/history, progress in \
            $XDG_DATA_HOME/gantry/progress (defaults ~/.local/state and ~/.local/share).
            """)

    @Argument(help: ArgumentHelp("The lesson to open (an id from `gantry lessons`).", valueName: "lesson"))
    var lesson: String?
    @Option(help: ArgumentHelp("Open at step N (1-based); the lab is brought to its start.", valueName: "n"))
    var step: Int?
    @Option(help: ArgumentHelp("Where the lessons are (default: ./lessons, or the ones installed with gantry).", valueName: "dir"))
    var lessons: String?

    func validate() throws {
        if let step, step < 1 { throw ValidationError("--step counts from 1") }
        if step != nil && lesson == nil { throw ValidationError("--step needs a LESSON") }
    }

    func run() throws {
        let directory = lessons ?? LessonLocator.defaultDirectory()
        let (found, errors) = LessonRunner.load(LessonRunner.lessonFiles([directory]))
        for error in errors { printError("\(error)") }
        if let lesson, !found.contains(where: { $0.id == lesson }) {
            throw ValidationError("no lesson '\(lesson)' in \(directory) (there are: \(found.map(\.id).sorted().joined(separator: ", ")))")
        }
        let support = HostSupport.detect()
        guard support.canBuildLabs else {
            printError("No lab can be built on this host: `gantry doctor` says what is missing and how to fix it.")
            throw ExitCode(1)
        }
        let interactive = REPL.hasTerminal
        let options = ShellSession.Options(lessonsDirectory: directory, lessonID: lesson, step: step,
                                           paths: ShellPaths.fromEnvironment(), interactive: interactive)
        let session = ShellSession(options: options, lessons: found, support: support,
                                   width: min(Int(Foreground.terminalSize().columns), 100))
        let status = REPL.run(session)
        if status != 0 { throw ExitCode(status) }
    }
}

/// `gantry progress`: the learner's progress as a table.
struct ProgressCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "progress",
        abstract: "Show your progress: each lesson's steps, done or not, attempts, hints used, time.")

    @Option(help: ArgumentHelp("Where the lessons are.", valueName: "dir"))
    var lessons: String?

    func run() throws {
        let (found, _) = LessonRunner.load(LessonRunner.lessonFiles([lessons ?? LessonLocator.defaultDirectory()]))
        let loaded = ProgressStore.forLearner().load()
        if let notice = loaded.notice { printError(notice) }
        for line in ProgressTable(colors: false).steps(Lesson.courseOrder(found), progress: loaded.progress) { print(line) }
    }
}

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
