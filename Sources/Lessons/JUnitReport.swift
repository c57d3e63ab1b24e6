/// JUnit XML for CI dashboards: a testsuite per lesson, a testcase per step, as Jenkins,
/// GitLab and junitparser read it.
public enum JUnitReport {
    public static func xml(_ results: [LessonRunner.LessonResult]) -> String {
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n"
        for result in results {
            let failures = result.steps.filter { !$0.passed }.count
            let skipped = if case .skipped = result.outcome { 1 } else { 0 }
            xml +=
                "  <testsuite name=\"\(escape(result.lesson.id))\" tests=\"\(max(result.steps.count, skipped))\" failures=\"\(failures)\" skipped=\"\(skipped)\" time=\"\(Double(result.microseconds) / 1e6)\">\n"
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
        return xml + "</testsuites>\n"
    }

    /// Text as XML character data or an attribute value. Written here rather than taken
    /// from FoundationXML, which would load libxml2 into every `gantry` start (the engine's
    /// `exec` included) for one report. Besides the five markup characters, the control
    /// characters XML 1.0 forbids even as references (a lab's output carries ESC and
    /// backspace) are shown as `\u{1b}`, so the file always parses.
    public static func escape(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&apos;"
            case "\n", "\t": result.unicodeScalars.append(scalar)
            case "\r": result += "&#13;"
            default:
                if scalar.value < 0x20 || (0xFFFE...0xFFFF).contains(scalar.value) {
                    result += "\\u{\(String(scalar.value, radix: 16))}"
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result
    }
}
