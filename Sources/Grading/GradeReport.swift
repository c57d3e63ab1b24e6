internal import FoundationEssentials

/// The one result model of `gantry grade`: every format (JSON, JUnit, TAP, Gradescope, CSV,
/// the terminal table) is written from it, and shards merge into it. Its JSON form is the
/// schema `gantry-grade/1` documented in transcripts/README.md.
public struct GradeReport: Codable, Sendable, Equatable {
    public var schema = "gantry-grade/1"
    /// Whether the steps were re-run (`--verify`).
    public var verified: Bool
    /// By file, sorted: a sharded run merged is the same report as one run.
    public var transcripts: [TranscriptGrade]
    /// Files that were not graded, and why.
    public var skipped: [Skipped]

    public struct Skipped: Codable, Sendable, Equatable {
        public var file: String
        public var reason: String
        public init(file: String, reason: String) {
            self.file = file
            self.reason = reason
        }
    }

    public init(verified: Bool, transcripts: [TranscriptGrade], skipped: [Skipped]) {
        self.verified = verified
        self.transcripts = transcripts.sorted { $0.file < $1.file }
        self.skipped = skipped.sorted { $0.file < $1.file }
    }

    /// Reports of shards (or of any runs) as one.
    public static func merged(_ reports: [GradeReport]) throws(GradeError) -> GradeReport {
        guard let first = reports.first else { return GradeReport(verified: false, transcripts: [], skipped: []) }
        guard reports.allSatisfy({ $0.verified == first.verified }) else {
            throw GradeError("some results were graded with --verify and some without; merge results of one kind")
        }
        let transcripts = reports.flatMap(\.transcripts)
        var seen = Set<String>()
        for grade in transcripts where !seen.insert(grade.file).inserted {
            throw GradeError("\(grade.file) is in more than one result: were the shards of different runs?")
        }
        return GradeReport(verified: first.verified, transcripts: transcripts, skipped: reports.flatMap(\.skipped))
    }

    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return ((try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}") + "\n"
    }

    public static func decode(_ text: String, file: String) throws(GradeError) -> GradeReport {
        do {
            let report = try JSONDecoder().decode(GradeReport.self, from: Data(text.utf8))
            guard report.schema == "gantry-grade/1" else { throw GradeError("\(file): schema \(report.schema); expected gantry-grade/1") }
            return report
        } catch let error as GradeError {
            throw error
        } catch {
            throw GradeError("\(file): not a result of `gantry grade --format json` (\(error))")
        }
    }
}

/// One transcript's grade.
public struct TranscriptGrade: Codable, Sendable, Equatable {
    /// The file as it was named.
    public var file: String
    public var learner: String
    public var lesson: String
    public var lessonTitle: String
    /// The lesson file's SHA-256 as recorded, and whether the lesson here is another version.
    public var lessonSHA256: String
    public var lessonChanged: Bool
    /// When the session began (Unix seconds).
    public var recorded: Int
    /// `sealed`, or what else `transcripts verify` says.
    public var integrity: String
    public var score: Double
    public var maximum: Double
    public var steps: [StepGrade]
    /// What the re-run found that the recording did not say (`--verify`).
    public var differences: [String]
}

public struct StepGrade: Codable, Sendable, Equatable {
    public var id: String
    public var title: String
    public var points: Double
    public var maximum: Double
    /// `passed`, `failed` or `skipped`, as recorded.
    public var result: String
    /// As the re-run found it (`--verify`), else absent.
    public var replayed: String?
    public var attempts: Int
    public var hints: Int
    public var solved: Bool
    public var seconds: Double
    /// The failing expectation, in the learner's terms.
    public var message: String?
    /// Passed, and (with `--verify`) passed again.
    public var passed: Bool { result == "passed" && (replayed ?? "passed") == "passed" }
}

public struct GradeError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
