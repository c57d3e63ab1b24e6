internal import POSIXSupport

/// Every probe a ```check line can name, with what it takes: the one place lint, the format
/// documentation and evaluation agree on.
public enum ProbeCatalog {
    public struct Entry: Sendable {
        public var name: String
        public var summary: String
        let parse: @Sendable (inout CheckArguments) throws(LessonError) -> any Probe
    }

    public static let all: [Entry] = [
        Entry(name: "hostname", summary: HostnameProbe.summary) { arguments throws(LessonError) in try HostnameProbe(&arguments) },
        Entry(name: "namespace", summary: NamespaceProbe.summary) { arguments throws(LessonError) in try NamespaceProbe(&arguments) },
        Entry(name: "process", summary: ProcessProbe.summary) { arguments throws(LessonError) in try ProcessProbe(&arguments) },
        Entry(name: "file", summary: FileProbe.summary) { arguments throws(LessonError) in try FileProbe(&arguments) },
        Entry(name: "mount", summary: MountProbe.summary) { arguments throws(LessonError) in try MountProbe(&arguments) },
        Entry(name: "netns", summary: NetnsProbe.summary) { arguments throws(LessonError) in try NetnsProbe(&arguments) },
        Entry(name: "link", summary: LinkProbe.summary) { arguments throws(LessonError) in try LinkProbe(&arguments) },
        Entry(name: "ping", summary: PingProbe.summary) { arguments throws(LessonError) in try PingProbe(&arguments) },
        Entry(name: "cgroup", summary: CgroupProbe.summary) { arguments throws(LessonError) in try CgroupProbe(&arguments) },
        Entry(name: "command", summary: CommandProbe.summary) { arguments throws(LessonError) in try CommandProbe(&arguments) },
        Entry(name: "seen", summary: SeenProbe.summary) { arguments throws(LessonError) in try SeenProbe(&arguments) },
    ]

    public static func entry(_ name: String) -> Entry? { all.first { $0.name == name } }
}

/// One line of a ```check block: a typed probe, parsed once.
public struct Check: Sendable {
    public var probe: any Probe
    public var line: Int
    /// The line as written, for lint and for authors; learners see `probe.expectation`.
    public var text: String

    /// Captured values it refers to (`{{loop}}`), to check they are captured before use.
    public var placeholders: [String]
    /// `undone-by=STEP`: a later step undoes this part of the step's state (lo down, then
    /// up): a learner who went ahead past that step need not have it still.
    public var undoneBy: String?
}

enum CheckParser {
    static func parse(_ body: [Substring], firstLine: Int, file: String) throws(LessonError) -> [Check] {
        var checks: [Check] = []
        for (offset, raw) in body.enumerated() {
            let text = String(raw).trimmingTrailingWhitespace
            if text.allSatisfy(\.isWhitespace) || text.drop(while: \.isWhitespace).hasPrefix("#") { continue }
            checks.append(try parseLine(text, line: firstLine + offset, file: file))
        }
        return checks
    }

    static func parseLine(_ text: String, line: Int, file: String) throws(LessonError) -> Check {
        let (name, column, arguments) = try CheckSyntax.parse(text, line: line, file: file)
        guard let entry = ProbeCatalog.entry(name) else {
            throw LessonError(
                file: file, line: line, column: column,
                "unknown probe '\(name)' (known: \(ProbeCatalog.all.map(\.name).joined(separator: ", ")))")
        }
        // What every check may say about itself, before the probe reads its own keys.
        let undoneBy = arguments.first { $0.key == "undone-by" }
        if let undoneBy, undoneBy.op != .equal || undoneBy.value.isEmpty {
            throw LessonError(file: file, line: line, column: undoneBy.column, "undone-by takes = and a later step's id")
        }
        var reader = CheckArguments(probe: name, arguments: arguments.filter { $0.key != "undone-by" }, line: line, file: file)
        let probe = try entry.parse(&reader)
        let placeholders = Placeholders.tokens(text).filter { $0.kind == nil }.map(\.name)
        return Check(probe: probe, line: line, text: text, placeholders: placeholders, undoneBy: undoneBy?.value)
    }
}
