import ArgumentParser
import Lessons

/// `gantry lint`: parse lessons and report every mistake with file:line:column.
struct LintCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lint",
        abstract: "Check lesson files: front matter, steps, console and check blocks, probes, regexes.")

    @OptionGroup var lessonPaths: LessonPathsArgument

    func run() throws {
        let files = LessonRunner.lessonFiles(lessonPaths.paths)
        let (lessons, errors) = LessonRunner.load(files)
        for error in errors { print("\(error)") }
        print("\(files.count) lesson files, \(lessons.count) valid, \(errors.count) errors")
        if !errors.isEmpty { throw ExitCode(1) }
    }
}
