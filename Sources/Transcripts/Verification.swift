public import Lessons
internal import POSIXSupport

/// What `replay --verify` found: for each step, what the recording says and what the re-run
/// found, and each difference in words. Outputs are compared as `ReplayScript.comparable`
/// has them (pids, times, MAC addresses masked); the lesson's checks judge the lab.
public struct Verification: Sendable {
    public struct Step: Sendable {
        public var id: String
        public var title: String
        public var recorded: ReplayScript.StepRecord
        public var replayed: ReplayScript.StepRecord
        public var differences: [String]
    }

    public var steps: [Step]
    /// Said of the whole file (a redacted input that could not be typed again).
    public var notes: [String]
    public var agrees: Bool { steps.allSatisfy(\.differences.isEmpty) && notes.isEmpty }

    public init(_ replayer: Replayer) {
        let lesson = replayer.lesson
        var notes: [String] = []
        steps = lesson.steps.map { step in
            let recorded = replayer.script.steps[step.id] ?? .init()
            let replayed = replayer.steps[step.id] ?? .init()
            var differences: [String] = []
            if recorded.done != replayed.done {
                differences.append(recorded.done ? "recorded done, not done in the replay" : "done in the replay, recorded not done")
            }
            if recorded.skipped != replayed.skipped { differences.append("skipped in one and not the other") }
            let checks = step.checks.flatMap(\.checks)
            for line in Set(recorded.expectations.keys).intersection(replayed.expectations.keys).sorted() {
                let was = recorded.expectations[line]!, now = replayed.expectations[line]!
                guard was.passed != now.passed else { continue }
                let text = checks.first { $0.line == line }?.text ?? "line \(line)"
                differences.append(
                    "check `\(text)` (\(lesson.file):\(line)) \(was.passed ? "held" : "failed") in the recording, "
                        + "\(now.passed ? "held" : "failed") in the replay (\(now.seen))")
            }
            for (line, result) in replayer.lines where line.step == step.id {
                let shown = ([line.text] + line.continuation).joined(separator: "; ")
                guard let result else {
                    if line.status != nil { differences.append("`\(shown)` did not finish in the replay (line \(line.fileLine))") }
                    continue
                }
                if let status = line.status, status != result.status {
                    differences.append("`\(shown)` exited \(status) in the recording, \(result.status) in the replay (line \(line.fileLine))")
                }
                if line.redacted {
                    notes.append("`\(shown)` was typed into with echo off (line \(line.fileLine)): what was typed is not in the file")
                    continue
                }
                // A program that held the terminal draws a screen that differs in any two
                // runs (`top`); its keys were replayed, its drawing is not compared.
                // Output left out of the recording (a flood) cannot be compared either.
                guard line.keys.isEmpty, line.status != nil, !line.cut else { continue }
                let substituted = "→ " + result.command
                // A line said twice in a row is one difference too many: the kernel picks which
                // processes its OOM killer ends, and each one the shell saw die says `Killed`.
                // bash's job notices come whenever it next looks at its jobs: after one command
                // in the recording, after another in the replay. They are not compared.
                let was = Self.collapsed(
                    Self.withoutJobNotices(ReplayScript.comparable(line.output).filter { $0 != "⏎" && $0 != ReplayScript.comparable(substituted).first }))
                let now = Self.collapsed(Self.withoutJobNotices(ReplayScript.comparable(result.output)))
                if was != now && !Self.bothMatchTheLesson(line, recorded: line.output, replayed: result.output, in: step) {
                    let index = zip(was, now).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(was.count, now.count)
                    let before = index < was.count ? "'\(was[index])'" : "nothing", after = index < now.count ? "'\(now[index])'" : "nothing"
                    differences.append(
                        "`\(shown)` printed something else (line \(line.fileLine)): output line \(index + 1) was \(before) in the recording, \(after) in the replay"
                    )
                }
            }
            return Step(id: step.id, title: step.title, recorded: recorded, replayed: replayed, differences: differences)
        }
        self.notes = notes
    }

    /// Where the line is one of the step's own commands, the lesson's expected output (its
    /// placeholders, `(re)` and `...` lines) is the better judge: when both outputs match it,
    /// they do not differ in anything the lesson cares about.
    static func bothMatchTheLesson(_ line: ReplayScript.Line, recorded: String, replayed: String, in step: Lessons.Step) -> Bool {
        let typed = ([line.text] + line.continuation).joined(separator: "\n")
        guard let command = step.console.flatMap(\.commands).first(where: { $0.command == typed }), !command.expected.isEmpty else {
            return false
        }
        var matcher = OutputMatcher()
        let cleaned = ReplayScript.plain(recorded).filter { $0 != "⏎" && !$0.hasPrefix("→ ") }
        guard matcher.match(cleaned.joined(separator: "\n"), expected: command.expected) == nil else { return false }
        var again = OutputMatcher()
        return again.match(replayed, expected: command.expected) == nil
    }

    /// Whether a line (numbers masked) is one of bash's job notices: `[#]+  Terminated  …`,
    /// `[#]-  Done  …`, `[#]   Killed  …`. (`[#] #`, what `&` prints, is output.)
    static func isJobNotice(_ line: String) -> Bool {
        guard line.hasPrefix("[#]") else { return false }
        var rest = line.dropFirst(3)
        if rest.first == "+" || rest.first == "-" { rest = rest.dropFirst() }
        guard rest.first == " " else { return false }
        let state = rest.drop { $0 == " " }
        return ["Done", "Terminated", "Killed", "Stopped", "Exit #", "Running", "Hangup", "Interrupt", "Quit", "Aborted", "Broken pipe", "Segmentation fault"]
            .contains { state.hasPrefix($0) }
    }

    /// Lines without bash's job notices. A notice names the job's command as bash prints it
    /// again, so a loop's notice runs on to its `done` (`[#]+  Terminated  while :; do`,
    /// `    :;`, `done`).
    static func withoutJobNotices(_ lines: [String]) -> [String] {
        var kept: [String] = []
        var inCompound = false
        for line in lines {
            if inCompound {
                let word = line.trimmed.split(separator: " ").first.map(String.init) ?? ""
                if ["done", "fi", "esac", "}"].contains(word) { inCompound = false }
                continue
            }
            if isJobNotice(line) {
                inCompound = [" do", " then", " in", "{"].contains { line.hasSuffix($0) }
                continue
            }
            kept.append(line)
        }
        return kept
    }

    /// Lines without their repeats in a row (`uniq`).
    static func collapsed(_ lines: [String]) -> [String] {
        var result: [String] = []
        for line in lines where line != result.last { result.append(line) }
        return result
    }

    /// The per-step table `replay --verify` prints.
    public var table: [String] {
        var lines = ["step                      recorded  replayed  differs"]
        for step in steps {
            let name = step.id.count > 24 ? String(step.id.prefix(23)) + "…" : step.id.padding(24)
            let was = step.recorded.done ? "✓" : step.recorded.skipped ? "skip" : "✗"
            let now = step.replayed.done ? "✓" : step.replayed.skipped ? "skip" : "✗"
            lines.append(
                "\(name)  \(was.padding(8))  \(now.padding(8))  \(step.differences.isEmpty ? "" : "yes")"
            )
            for difference in step.differences { lines.append("    " + difference) }
        }
        for note in notes { lines.append("note: " + note) }
        return lines
    }
}
