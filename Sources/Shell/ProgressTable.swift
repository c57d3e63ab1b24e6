public import Lab
public import Lessons
internal import POSIXSupport
internal import Terminal

/// Progress as tables, for `:lessons`, `:progress` and `gantry progress`.
public struct ProgressTable {
    let style: TextStyle

    public init(colors: Bool, width: Int = 100) { style = TextStyle(colors: colors, width: width) }
    init(style: TextStyle) { self.style = style }

    /// A line per lesson: steps done, and whether this host can run it.
    func lessons(_ lessons: [Lesson], progress: Progress, current: String?, support: HostSupport) -> [String] {
        let rows = lessons.map { lesson -> [String] in
            let done = progress.stepsDone(in: lesson)
            let state = support.missingRequirements(lesson) ?? (done == lesson.steps.count ? "complete" : done > 0 ? "started" : "")
            return [lesson.id == current ? "▶" : " ", lesson.id, lesson.title(in: progress.language), "\(done)/\(lesson.steps.count)", state]
        }
        return table(header: ["", "lesson", "title", "done", ""], rows: rows)
    }

    /// A line per step of every lesson the learner has started.
    public func steps(_ lessons: [Lesson], progress: Progress) -> [String] {
        var rows: [[String]] = []
        for lesson in lessons where progress.lessons[lesson.id] != nil {
            for (index, step) in lesson.steps.enumerated() {
                let record = progress[lesson.id, step.id]
                let state = record.done ? "✓ done" : record.skipped ? "skipped" : record.attempts > 0 ? "started" : "·"
                rows.append([
                    index == 0 ? lesson.id : "", "\(index + 1). \(step.title)", state, "\(record.attempts)",
                    "\(record.hintsUsed)", record.solved ? "yes" : "", Self.duration(record.seconds),
                ])
            }
        }
        if rows.isEmpty { return ["No progress yet: `gantry` opens the first lesson."] }
        return table(header: ["lesson", "step", "state", "attempts", "hints", "solved", "time"], rows: rows)
    }

    /// `42 s`, `3 min`, `1 h 5 min`.
    public static func duration(_ seconds: Int) -> String {
        if seconds < 60 { return "\(seconds) s" }
        if seconds < 3600 { return "\(seconds / 60) min" }
        return "\(seconds / 3600) h \(seconds % 3600 / 60) min"
    }

    /// Columns padded by display width (titles may be Korean), long cells cut to fit.
    func table(header: [String], rows: [[String]]) -> [String] {
        let all = [header] + rows
        var widths = header.indices.map { column in all.map { displayWidth($0[column]) }.max() ?? 0 }
        let total = widths.reduce(0, +) + 2 * (widths.count - 1)
        // Too wide for the terminal: the widest column gives up a column at a time (down
        // to 8), so a table fits 80 columns however long a title or a reason is.
        var excess = total - style.width
        while excess > 0, let widest = widths.indices.max(by: { widths[$0] < widths[$1] }), widths[widest] > 8 {
            widths[widest] -= 1
            excess -= 1
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { column, cell in
                let fitted = fit(cell, widths[column])
                return column == cells.count - 1 ? fitted : fitted + String(repeating: " ", count: widths[column] - displayWidth(fitted))
            }.joined(separator: "  ").trimmingTrailingWhitespace
        }
        return [style.bold(line(header))] + rows.map(line)
    }

    func fit(_ text: String, _ width: Int) -> String {
        guard displayWidth(text) > width else { return text }
        var result = ""
        for character in text {
            if displayWidth(result + String(character)) > width - 1 { break }
            result.append(character)
        }
        return result + "…"
    }
}
