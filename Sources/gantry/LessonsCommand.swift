import ArgumentParser
import Lab
import Lessons
import POSIXSupport
import Shell

/// `gantry lessons`: what there is to learn.
struct LessonsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "lessons", abstract: "List the lessons with their titles and steps.")

    @OptionGroup var lessonPaths: LessonPathsArgument
    @Option(help: ArgumentHelp("Language of the titles: en or ko.", valueName: "lang"))
    var lang = "en"
    @Option(
        help: ArgumentHelp(
            "Print what a learner types to complete this lesson on this host: its reference commands, one line each (continuation lines as typed).",
            valueName: "id"))
    var commands: String?

    func run() throws {
        let (lessons, errors) = LessonRunner.load(LessonRunner.lessonFiles(lessonPaths.paths))
        for error in errors { printError("\(error)") }
        if let commands {
            guard let lesson = lessons.first(where: { $0.id == commands }) else {
                throw ValidationError("no lesson '\(commands)' (there are: \(lessons.map(\.id).sorted().joined(separator: ", ")))")
            }
            let support = HostSupport.detect()
            for step in lesson.steps {
                for command in support.referenceCommands(of: step) { print(command.command) }
            }
            return
        }
        // With the learner's progress, when there is any (the shell records it).
        let progress = ProgressStore.forLearner().load().progress
        for lesson in Lesson.courseOrder(lessons) {
            let title = lesson.title(in: lang)
            let done = progress.stepsDone(in: lesson)
            print("\(lesson.id.padding(14)) \(title) — \(lesson.steps.count) steps" + (done > 0 ? ", \(done) done" : ""))
        }
    }
}
