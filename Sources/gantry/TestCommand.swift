import ArgumentParser
import Lab
import Lessons
import POSIXSupport

/// `gantry test`: every lesson's reference commands in a fresh lab, outputs and checks.
struct TestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run lessons as tests: each in a fresh lab, every output compared, every check evaluated.",
        discussion: "Prints a line per lesson and a diff for each mismatch; ends with 'N passed, N failed, N skipped'. Exits 1 on any failure.")

    @OptionGroup var lessonPaths: LessonPathsArgument
    @Option(help: ArgumentHelp("Run only the lesson with this id.", valueName: "id"))
    var lesson: String?
    @Option(help: ArgumentHelp("With --lesson, run only step N (1-based), after its setup block or, without one, the earlier steps replayed.", valueName: "n"))
    var step: Int?
    @Option(help: ArgumentHelp("Also write the results as JUnit XML.", valueName: "file"))
    var junit: String?
    @Flag(help: "Rewrite the expected output of mismatching commands with what they printed (like cram -i). Checks are not changed.")
    var update = false

    func validate() throws {
        if step != nil && lesson == nil { throw ValidationError("--step needs --lesson ID") }
        if let step, step < 1 { throw ValidationError("--step counts from 1") }
    }

    func run() throws {
        let (lessons, errors) = LessonRunner.load(LessonRunner.lessonFiles(lessonPaths.paths))
        for error in errors { printError("\(error)") }
        if !errors.isEmpty { throw ExitCode(1) }
        let selected = lessons.filter { lesson == nil || $0.id == lesson }
        if let lesson, selected.isEmpty { throw ValidationError("no lesson with id '\(lesson)'") }
        let runner = LessonRunner(support: HostSupport.detect())
        var results: [LessonRunner.LessonResult] = []
        for lesson in selected {
            let result = runner.run(lesson, onlyStep: step)
            results.append(result)
            report(result)
            if update, result.outcome == .failed, let text = POSIX.readFile(lesson.file),
                let updated = ExpectationUpdater.update(text, lesson: lesson, steps: result.steps)
            {
                do { try POSIX.writeAtomically(lesson.file, updated) } catch { throw ValidationError("\(error)") }
                print("  updated \(lesson.file): expected output rewritten from this run; review the diff")
            }
        }
        let passed = results.filter { $0.outcome == .passed }.count
        let failed = results.filter { $0.outcome == .failed }.count
        print("\(passed) passed, \(failed) failed, \(results.count - passed - failed) skipped")
        if let junit {
            do { try POSIX.writeAtomically(junit, JUnitReport.xml(results)) } catch { throw ValidationError("\(error)") }
        }
        if failed > 0 { throw ExitCode(1) }
    }

    func report(_ result: LessonRunner.LessonResult) {
        let seconds = String(oneDecimal: Double(result.microseconds) / 1e6)
        switch result.outcome {
        case .passed: print("PASS \(result.lesson.id) (\(result.steps.count) steps, \(seconds) s)")
        case .skipped(let reason): print("SKIP \(result.lesson.id): \(reason)")
        case .failed:
            print("FAIL \(result.lesson.id) (\(seconds) s)")
            for step in result.steps where !step.passed {
                for failure in step.failures {
                    print("  \(result.lesson.file):\(failure.line): [\(step.id)] \(failure.message)")
                    for line in failure.diff { print("    " + line) }
                }
            }
        }
    }
}
