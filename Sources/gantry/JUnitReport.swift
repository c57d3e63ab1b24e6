import Lessons

/// JUnit XML for CI dashboards: a testsuite per lesson, a testcase per step.
enum JUnitReport {
    static func write(_ results: [LessonRunner.LessonResult], to path: String) throws {
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n"
        for result in results {
            let failures = result.steps.filter { !$0.passed }.count
            let skipped = if case .skipped = result.outcome { 1 } else { 0 }
            xml += "  <testsuite name=\"\(escape(result.lesson.id))\" tests=\"\(max(result.steps.count, skipped))\" failures=\"\(failures)\" skipped=\"\(skipped)\" time=\"\(Double(result.microseconds) / 1e6)\">\n"
            if case .skipped(let reason) = result.outcome {
                xml += "    <testcase name=\"\(escape(result.lesson.id))\"><skipped message=\"\(escape(reason))\"/></testcase>\n"
            }
            for step in result.steps {
                xml += "    <testcase classname=\"\(escape(result.lesson.id))\" name=\"\(escape(step.id))\">"
                for failure in step.failures {
                    let body = ([failure.message] + failure.diff).joined(separator: "\n")
                    xml += "<failure message=\"\(escape(failure.message))\">\(escape(body))</failure>"
                }
                xml += "</testcase>\n"
            }
            xml += "  </testsuite>\n"
        }
        xml += "</testsuites>\n"
        try writeFile(path, xml)
    }

    static func escape(_ text: String) -> String {
        var result = ""
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            default: result.append(character)
            }
        }
        return result
    }
}
