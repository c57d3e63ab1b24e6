internal import POSIXSupport
internal import Terminal

/// What a transcript says the learner did, in order, and what the session found: the input
/// replay sends to a fresh lab, and the record it is compared with. Read from Gantry's own
/// events (and the output between them); nothing here trusts the recorded verdicts, which
/// are only what `--verify` compares against.
public struct ReplayScript: Sendable {
    public enum Action: Sendable, Equatable {
        /// A line for the lab's shell (or the nested shell the lab is in by then).
        case line(Line)
        case hint, solve, reset, skip, check
        /// `:step N`, `:next`, `:previous`: the step the learner moved to (0-based).
        case move(Int)
    }

    public struct Line: Sendable, Equatable {
        public var text: String
        /// The transcript line of its `line` record (for messages).
        public var fileLine: Int
        /// The lines that finished it (`for …; do` … `done`).
        public var continuation: [String]
        /// What was typed into the program it started while it ran, in order, and when
        /// (seconds after the line was sent).
        public var keys: [String]
        public var keyOffsets: [Double] = []
        /// When it was sent (seconds into the recording).
        public var time: Double = 0
        /// Some of those keys were typed with echo off and are not in the file.
        public var redacted: Bool
        /// Some of its output was too much to record (`cut`).
        public var cut = false
        /// What it printed and how it ended, as recorded (nil when the session ended first).
        public var output: String
        public var status: Int32?
        public var milliseconds: Int?
        /// The step it was typed in (its id).
        public var step: String
    }

    /// What the recording says of one step.
    public struct StepRecord: Sendable, Equatable {
        public var done = false
        public var overtaken = false
        public var skipped = false
        public var hints = 0
        public var solved = false
        /// Commands counted as work on it.
        public var attempts = 0
        /// The last evaluation of its checks: by check line, whether it held and what was seen.
        public var expectations: [Int: (passed: Bool, seen: String)] = [:]
        /// The first expectation that failed in that evaluation: what, and what was seen.
        public var failing: String?
        /// Seconds between its first and last event.
        public var seconds: Double = 0
        var firstTime: Double?

        public init() {}

        public static func == (left: StepRecord, right: StepRecord) -> Bool {
            left.done == right.done && left.overtaken == right.overtaken && left.skipped == right.skipped && left.hints == right.hints
                && left.solved == right.solved && left.attempts == right.attempts
                && left.expectations.mapValues(\.passed) == right.expectations.mapValues(\.passed)
        }
    }

    /// The step the session opened at (0-based).
    public var startIndex: Int
    public var actions: [Action]
    /// By step id.
    public var steps: [String: StepRecord]

    public init(_ transcript: Transcript) {
        let stepIDs = transcript.header.gantry.lesson.steps
        var actions: [Action] = []
        var steps: [String: StepRecord] = [:]
        var startIndex: Int?
        var current = stepIDs.first ?? ""
        var open: Line?
        var pendingMeta = false
        var recordIndex = 0
        func close() {
            if let line = open { actions.append(.line(line)) }
            open = nil
        }
        for event in transcript.events {
            if event.code == "o", open != nil, open?.status == nil {
                open?.output += event.data
                continue
            }
            guard event.code == "g", recordIndex < transcript.records.count else { continue }
            let record = transcript.records[recordIndex]
            recordIndex += 1
            if let step = record.step, stepIDs.contains(step) {
                var stepRecord = steps[step, default: StepRecord()]
                stepRecord.firstTime = stepRecord.firstTime ?? event.time
                stepRecord.seconds = event.time - (stepRecord.firstTime ?? event.time)
                steps[step] = stepRecord
            }
            switch record.kind {
            case .step:
                guard let index = record.index else { break }
                if startIndex == nil { startIndex = index }
                if pendingMeta {
                    close()
                    actions.append(.move(index))
                }
                pendingMeta = false
                if let step = record.step { current = step }
            case .line:
                let text = record.text ?? ""
                switch record.target {
                case "continuation": open?.continuation.append(text)
                case "gantry":
                    close()
                    // What the meta-command did follows as its own record (hint, skip, a
                    // step opened); a `step` right after it is a move the learner made.
                    pendingMeta = true
                default:
                    close()
                    pendingMeta = false
                    open = Line(
                        text: text, fileLine: event.line, continuation: [], keys: [], redacted: false, output: "", status: nil,
                        milliseconds: nil, step: current)
                    open?.time = event.time
                }
            case .keys:
                open?.keys.append(record.text ?? "")
                let sent = open?.time ?? event.time
                open?.keyOffsets.append(event.time - sent)
                if record.redacted == true { open?.redacted = true }
            case .status:
                open?.status = record.status
                open?.milliseconds = record.milliseconds
            case .hint:
                close()
                actions.append(.hint)
                if let step = record.step { steps[step]?.hints += 1 }
            case .solve:
                close()
                actions.append(.solve)
                if let step = record.step { steps[step]?.solved = true }
            case .reset:
                close()
                actions.append(.reset)
                pendingMeta = false
            case .skip:
                close()
                actions.append(.skip)
                pendingMeta = false
                if let step = record.step { steps[step]?.skipped = true }
            case .check:
                if record.purpose == "report" && pendingMeta {
                    close()
                    actions.append(.check)
                }
                if let step = record.step {
                    var expectations: [Int: (passed: Bool, seen: String)] = [:]
                    for expectation in record.expectations ?? [] { expectations[expectation.line] = (expectation.passed, expectation.seen) }
                    steps[step]?.expectations = expectations
                    steps[step]?.failing = (record.expectations ?? []).first { !$0.passed }.map { "\($0.expectation): \($0.seen)" }
                }
            case .done:
                if let step = record.step {
                    steps[step]?.done = true
                    steps[step]?.overtaken = record.overtaken ?? false
                }
            case .cut:
                open?.cut = true
            case .work:
                if let step = record.step { steps[step]?.attempts += record.number ?? 0 }
            case .end, .seal:
                close()
            default:
                break
            }
        }
        close()
        self.startIndex = startIndex ?? 0
        self.actions = actions
        self.steps = steps
    }
}

extension ReplayScript {
    /// Output as two runs of the same command can be compared: escapes, carriage returns,
    /// blank lines and trailing spaces gone; numbers and MAC addresses masked (a pid, a
    /// time, an interface index differ between any two labs, and checks judge the lab's
    /// state, not these).
    public static func comparable(_ output: String) -> [String] {
        plain(output).map { line in
            var masked = ""
            var inNumber = false
            for character in line {
                if character.isASCII && character.isNumber {
                    if !inNumber { masked.append("#") }
                    inNumber = true
                } else {
                    inNumber = false
                    masked.append(character)
                }
            }
            return Self.maskingHex(masked).trimmedEnd
        }.filter { !$0.isEmpty }
    }

    /// The lines a terminal showed: escapes and carriage returns gone.
    public static func plain(_ output: String) -> [String] {
        // By scalars: "\r\n" is one Character to Swift, and would hide the line break.
        output.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map { scalars in
            String(String.UnicodeScalarView(scalars)).withoutTerminalEscapes
        }
    }

    /// `5e:2a:01:…` and other colon-separated hex groups (MAC addresses, IPv6) after the
    /// numbers were masked: runs of `#`, hex letters and colons with at least two colons.
    static func maskingHex(_ line: String) -> String {
        var result = ""
        var token = ""
        func flush() {
            let colons = token.filter { $0 == ":" }.count
            result += colons >= 2 && token.contains(where: { $0 != ":" }) ? "<hex>" : token
            token = ""
        }
        for character in line {
            if character == "#" || character == ":" || ("a"..."f").contains(character) {
                token.append(character)
            } else {
                flush()
                result.append(character)
            }
        }
        flush()
        return result
    }
}
