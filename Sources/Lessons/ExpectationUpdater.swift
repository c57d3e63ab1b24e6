/// `gantry test --update`: rewrites the expected output of commands whose output did not
/// match with what they actually printed, as `cram -i` does. Lines that still match
/// (placeholders, regexes) are kept as written; only mismatching commands change.
public enum ExpectationUpdater {
    /// The lesson text with new expectations, or nil when nothing needs to change.
    public static func update(_ text: String, lesson: Lesson, steps: [LessonRunner.StepResult]) -> String? {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var observed: [Int: (output: String, status: Int32)] = [:]
        for step in steps { observed.merge(step.observed) { a, _ in a } }
        var changes: [(range: Range<Int>, replacement: [String])] = []
        for step in lesson.steps {
            for block in step.console {
                for command in block.commands {
                    guard let (output, status) = observed[command.line] else { continue }
                    var matcher = OutputMatcher()
                    let statusMatches = status == (command.expectedStatus ?? 0)
                    if matcher.match(output, expected: command.expected) == nil && statusMatches { continue }
                    // The command's own lines (with `> ` continuations), then its expectations.
                    let first = command.line - 1 + command.command.split(separator: "\n", omittingEmptySubsequences: false).count
                    var end = first
                    while end < lines.count, !lines[end].hasPrefix("$ "), !lines[end].hasPrefix("```") { end += 1 }
                    changes.append((first..<end, expectation(for: output, status: status)))
                }
            }
        }
        guard !changes.isEmpty else { return nil }
        for change in changes.sorted(by: { $0.range.lowerBound > $1.range.lowerBound }) {
            lines.replaceSubrange(change.range, with: change.replacement)
        }
        return lines.joined(separator: "\n")
    }

    /// Output lines as cram writes them: literal, or ` (esc)` for control characters and
    /// trailing spaces, ` (no-eol)` on a last line without newline, `[N]` for a non-zero status.
    static func expectation(for output: String, status: Int32) -> [String] {
        var lines = output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let endsWithNewline = lines.last == ""
        if endsWithNewline { lines.removeLast() }
        var result = lines.map { line -> String in
            let needsEscape =
                line.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7f } || line.hasSuffix(" ")
                || line.hasSuffix(" (re)") || line.hasSuffix(" (glob)") || line.hasPrefix("$ ") || (line.hasPrefix("[") && line.hasSuffix("]"))
            guard needsEscape else { return line }
            var escaped = ""
            for scalar in line.unicodeScalars {
                switch scalar.value {
                case 0x09: escaped += "\\t"
                case 0x0d: escaped += "\\r"
                case 0x5c: escaped += "\\\\"
                case 0..<0x20, 0x7f:
                    let hex = String(scalar.value, radix: 16)
                    escaped += "\\x" + (hex.count == 1 ? "0" : "") + hex
                default: escaped.unicodeScalars.append(scalar)
                }
            }
            return escaped + " (esc)"
        }
        if !endsWithNewline, let last = result.popLast() { result.append(last + " (no-eol)") }
        if status != 0 { result.append("[\(status)]") }
        return result
    }
}
