import ArgumentParser
import Glibc
import Lessons
import Shell
import Terminal

/// `gantry progress`: the learner's progress as a table.
struct ProgressCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "progress",
        abstract: "Show your progress: each lesson's steps, done or not, attempts, hints used, time.")

    @OptionGroup var lessons: LessonDirectoryOption

    func run() throws {
        let (found, _) = lessons.load()
        let loaded = ProgressStore.forLearner().load()
        if let notice = loaded.notice { printError(notice) }
        // On a terminal the table fits it (as `:progress` does); in a file, 100 columns.
        let width = isatty(STDOUT_FILENO) == 1 ? TextStyle.width(forColumns: Int(TerminalSize.current().columns)) : 100
        for line in ProgressTable(colors: false, width: width).steps(Lesson.courseOrder(found), progress: loaded.progress) { print(line) }
    }
}
