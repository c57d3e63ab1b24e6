public import Lessons

/// One learner's place in the course: where they are, and for every step they worked on,
/// whether it is done, how many commands it took, hints used, whether they asked for the
/// solution, and the time spent.
public struct Progress: Sendable, Equatable {
    public struct StepRecord: Sendable, Equatable {
        public var done = false
        /// Commands the learner ran while this was the current step.
        public var attempts = 0
        public var hintsUsed = 0
        /// `:solve` was used.
        public var solved = false
        /// `:skip` passed it without it being done.
        public var skipped = false
        public var seconds = 0

        public init() {}
    }

    public struct LessonRecord: Sendable, Equatable {
        /// The step (1-based) to resume at.
        public var step = 1
        public var steps: [String: StepRecord] = [:]

        public init() {}
    }

    /// The lesson open last; `gantry` with no lesson resumes it.
    public var currentLesson: String?
    public var language = "en"
    public var lessons: [String: LessonRecord] = [:]

    public init() {}

    /// How many of the lesson's steps are done.
    public func stepsDone(in lesson: Lesson) -> Int {
        lesson.steps.filter { self[lesson.id, $0.id].done }.count
    }

    subscript(lesson: String, step: String) -> StepRecord {
        get { lessons[lesson]?.steps[step] ?? StepRecord() }
        set { lessons[lesson, default: LessonRecord()].steps[step] = newValue }
    }
}

/// A progress file that could not be read: where, and what was expected.
public struct ProgressError: Error, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var message: String
    public var description: String { "\(file):\(line): \(message)" }
}

/// The progress file's text form: a line per fact, tab-separated, so it diffs and greps well
/// and a person can repair it by hand.
///
///     gantry-progress	1
///     current	uts
///     language	ko
///     lesson	uts	step=2
///     step	uts	unshare	done=yes	attempts=4	hints=1	solved=no	skipped=no	seconds=93
enum ProgressFormat {
    static let header = "gantry-progress\t1"

    static func encode(_ progress: Progress) -> String {
        var lines = [header]
        if let current = progress.currentLesson { lines.append("current\t\(current)") }
        lines.append("language\t\(progress.language)")
        for (id, lesson) in progress.lessons.sorted(by: { $0.key < $1.key }) {
            lines.append("lesson\t\(id)\tstep=\(lesson.step)")
            for (stepID, record) in lesson.steps.sorted(by: { $0.key < $1.key }) {
                lines.append(
                    [
                        "step", id, stepID, "done=\(yesNo(record.done))", "attempts=\(record.attempts)",
                        "hints=\(record.hintsUsed)", "solved=\(yesNo(record.solved))",
                        "skipped=\(yesNo(record.skipped))", "seconds=\(record.seconds)",
                    ].joined(separator: "\t"))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func decode(_ text: String, file: String) throws(ProgressError) -> Progress {
        var progress = Progress()
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.first.map(String.init) == header else {
            throw ProgressError(file: file, line: 1, message: "expected '\(header.showingTabs)' (a Gantry progress file)")
        }
        for (offset, line) in lines.enumerated().dropFirst() where !line.isEmpty {
            let lineNumber = offset + 1
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            func fail(_ message: String) -> ProgressError { ProgressError(file: file, line: lineNumber, message: message) }
            switch fields[0] {
            case "current" where fields.count == 2:
                progress.currentLesson = fields[1]
            case "language" where fields.count == 2:
                progress.language = fields[1]
            case "lesson" where fields.count == 3:
                let step = try number(fields[2], key: "step", fail: fail)
                guard step >= 1 else { throw fail("expected step=N (N ≥ 1)") }
                progress.lessons[fields[1], default: Progress.LessonRecord()].step = step
            case "step" where fields.count == 9:
                var record = Progress.StepRecord()
                record.done = try flag(fields[3], key: "done", fail: fail)
                record.attempts = try number(fields[4], key: "attempts", fail: fail)
                record.hintsUsed = try number(fields[5], key: "hints", fail: fail)
                record.solved = try flag(fields[6], key: "solved", fail: fail)
                record.skipped = try flag(fields[7], key: "skipped", fail: fail)
                record.seconds = try number(fields[8], key: "seconds", fail: fail)
                progress[fields[1], fields[2]] = record
            default:
                throw fail("expected 'current', 'language', 'lesson' or 'step' with its fields separated by tabs, found '\(line.prefix(40))'")
            }
        }
        return progress
    }

    static func yesNo(_ value: Bool) -> String { value ? "yes" : "no" }

    static func flag(_ field: String, key: String, fail: (String) -> ProgressError) throws(ProgressError) -> Bool {
        switch field {
        case "\(key)=yes": return true
        case "\(key)=no": return false
        default: throw fail("expected \(key)=yes or \(key)=no, found '\(field)'")
        }
    }

    static func number(_ field: String, key: String, fail: (String) -> ProgressError) throws(ProgressError) -> Int {
        guard field.hasPrefix(key + "="), let value = Int(field.dropFirst(key.count + 1)), value >= 0 else {
            throw fail("expected \(key)=N, found '\(field)'")
        }
        return value
    }
}

extension String {
    var showingTabs: String { split(separator: "\t", omittingEmptySubsequences: false).joined(separator: "⇥") }
}
