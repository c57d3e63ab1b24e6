public import Lab
public import Lessons
internal import POSIXSupport
public import Transcripts

/// Grades transcripts against the lessons: from what was recorded, or (`verify`) from what
/// a re-run in a fresh lab found, step by step. Points come from the lesson (`points:`,
/// `grading:`): a step done earns its share, less its hint and `:solve` penalties; a step
/// not done, skipped, or done only in the recording (when verifying) earns nothing.
public struct Grader {
    public var lessons: [Lesson]
    public var verify: Bool
    public var support: HostSupport?

    public init(lessons: [Lesson], verify: Bool, support: HostSupport?) {
        self.lessons = lessons
        self.verify = verify
        self.support = support
    }

    /// Every `.cast` under the paths (files or directories, recursively), sorted: the order
    /// a shard slices.
    public static func transcriptFiles(_ paths: [String]) -> (files: [String], missing: [String]) {
        var files: [String] = []
        var missing: [String] = []
        func walk(_ path: String) {
            switch POSIX.kind(of: path) {
            case nil: missing.append(path)
            case .other: files.append(path)
            case .directory:
                for name in POSIX.list(path).sorted() where !name.hasPrefix(".") {
                    let child = (path.hasSuffix("/") ? path : path + "/") + name
                    if POSIX.kind(of: child) == .directory { walk(child) } else if name.hasSuffix(".cast") { files.append(child) }
                }
            }
        }
        for path in paths { walk(path) }
        return (files.sorted(), missing)
    }

    /// Shard `index` (1-based) of `count`: every count-th file, a stable slice of the sorted list.
    public static func shard(_ files: [String], index: Int, count: Int) -> [String] {
        files.enumerated().filter { $0.offset % count == index - 1 }.map(\.element)
    }

    public enum Outcome {
        case graded(TranscriptGrade)
        case skipped(GradeReport.Skipped)
    }

    public func grade(_ file: String) -> Outcome {
        let transcript: Transcript
        do { transcript = try Transcript.read(file, outputs: verify) } catch { return .skipped(.init(file: file, reason: "\(error)")) }
        if case .broken = transcript.integrity {
            return .skipped(.init(file: file, reason: "\(transcript.integrityDescription): it was edited, and is not graded"))
        }
        let facts = transcript.header.gantry.lesson
        guard let lesson = lessons.first(where: { $0.id == facts.id }) else {
            return .skipped(.init(file: file, reason: "no lesson '\(facts.id)' here (--lessons DIR names where the lessons are)"))
        }
        let here = SHA256.hexDigest(POSIX.readFileBytes(lesson.file) ?? [])
        let script = ReplayScript(transcript)
        var replayed: [String: ReplayScript.StepRecord]?
        var differences: [String] = []
        var verification: Verification?
        if verify, let support {
            do {
                let replayer = try Replayer(transcript: transcript, lessons: lessons, allowUnsealed: true, support: support)
                guard replayer.run() else { return .skipped(.init(file: file, reason: "the lab for the replay could not be built")) }
                let verified = Verification(replayer)
                verification = verified
                replayed = replayer.steps
                differences = verified.steps.flatMap { step in step.differences.map { "\(step.id): \($0)" } } + verified.notes
            } catch {
                return .skipped(.init(file: file, reason: error.message))
            }
        }
        let shares = Dictionary(lesson.stepPoints.map { ($0.id, $0.points) }, uniquingKeysWith: { first, _ in first })
        var steps: [StepGrade] = []
        for step in lesson.steps {
            let record = script.steps[step.id] ?? .init()
            let maximum = shares[step.id] ?? 0
            let result = record.done ? "passed" : record.skipped ? "skipped" : "failed"
            let again = replayed.map { ($0[step.id]?.done ?? false) ? "passed" : ($0[step.id]?.skipped ?? false) ? "skipped" : "failed" }
            let agrees = verification?.steps.first { $0.id == step.id }?.differences.isEmpty ?? true
            var points = 0.0
            if record.done && (again ?? "passed") == "passed" && agrees {
                let penalty = Double(record.hints) * lesson.grading.hintPenalty + (record.solved ? lesson.grading.solvePenalty : 0)
                points = (maximum * max(0, 1 - penalty) * 100).rounded() / 100
            }
            // The recording's words, not the replay's: a re-run's measurements and addresses differ run to run,
            // and what the replay found otherwise is in `differences`.
            let message = record.done ? nil : record.failing
            steps.append(
                StepGrade(
                    id: step.id, title: step.title, points: points, maximum: maximum, result: result, replayed: again,
                    attempts: record.attempts, hints: record.hints, solved: record.solved, seconds: (record.seconds * 10).rounded() / 10,
                    message: message ?? (record.done || record.skipped ? nil : "not done")))
        }
        let score = (steps.map(\.points).reduce(0, +) * 100).rounded() / 100
        return .graded(
            TranscriptGrade(
                file: file, learner: transcript.header.gantry.learner, lesson: lesson.id, lessonTitle: lesson.title,
                lessonSHA256: facts.sha256, lessonChanged: here != facts.sha256, recorded: transcript.header.timestamp,
                integrity: transcript.integrityDescription, score: score, maximum: steps.map(\.maximum).reduce(0, +), steps: steps,
                differences: differences))
    }
}
