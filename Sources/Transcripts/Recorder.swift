internal import Glibc
public import Lessons
internal import POSIXSupport

/// Records a session into transcripts: an observer of its events. One file per lesson
/// visit. If a file cannot be written (a full disk, a directory that is not writable), the
/// learner is told once and the session goes on unrecorded: never a lost session because
/// the recorder failed.
public final class Recorder: SessionObserver {
    public struct Settings: Sendable {
        /// Where transcripts go (`$XDG_DATA_HOME/gantry/transcripts`).
        public var directory: String
        /// `--transcript FILE`: the first visit's file (later ones get `.2`, `.3` before `.cast`).
        public var file: String?
        public var learner: String
        public var host: TranscriptHeader.HostFacts
        public var gantryVersion: String
        public var terminal: String?

        public init(
            directory: String, file: String?, learner: String, host: TranscriptHeader.HostFacts, gantryVersion: String,
            terminal: String?
        ) {
            self.directory = directory
            self.file = file
            self.learner = learner
            self.host = host
            self.gantryVersion = gantryVersion
            self.terminal = terminal
        }
    }

    let settings: Settings
    /// The terminal's size now, for each header.
    let size: () -> (columns: Int, rows: Int)
    /// How the learner hears that recording stopped.
    let tell: (String) -> Void
    private var writer: TranscriptWriter?
    private var failed = false
    private var visits = 0
    /// Output before the first lesson opened, for the first file.
    private var early = ""
    /// Output recorded since the learner last did something, and output left out: a
    /// command that floods the terminal (`cat /dev/zero`, `yes &`) is recorded up to
    /// `outputLimit` bytes per span between the learner's actions, and the rest counted.
    private var spanBytes = 0
    private var droppedBytes = 0
    public static let outputLimit = 512 << 10
    /// Every file written, in order.
    public private(set) var files: [String] = []

    public init(settings: Settings, size: @escaping () -> (columns: Int, rows: Int), tell: @escaping (String) -> Void) {
        self.settings = settings
        self.size = size
        self.tell = tell
    }

    public func observe(_ event: SessionEvent) {
        guard !failed else { return }
        if case .lessonOpened(let lesson) = event { return open(lesson) }
        guard let writer else {
            if case .output(let text) = event, early.utf8.count < 64 << 10 { early += text }
            return
        }
        do throws(TranscriptError) {
            switch event {
            case .lineSent, .keystrokes, .commandEnded, .ended: try noteDropped(writer)
            default: break
            }
            switch event {
            case .lessonOpened: break
            case .output(let text):
                let shown = Self.asDisplayed(text)
                guard spanBytes + shown.utf8.count <= Self.outputLimit else {
                    droppedBytes += shown.utf8.count
                    return
                }
                spanBytes += shown.utf8.count
                try writer.event("o", shown)
            case .lineSent(let text, let target):
                try writer.event("i", text + "\n")
                var record = GantryRecord(kind: .line)
                record.text = text
                switch target {
                case .labShell: record.target = "shell"
                case .nestedShell(let depth): (record.target, record.depth) = ("nested", depth)
                case .program: record.target = "program"
                case .gantry: record.target = "gantry"
                case .continuation: record.target = "continuation"
                }
                try writer.record(record)
            case .keystrokes(let text, let redacted):
                let shown = redacted ? String(repeating: "*", count: text.count) : text
                try writer.event("i", shown)
                var record = GantryRecord(kind: .keys)
                record.text = shown
                record.redacted = redacted ? true : nil
                try writer.record(record)
            case .commandEnded(let status, let milliseconds):
                var record = GantryRecord(kind: .status)
                (record.status, record.milliseconds) = (status, milliseconds)
                try writer.record(record)
            case .stepOpened(let index, let id, let title):
                try writer.event("m", "step \(index + 1): \(title)")
                var record = GantryRecord(kind: .step)
                (record.index, record.step, record.title) = (index, id, title)
                try writer.record(record)
            case .checkEvaluated(let evaluation):
                var record = GantryRecord(kind: .check)
                (record.step, record.passed, record.purpose, record.number) = (
                    evaluation.step, evaluation.passed, evaluation.purpose.rawValue, evaluation.commandsRun
                )
                record.expectations = evaluation.expectations.map {
                    GantryRecord.Expectation(line: $0.line, expectation: $0.expectation.en, passed: $0.passed, seen: $0.seen.en)
                }
                try writer.record(record)
            case .hintShown(let step, let number, _, let hint):
                var record = GantryRecord(kind: .hint)
                (record.step, record.number, record.index) = (step, number, hint)
                try writer.record(record)
            case .solutionShown(let step, let commands):
                var record = Self.about(.solve, step)
                record.commands = commands
                try writer.record(record)
            case .reset(let step): try writer.record(Self.about(.reset, step))
            case .skipped(let step): try writer.record(Self.about(.skip, step))
            case .stepDone(let step, let index, let overtaken, let why):
                var record = Self.about(.done, step)
                (record.index, record.overtaken, record.text) = (index, overtaken, why?.en)
                try writer.record(record)
            case .labReady(let ready):
                var record = GantryRecord(kind: .lab)
                (record.milliseconds, record.text) = (ready.milliseconds, ready.hostname)
                try writer.record(record)
            case .cannotRun(_, let reason), .labFailed(let reason):
                var record = GantryRecord(kind: .fail)
                record.reason = reason
                try writer.record(record)
            case .preparing(let index, let commands):
                var record = GantryRecord(kind: .prepare)
                (record.index, record.number) = (index, commands)
                try writer.record(record)
            case .shellRestarted(let reason, let failure):
                var record = GantryRecord(kind: .restart)
                record.reason = failure ?? reason
                record.passed = failure == nil
                try writer.record(record)
            case .worked(let step, let commands):
                var record = Self.about(.work, step)
                record.number = commands
                try writer.record(record)
            case .wrongTurn(let step, let message, _):
                var record = Self.about(.wrong, step)
                record.text = message.en
                try writer.record(record)
            case .measuring: try writer.record(GantryRecord(kind: .measure))
            case .lessonComplete(let id):
                var record = GantryRecord(kind: .complete)
                record.text = id
                try writer.record(record)
            case .substituted(let line):
                var record = GantryRecord(kind: .substituted)
                record.text = line
                try writer.record(record)
            case .preparationCommand, .preparationFailed, .continuationDropped, .missingProgram, .noMoreHints, .stepsOvertaken:
                break  // shown in the output; nothing a reader needs as a fact
            case .resized(let columns, let rows): try writer.event("r", "\(columns)x\(rows)")
            case .ended(let reason):
                try writer.seal(reason: reason)
                self.writer = nil
            }
        } catch {
            stop(error)
        }
    }

    /// Says, in the output a player shows and as a fact, how much output was left out.
    private func noteDropped(_ writer: TranscriptWriter) throws(TranscriptError) {
        spanBytes = 0
        guard droppedBytes > 0 else { return }
        try writer.event("o", "\r\n[gantry: \(droppedBytes) bytes of output not recorded]\r\n")
        var record = GantryRecord(kind: .cut)
        record.number = droppedBytes
        try writer.record(record)
        droppedBytes = 0
    }

    /// Output as the terminal displayed it: in cooked mode the terminal turned each \n into
    /// \r\n (ONLCR), which a player that is a terminal emulator needs written out.
    static func asDisplayed(_ text: String) -> String {
        guard text.utf8.contains(0x0a) else { return text }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count + 16)
        var previous: UInt8 = 0
        for byte in text.utf8 {
            if byte == 0x0a && previous != 0x0d { bytes.append(0x0d) }
            bytes.append(byte)
            previous = byte
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func about(_ kind: GantryRecord.Kind, _ step: String) -> GantryRecord {
        var record = GantryRecord(kind: kind)
        record.step = step
        return record
    }

    /// A new file for a lesson visit; the visit before is sealed first.
    private func open(_ lesson: SessionEvent.LessonOpened) {
        if let writer {
            do { try writer.seal(reason: "another lesson opened") } catch { return stop(error) }
            self.writer = nil
        }
        visits += 1
        let (columns, rows) = size()
        let bytes = POSIX.readFileBytes(lesson.file) ?? []
        let header = TranscriptHeader(
            width: columns, height: rows, timestamp: Int(time(nil)), title: "gantry: \(lesson.title)",
            env: ["TERM": settings.terminal ?? "xterm-256color", "SHELL": "/bin/bash"],
            gantry: .init(
                version: settings.gantryVersion,
                lesson: .init(
                    id: lesson.id, title: lesson.title, file: lesson.file, sha256: SHA256.hexDigest(bytes), steps: lesson.steps,
                    language: lesson.language),
                host: settings.host, learner: settings.learner))
        let path = path(for: lesson.id)
        do {
            let writer = try TranscriptWriter(path: path, header: header)
            self.writer = writer
            files.append(path)
            if !early.isEmpty {
                try writer.event("o", Self.asDisplayed(early))
                early = ""
            }
        } catch {
            stop(error)
        }
    }

    /// `20261201-181512-uts-4242.cast` in the directory, or the file asked for.
    private func path(for lesson: String) -> String {
        if let file = settings.file {
            guard visits > 1 else { return file }
            let stem = file.hasSuffix(".cast") ? String(file.dropLast(5)) : file
            return "\(stem).\(visits).cast"
        }
        var now = time(nil)
        var parts = tm()
        localtime_r(&now, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let stamp = "\(parts.tm_year + 1900)\(two(parts.tm_mon + 1))\(two(parts.tm_mday))-\(two(parts.tm_hour))\(two(parts.tm_min))\(two(parts.tm_sec))"
        return settings.directory + "/\(stamp)-\(lesson)-\(getpid())" + (visits > 1 ? "-\(visits)" : "") + ".cast"
    }

    private func stop(_ error: TranscriptError) {
        failed = true
        writer = nil
        tell("Recording stopped: \(error). The session goes on unrecorded.")
    }
}
