internal import FoundationEssentials

/// The first line of a transcript: asciicast v2's header (what `asciinema play` and
/// asciinema-player read) with Gantry's own facts under `gantry`, which players ignore.
public struct TranscriptHeader: Codable, Sendable, Equatable {
    public var version = 2
    public var width: Int
    public var height: Int
    /// When recording began, Unix seconds.
    public var timestamp: Int
    public var title: String
    public var env: [String: String]
    public var gantry: Facts

    public struct Facts: Codable, Sendable, Equatable {
        /// The transcript format of Gantry's own events (1: this one).
        public var format = 1
        public var version: String
        public var lesson: LessonFacts
        public var host: HostFacts
        public var learner: String

        public init(version: String, lesson: LessonFacts, host: HostFacts, learner: String) {
            self.version = version
            self.lesson = lesson
            self.host = host
            self.learner = learner
        }
    }

    public struct LessonFacts: Codable, Sendable, Equatable {
        public var id: String
        public var title: String
        public var file: String
        /// SHA-256 of the lesson file as it was when the session began.
        public var sha256: String
        /// The step ids, in order.
        public var steps: [String]
        public var language: String
    }

    public struct HostFacts: Codable, Sendable, Equatable {
        /// `uname -r`.
        public var kernel: String
        /// `unified`, `hybrid` or `legacy`.
        public var cgroups: String
        public var root: Bool
        /// What `doctor` found (capability names).
        public var capabilities: [String]
        public init(kernel: String, cgroups: String, root: Bool, capabilities: [String]) {
            self.kernel = kernel
            self.cgroups = cgroups
            self.root = root
            self.capabilities = capabilities
        }
    }

    public init(width: Int, height: Int, timestamp: Int, title: String, env: [String: String], gantry: Facts) {
        self.width = width
        self.height = height
        self.timestamp = timestamp
        self.title = title
        self.env = env
        self.gantry = gantry
    }
}

/// One of Gantry's own events: the data of an asciicast event of code `g` (a JSON object in
/// a string, as every asciicast event's data is; players skip codes they do not know).
/// `kind` says which; the fields it uses are set, the others absent.
public struct GantryRecord: Codable, Sendable, Equatable {
    public var kind: Kind
    public var text: String?
    /// Where a line went: `shell`, `nested`, `program`, `gantry`.
    public var target: String?
    public var depth: Int?
    public var redacted: Bool?
    public var status: Int32?
    public var milliseconds: Int?
    public var step: String?
    public var index: Int?
    public var title: String?
    public var passed: Bool?
    public var overtaken: Bool?
    public var number: Int?
    public var expectations: [Expectation]?
    public var reason: String?
    /// A check's purpose: `command`, `report` (`:check`), `test`.
    public var purpose: String?
    /// `:solve`'s commands as shown.
    public var commands: [String]?
    /// The hash chain's link through the line before this one, and the short digests of
    /// the lines since the previous Gantry event (see `HashChain`). Set by the writer.
    public var chain: String = ""
    public var digests: [String] = []
    /// On the seal only: SHA-256 of the chain's link and the seal line itself as written
    /// with this value's 64 characters all `0`, so nothing in the last line can change.
    public var seal: String?

    public enum Kind: String, Codable, Sendable, CaseIterable {
        case step, line, keys, status, check, hint, solve, reset, skip, done, end, seal
        /// A fresh lab up (`milliseconds`), a lab or lesson that could not be (`reason`), the
        /// lab brought to a step's start (`index`, `number` commands), the shell restarted.
        case lab, fail, prepare, restart
        /// Work counted on a step (`number` commands), a wrong turn told (`text`), a
        /// measurement begun, the lesson's last step done, a line with captured values put in.
        case work, wrong, measure, complete, substituted
        /// `number` bytes of output left out (more than `Recorder.outputLimit` at once).
        case cut
    }

    public struct Expectation: Codable, Sendable, Equatable {
        public var line: Int
        public var expectation: String
        public var passed: Bool
        public var seen: String
    }

    public init(kind: Kind) { self.kind = kind }
}

/// One event line: `[time, code, data]`.
public struct TranscriptEvent: Sendable, Equatable {
    /// Seconds since the recording began.
    public var time: Double
    /// `o` output, `i` input, `m` marker, `r` resize, `g` Gantry's own.
    public var code: String
    public var data: String
    /// Its line in the file (the header is line 1).
    public var line: Int

    public init(time: Double, code: String, data: String, line: Int = 0) {
        self.time = time
        self.code = code
        self.data = data
        self.line = line
    }

    /// The Gantry record of a `g` event, if it is one and it parses.
    public var record: GantryRecord? {
        guard code == "g" else { return nil }
        return GantryRecordScanner.record(data)
    }
}

enum TranscriptJSON {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// A string as JSON (quoted, escaped).
    static func string(_ text: String) -> String {
        (try? encoder.encode(text)).map { String(decoding: $0, as: UTF8.self) } ?? "\"\""
    }

    /// `[1.234567, "o", "text"]`: the time with microseconds, as asciinema writes it.
    static func eventLine(time: Double, code: String, data: String) -> String {
        let micros = max(0, Int((time * 1_000_000).rounded()))
        let fraction = String(micros % 1_000_000)
        let time = "\(micros / 1_000_000)." + String(repeating: "0", count: 6 - fraction.count) + fraction
        return "[\(time), \(string(code)), \(string(data))]"
    }
}
