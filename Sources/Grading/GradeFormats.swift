internal import FoundationEssentials
public import Lessons
internal import POSIXSupport

/// The formats graders and dashboards already read, all written from a `GradeReport`.
public enum GradeFormat: String, CaseIterable, Sendable {
    case table, json, junit, tap, gradescope, csv

    public func write(_ report: GradeReport) -> String {
        switch self {
        case .table: report.table()
        case .json: report.json()
        case .junit: report.junit()
        case .tap: report.tap()
        case .gradescope: report.gradescope()
        case .csv: report.csv()
        }
    }
}

extension GradeReport {
    /// Points as a person writes them: `10`, `3.33`.
    public static func number(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String((value * 100).rounded() / 100)
    }

    /// JUnit XML: a testsuite per transcript, a testcase per step (a step not earned is a
    /// failure with the failing expectation), files not graded as errors of their own suite.
    func junit() -> String {
        let escape = JUnitReport.escape
        let failures = transcripts.flatMap(\.steps).filter { !$0.passed && $0.result != "skipped" }.count
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        xml +=
            "<testsuites name=\"gantry grade\" tests=\"\(transcripts.flatMap(\.steps).count + skipped.count)\" failures=\"\(failures)\" errors=\"\(skipped.count)\">\n"
        for grade in transcripts {
            let failed = grade.steps.filter { !$0.passed && $0.result != "skipped" }.count
            let skips = grade.steps.filter { $0.result == "skipped" }.count
            let time = Self.number(grade.steps.map(\.seconds).reduce(0, +))
            xml +=
                "  <testsuite name=\"\(escape("\(grade.learner): \(grade.lesson)"))\" tests=\"\(grade.steps.count)\" failures=\"\(failed)\" skipped=\"\(skips)\" time=\"\(time)\">\n"
            xml += "    <properties>\n"
            for (name, value) in [
                ("file", grade.file), ("learner", grade.learner), ("lesson", grade.lesson), ("score", Self.number(grade.score)),
                ("maximum", Self.number(grade.maximum)), ("integrity", grade.integrity), ("lessonSHA256", grade.lessonSHA256),
            ] {
                xml += "      <property name=\"\(name)\" value=\"\(escape(value))\"/>\n"
            }
            xml += "    </properties>\n"
            for step in grade.steps {
                xml +=
                    "    <testcase classname=\"\(escape(grade.lesson))\" name=\"\(escape("\(step.id): \(step.title)"))\" time=\"\(Self.number(step.seconds))\">"
                if step.result == "skipped" {
                    xml += "<skipped message=\"skipped with :skip\"/>"
                } else if !step.passed {
                    let message = step.message ?? (step.replayed == "failed" ? "done in the recording, not in the replay" : "not done")
                    xml += "<failure message=\"\(escape(message))\">\(escape(failureText(step, in: grade)))</failure>"
                }
                xml += "</testcase>\n"
            }
            xml += "  </testsuite>\n"
        }
        if !skipped.isEmpty {
            xml += "  <testsuite name=\"not graded\" tests=\"\(skipped.count)\" errors=\"\(skipped.count)\">\n"
            for file in skipped {
                xml += "    <testcase name=\"\(escape(file.file))\"><error message=\"\(escape(file.reason))\"/></testcase>\n"
            }
            xml += "  </testsuite>\n"
        }
        return xml + "</testsuites>\n"
    }

    func failureText(_ step: StepGrade, in grade: TranscriptGrade) -> String {
        var lines = ["\(Self.number(step.points))/\(Self.number(step.maximum)) points; attempts \(step.attempts), hints \(step.hints)"]
        if let message = step.message { lines.append(message) }
        lines += grade.differences.filter { $0.hasPrefix(step.id + ": ") }
        return lines.joined(separator: "\n")
    }

    static let tapEncoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return encoder
    }()

    /// TAP 14: a subtest per transcript, a test point per step, YAML diagnostics for the
    /// ones not earned; a file not graded is a failing test point with the reason.
    func tap() -> String {
        var lines = ["TAP version 14", "1..\(transcripts.count + skipped.count)"]
        func quoted(_ text: String) -> String {
            (try? Self.tapEncoder.encode(text)).map { String(decoding: $0, as: UTF8.self) } ?? "\"\""
        }
        func description(_ text: String) -> String {
            // `#` starts a directive and a leading number reads as the test's; neither may
            // appear unescaped in a description.
            text.replacing("\\", with: "\\\\").replacing("#", with: "\\#")
        }
        var number = 0
        for grade in transcripts {
            number += 1
            let name = description("\(grade.learner) \(grade.lesson) \(Self.number(grade.score))/\(Self.number(grade.maximum))")
            lines.append("# Subtest: \(name)")
            lines.append("    1..\(grade.steps.count)")
            for (index, step) in grade.steps.enumerated() {
                let label = description("\(step.id) \(Self.number(step.points))/\(Self.number(step.maximum))")
                if step.result == "skipped" {
                    lines.append("    ok \(index + 1) - \(label) # SKIP skipped with :skip")
                } else if step.passed {
                    lines.append("    ok \(index + 1) - \(label)")
                } else {
                    lines.append("    not ok \(index + 1) - \(label)")
                    lines.append("      ---")
                    lines.append("      message: \(quoted(step.message ?? "not done"))")
                    lines.append("      attempts: \(step.attempts)")
                    lines.append("      hints: \(step.hints)")
                    if step.replayed != nil { lines.append("      replayed: \(quoted(step.replayed ?? ""))") }
                    lines.append("      ...")
                }
            }
            let complete = grade.steps.allSatisfy { $0.passed || $0.result == "skipped" }
            lines.append("\(complete ? "ok" : "not ok") \(number) - \(name)")
        }
        for file in skipped {
            number += 1
            lines.append("not ok \(number) - \(description(file.file))")
            lines.append("  ---")
            lines.append("  message: \(quoted("not graded: " + file.reason))")
            lines.append("  ...")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Gradescope's `results.json`: the total, and a test per lesson step.
    func gradescope() -> String {
        struct Test: Encodable {
            var name: String
            var score: Double
            var max_score: Double
            var status: String
            var output: String
            var visibility = "visible"
        }
        struct Results: Encodable {
            var score: Double
            var output: String
            var visibility = "visible"
            var tests: [Test]
        }
        var tests: [Test] = []
        for grade in transcripts {
            for step in grade.steps {
                tests.append(
                    Test(
                        name: "\(grade.lesson): \(step.title)", score: step.points, max_score: step.maximum,
                        status: step.passed ? "passed" : "failed",
                        output: step.passed ? "done" : failureText(step, in: grade)))
            }
        }
        let total = (transcripts.map(\.score).reduce(0, +) * 100).rounded() / 100
        var output = transcripts.map { "\($0.lesson): \(Self.number($0.score))/\(Self.number($0.maximum))" }
        output += skipped.map { "not graded: \($0.file): \($0.reason)" }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        let results = Results(score: total, output: output.joined(separator: "\n"), tests: tests)
        return ((try? encoder.encode(results)).map { String(decoding: $0, as: UTF8.self) } ?? "{}") + "\n"
    }

    /// CSV (RFC 4180) for a spreadsheet: a row per learner × lesson, a column per step
    /// (`lesson/step`, the points earned; empty where the lesson is another).
    func csv() -> String {
        var columns: [String] = []
        for grade in transcripts {
            for step in grade.steps where !columns.contains("\(grade.lesson)/\(step.id)") { columns.append("\(grade.lesson)/\(step.id)") }
        }
        // Hand-written: the quoting rule is three lines, and Foundation has no CSV writer.
        func field(_ text: String) -> String {
            text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) ? "\"" + text.replacing("\"", with: "\"\"") + "\"" : text
        }
        var rows = [(["learner", "lesson", "score", "maximum", "integrity", "file"] + columns).map(field).joined(separator: ",")]
        for grade in transcripts {
            var cells = [grade.learner, grade.lesson, Self.number(grade.score), Self.number(grade.maximum), grade.integrity, grade.file]
            for column in columns {
                let step = grade.steps.first { "\(grade.lesson)/\($0.id)" == column }
                cells.append(step.map { Self.number($0.points) } ?? "")
            }
            rows.append(cells.map(field).joined(separator: ","))
        }
        return rows.joined(separator: "\r\n") + "\r\n"
    }

    /// The terminal's view: each transcript's score, then per lesson the mean and how many
    /// earned each step — where the class gets stuck.
    func table() -> String {
        var lines: [String] = []
        let learnerWidth = max(7, transcripts.map(\.learner.count).max() ?? 0)
        let lessonWidth = max(6, transcripts.map(\.lesson.count).max() ?? 0)
        lines.append("\("learner".padding(learnerWidth))  \("lesson".padding(lessonWidth))  score      steps  file")
        for grade in transcripts {
            let score = "\(Self.number(grade.score))/\(Self.number(grade.maximum))"
            let earned = grade.steps.filter(\.passed).count
            lines.append(
                "\(grade.learner.padding(learnerWidth))  \(grade.lesson.padding(lessonWidth))  \(score.padding(9))  \("\(earned)/\(grade.steps.count)".padding(5))  \(grade.file)"
                    + (grade.differences.isEmpty ? "" : "  (replay differs)"))
        }
        for lesson in Array(Set(transcripts.map(\.lesson))).sorted() {
            let grades = transcripts.filter { $0.lesson == lesson }
            let mean = grades.map(\.score).reduce(0, +) / Double(grades.count)
            lines.append("")
            lines.append(
                "\(lesson): \(grades.count) transcript\(grades.count == 1 ? "" : "s"), mean \(Self.number((mean * 100).rounded() / 100))/\(Self.number(grades[0].maximum))"
            )
            let stepIDs = grades[0].steps.map(\.id)
            let counts = stepIDs.map { id in grades.filter { $0.steps.first { $0.id == id }?.passed ?? false }.count }
            let lowest = counts.min() ?? 0
            for (id, count) in zip(stepIDs, counts) {
                lines.append("  \(id.padding(24)) \(count)/\(grades.count) done" + (count == lowest && lowest < grades.count ? "  ← where most get stuck" : ""))
            }
        }
        if !skipped.isEmpty {
            lines.append("")
            lines.append("Not graded:")
            for file in skipped { lines.append("  \(file.file): \(file.reason)") }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
