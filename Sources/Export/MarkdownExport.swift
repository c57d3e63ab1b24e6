internal import Grading
internal import Lessons
internal import POSIXSupport

/// A session as a blog post, like the course notes it started from: front matter a
/// static-site blog reads, the lesson's introduction, then per step its first line of prose,
/// what was typed and printed (real text, not screenshots), the verdict and the hints used.
public enum MarkdownExport {
    /// Outputs longer than this are folded into `<details>`.
    static let foldAfter = 20

    public static func write(_ notes: SessionNotes) -> String {
        let korean = notes.language == "ko"
        func words(_ english: String, _ hangul: String) -> String { korean ? hangul : english }
        var lines = [
            "---",
            "title: \(yamlString(notes.title))",
            "date: \(notes.date)",
            "category: Gantry",
            "tags: [gantry, \(notes.lesson.id)]",
            "draft: false",
            "---",
            "",
            "# \(notes.title)",
            "",
        ]
        let introduction = korean ? notes.lesson.introductionTranslations["ko"] ?? notes.lesson.introduction : notes.lesson.introduction
        let paragraphs = introduction.filter { !$0.hasPrefix("# ") }.joined(separator: "\n").trimmed
        if !paragraphs.isEmpty { lines += [paragraphs, ""] }
        let done = notes.steps.filter(\.done).count
        var summary = words(
            "Recorded with Gantry by \(notes.learner) on \(notes.date.prefix(10)): \(done) of \(notes.steps.count) steps done",
            "Gantry로 기록 (\(notes.learner), \(notes.date.prefix(10))): \(notes.steps.count)단계 중 \(done)단계 완료")
        if let grade = notes.grade {
            summary += words(
                ", \(GradeReport.number(grade.score))/\(GradeReport.number(grade.maximum)) points",
                ", \(GradeReport.number(grade.score))/\(GradeReport.number(grade.maximum))점")
        }
        lines += ["*" + escapeInline(summary) + ".*", ""]

        for step in notes.steps {
            lines.append("## " + words("Step \(step.index + 1): ", "\(step.index + 1)단계: ") + step.step.title(in: notes.language))
            lines.append("")
            let paragraph = step.step.prose(in: notes.language).drop { $0.trimmed.isEmpty }
                .prefix { !$0.trimmed.isEmpty }
            if !paragraph.isEmpty { lines += [paragraph.joined(separator: "\n"), ""] }
            var depth = 1
            for command in step.commands {
                if command.depth != depth {
                    lines += [
                        command.depth > 1
                            ? "*" + words("In the shell started inside the lab (depth \(command.depth)):", "랩 안에서 시작한 셸에서 (깊이 \(command.depth)):") + "*"
                            : "*" + words("Back in the lab's own shell:", "랩의 셸로 돌아와서:") + "*",
                        "",
                    ]
                    depth = command.depth
                }
                lines += block(command, korean: korean)
            }
            if step.commands.isEmpty { lines += ["*" + words("Nothing was typed in this step.", "이 단계에서는 입력한 것이 없습니다.") + "*", ""] }
            if step.done {
                lines.append("✓ " + words("Done", "완료") + (step.verdict.map { ": " + escapeInline($0) } ?? "") + ".")
            } else if step.skipped {
                lines.append("↷ " + words("Skipped.", "건너뜀."))
            } else {
                lines.append("✗ " + words("Not done", "완료하지 못함") + (step.verdict.map { ": " + escapeInline($0) } ?? "") + ".")
            }
            lines.append("")
            for (index, hint) in step.hints.enumerated() {
                lines += ["> " + words("Hint \(index + 1) used: ", "사용한 힌트 \(index + 1): ") + hint.replacing("\n", with: " "), ""]
            }
        }
        return lines.joined(separator: "\n")
    }

    /// One command and its output as a `console` block, folded when long. The fence is longer
    /// than any run of backticks in the text, so nothing the lab printed can close it.
    static func block(_ command: SessionNotes.Command, korean: Bool) -> [String] {
        let typed = [command.prompt + " " + command.lines[0]] + command.lines.dropFirst().map { "> " + $0 }
        let body = typed + command.output
        let longest = body.map { line in line.split(separator: "`", omittingEmptySubsequences: false).count - 1 }.max() ?? 0
        let fence = String(repeating: "`", count: max(3, longest + 1))
        let code = [fence + "console"] + body + [fence, ""]
        guard command.output.count > foldAfter else { return code }
        let summary = korean ? "출력 \(command.output.count)줄" : "\(command.output.count) lines of output"
        return ["<details><summary><code>\(html(command.lines[0]))</code> — \(summary)</summary>", ""] + code + ["</details>", ""]
    }

    static func yamlString(_ text: String) -> String {
        "\"" + text.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"") + "\""
    }

    /// Text a renderer must not read as markup (a `*` in a check's sentence).
    static func escapeInline(_ text: String) -> String {
        var result = ""
        for character in text {
            if "\\`*_[]<>#|".contains(character) { result.append("\\") }
            result.append(character)
        }
        return result
    }

    static func html(_ text: String) -> String { JUnitReport.escape(text) }
}
