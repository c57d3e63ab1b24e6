public import Grading
public import Lessons
internal import POSIXSupport
public import Transcripts

/// A recorded session as notes: per step, the commands the learner really typed with the
/// output the terminal showed (Gantry's prompt and colours gone), where they went, the
/// check's verdict and the hints used. Markdown and the web page are both written from it.
public struct SessionNotes: Sendable {
    public struct Command: Sendable {
        /// The lab shell's own prompt (`root@dockeredu:~#`), as shown.
        public var prompt: String
        /// The line, and the lines that finished it.
        public var lines: [String]
        /// What it printed, line by line, as the terminal showed it.
        public var output: [String]
        /// 1: the lab's shell; 2 and more: a shell started inside it.
        public var depth: Int
        public var status: Int32?
        /// Seconds into the recording when it was typed (a chapter's place in the player).
        public var time: Double
    }

    public struct StepNotes: Sendable {
        public var index: Int
        public var step: Step
        public var commands: [Command] = []
        public var done = false
        public var skipped = false
        /// Why it was done (the first check that held), or what failed last.
        public var verdict: String?
        /// The hints shown, in the learner's language.
        public var hints: [String] = []
        /// Seconds into the recording when the step opened.
        public var start: Double?
    }

    public var lesson: Lesson
    public var transcript: Transcript
    public var grade: TranscriptGrade?
    public var language: String
    public var steps: [StepNotes]

    public init(transcript: Transcript, lesson: Lesson, grade: TranscriptGrade?, language: String) {
        self.lesson = lesson
        self.transcript = transcript
        self.grade = grade
        self.language = language
        var steps = lesson.steps.enumerated().map { StepNotes(index: $0.offset, step: $0.element) }
        var current = 0
        var lastShown = ""
        var open: Command?
        var records = transcript.records[...]
        func close() {
            if let command = open { steps[current].commands.append(command) }
            open = nil
        }
        for event in transcript.events {
            if event.code == "o" {
                if open != nil && open?.status == nil {
                    open?.output.append(contentsOf: ReplayScript.plain(event.data))
                } else {
                    lastShown = event.data
                }
                continue
            }
            guard event.code == "g", let record = records.popFirst() else { continue }
            switch record.kind {
            case .step:
                close()
                if let index = record.index, steps.indices.contains(index) {
                    current = index
                    if steps[index].start == nil { steps[index].start = event.time }
                }
            case .line where record.target == "continuation":
                open?.lines.append(record.text ?? "")
            case .line where record.target == "gantry":
                close()
            case .line:
                close()
                let text = record.text ?? ""
                open = Command(
                    prompt: Self.prompt(before: text, in: lastShown), lines: [text], output: [], depth: record.depth ?? 1, status: nil,
                    time: event.time)
            case .status:
                open?.status = record.status
                if let command = open {
                    open?.output = Self.trimmed(command.output)
                    close()
                }
            case .done:
                if let index = steps.firstIndex(where: { $0.step.id == record.step }) {
                    steps[index].done = true
                    steps[index].verdict = record.text ?? steps[index].verdict
                }
            case .skip:
                if let index = steps.firstIndex(where: { $0.step.id == record.step }) { steps[index].skipped = true }
            case .check:
                if let index = steps.firstIndex(where: { $0.step.id == record.step }), !steps[index].done,
                    let failed = record.expectations?.first(where: { !$0.passed })
                {
                    steps[index].verdict = "\(failed.expectation): \(failed.seen)"
                }
            case .hint:
                if let index = steps.firstIndex(where: { $0.step.id == record.step }), let hint = record.index {
                    let hints = steps[index].step.hints(in: language)
                    if hints.indices.contains(hint) { steps[index].hints.append(Self.hintText(hints[hint])) }
                }
            case .end, .seal:
                close()
            default:
                break
            }
        }
        close()
        self.steps = steps
    }

    /// The shell's prompt before `command` on the last line Gantry showed (`[uts 1/3]
    /// ✗1 root@dockeredu:~# hostname`): without Gantry's part and the command.
    static func prompt(before command: String, in shown: String) -> String {
        guard var line = ReplayScript.plain(shown).last(where: { !$0.isEmpty }) else { return "$" }
        if line.hasSuffix(command) { line.removeLast(command.count) }
        if line.hasPrefix("["), let close = line.firstIndex(of: "]") { line = String(line[line.index(after: close)...]) }
        line = String(line.drop { $0 == " " })
        if line.hasPrefix("✗"), let space = line.firstIndex(of: " ") { line = String(line[line.index(after: space)...]) }
        let prompt = line.trimmed
        return prompt.isEmpty ? "$" : prompt
    }

    /// Output without Gantry's marks (`→ kill 4242`, `⏎`) and the blank lines at its ends.
    static func trimmed(_ lines: [String]) -> [String] {
        var lines = lines.filter { $0 != "⏎" && !$0.hasPrefix("→ ") && !$0.hasPrefix("[gantry: ") }
        while lines.first?.trimmed.isEmpty == true { lines.removeFirst() }
        while lines.last?.trimmed.isEmpty == true { lines.removeLast() }
        return lines
    }

    static func hintText(_ hint: String) -> String {
        hint.replacing("**Hint:**", with: "").replacing("**힌트:**", with: "").trimmed
    }

    public var title: String { lesson.title(in: language) }
    public var learner: String { transcript.header.gantry.learner }

    /// `2026-12-01 21:54:03 +0000`, as static-site blogs date a post.
    public var date: String {
        let seconds = transcript.header.timestamp
        let days = seconds / 86_400, rest = seconds % 86_400
        // Civil date from days since 1970 (Howard Hinnant's algorithm): no Foundation needed.
        let z = days + 719_468, era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097, yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1, month = mp < 10 ? mp + 3 : mp - 9, year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(year)-\(two(month))-\(two(day)) \(two(rest / 3600)):\(two(rest / 60 % 60)):\(two(rest % 60)) +0000"
    }
}
