import ArgumentParser
import Lessons
import Shell

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
        for line in ProgressTable(colors: false).steps(Lesson.courseOrder(found), progress: loaded.progress) { print(line) }
    }
}
