/// One typed probe of lab state, one per line in a ```check block:
///
///     hostname process=bash namespace=own is=con01
///     link netns=testnet name=veth1 state=up address=172.16.0.2/24
///     ping from=testnet to=172.16.0.1
///     cgroup name=limit_cpu_50 cpu=0.5 measured-cpu<=0.55
///
/// The first word names the probe; then `key=value` (also `<=`, `>=`, `!=`, `~=` for a
/// regular expression). Values with spaces are "quoted".
public struct Check: Sendable, Equatable {
    public struct Argument: Sendable, Equatable {
        public enum Operator: String, Sendable { case equal = "=", atMost = "<=", atLeast = ">=", notEqual = "!=", matches = "~=" }
        public var key: String
        public var op: Operator
        public var value: String
        public var column: Int
    }

    public var probe: String
    public var arguments: [Argument]
    public var line: Int
    public var text: String

    public func value(_ key: String) -> String? { arguments.first { $0.key == key }?.value }
    public func argument(_ key: String) -> Argument? { arguments.first { $0.key == key } }
}

/// What each probe takes. `required` keys must be there; comparisons lists keys that may use
/// `<=`/`>=`; everything else is `=` (or `!=`/`~=` where it makes sense).
public struct ProbeDefinition: Sendable {
    public var name: String
    public var summary: String
    public var keys: Set<String>
    public var required: Set<String>
    public var numeric: Set<String>
    public var boolean: Set<String>
}

public enum ProbeCatalog {
    public static let all: [ProbeDefinition] = [
        ProbeDefinition(name: "hostname", summary: "the hostname of the lab, or seen by a process",
                        keys: ["is", "process", "namespace"], required: ["is"], numeric: [], boolean: []),
        ProbeDefinition(name: "namespace", summary: "whether a process has a namespace of its own, or shares another's",
                        keys: ["process", "kind", "own", "same-as"], required: ["process", "kind"], numeric: [], boolean: ["own"]),
        ProbeDefinition(name: "process", summary: "a process exists, and whether it is pid 1 of its namespace",
                        keys: ["command", "exists", "pid1"], required: ["command"], numeric: [], boolean: ["exists", "pid1"]),
        ProbeDefinition(name: "file", summary: "a file exists or holds text, for the lab or a process's mount namespace",
                        keys: ["path", "exists", "contains", "process"], required: ["path"], numeric: [], boolean: ["exists"]),
        ProbeDefinition(name: "mount", summary: "a mount point (and its type) for the lab or a process",
                        keys: ["path", "type", "exists", "process"], required: ["path"], numeric: [], boolean: ["exists"]),
        ProbeDefinition(name: "netns", summary: "a named network namespace (ip netns add)",
                        keys: ["name", "exists"], required: ["name"], numeric: [], boolean: ["exists"]),
        ProbeDefinition(name: "link", summary: "a network link: state, kind, addresses, master, peer",
                        keys: ["name", "netns", "exists", "state", "kind", "address", "master", "peer-netns"],
                        required: ["name"], numeric: [], boolean: ["exists"]),
        ProbeDefinition(name: "ping", summary: "ICMP echo from the lab or a named netns to an address",
                        keys: ["from", "to", "reachable", "count"], required: ["to"], numeric: ["count"], boolean: ["reachable"]),
        ProbeDefinition(name: "cgroup", summary: "a cgroup the learner made: limits, members, measured CPU, OOM kills, tasks",
                        keys: ["name", "exists", "cpu", "memory-max", "pids-max", "member", "measured-cpu", "over", "oom-kills", "pids-current"],
                        required: ["name"], numeric: ["cpu", "measured-cpu", "oom-kills", "pids-current", "pids-max"], boolean: ["exists"]),
        ProbeDefinition(name: "command", summary: "a probe command run in the lab (not the learner's shell)",
                        keys: ["run", "status", "output"], required: ["run"], numeric: ["status"], boolean: []),
    ]

    public static func definition(_ name: String) -> ProbeDefinition? { all.first { $0.name == name } }
}

enum CheckParser {
    static func parse(_ body: [Substring], firstLine: Int, file: String) throws(LessonError) -> [Check] {
        var checks: [Check] = []
        for (offset, raw) in body.enumerated() {
            let text = String(raw).trimmingTrailingSpaces
            if text.allSatisfy(\.isWhitespace) || text.hasPrefix("#") { continue }
            checks.append(try parseLine(text, line: firstLine + offset, file: file))
        }
        return checks
    }

    static func parseLine(_ text: String, line: Int, file: String) throws(LessonError) -> Check {
        let words = try split(text, line: line, file: file)
        guard let (probe, _) = words.first else { throw LessonError(file: file, line: line, "an empty check") }
        guard let definition = ProbeCatalog.definition(probe) else {
            throw LessonError(file: file, line: line, "unknown probe '\(probe)' (known: \(ProbeCatalog.all.map(\.name).joined(separator: ", ")))")
        }
        var arguments: [Check.Argument] = []
        for (word, column) in words.dropFirst() {
            var parsed: Check.Argument?
            for op in [Check.Argument.Operator.atMost, .atLeast, .notEqual, .matches, .equal] {
                if let range = word.firstRange(of: op.rawValue) {
                    parsed = Check.Argument(key: String(word[..<range.lowerBound]), op: op,
                                            value: String(word[range.upperBound...]), column: column)
                    break
                }
            }
            guard let argument = parsed, !argument.key.isEmpty else {
                throw LessonError(file: file, line: line, column: column, "expected key=value, found '\(word)'")
            }
            guard definition.keys.contains(argument.key) else {
                throw LessonError(file: file, line: line, column: column,
                                  "'\(probe)' has no '\(argument.key)' (it takes: \(definition.keys.sorted().joined(separator: ", ")))")
            }
            if (argument.op == .atMost || argument.op == .atLeast) && !definition.numeric.contains(argument.key) {
                throw LessonError(file: file, line: line, column: column, "'\(argument.key)' is not a number; compare it with = or !=")
            }
            if definition.numeric.contains(argument.key) && argument.key != "status", Double(argument.value) == nil {
                throw LessonError(file: file, line: line, column: column, "'\(argument.key)' takes a number, found '\(argument.value)'")
            }
            if definition.boolean.contains(argument.key) && !["yes", "no"].contains(argument.value) {
                throw LessonError(file: file, line: line, column: column, "'\(argument.key)' is yes or no, found '\(argument.value)'")
            }
            if argument.op == .matches {
                do { _ = try Regex(argument.value) } catch {
                    throw LessonError(file: file, line: line, column: column, "'\(argument.value)' is not a valid regular expression")
                }
            }
            if arguments.contains(where: { $0.key == argument.key }) {
                throw LessonError(file: file, line: line, column: column, "'\(argument.key)' is given twice")
            }
            arguments.append(argument)
        }
        for key in definition.required.sorted() where !arguments.contains(where: { $0.key == key }) {
            throw LessonError(file: file, line: line, "'\(probe)' needs \(key)=…")
        }
        return Check(probe: probe, arguments: arguments, line: line, text: text)
    }

    /// Words split on spaces, with "double quoted" parts kept whole; each with its column.
    static func split(_ text: String, line: Int, file: String) throws(LessonError) -> [(String, Int)] {
        var words: [(String, Int)] = []
        var current = ""
        var start = 1
        var quoted = false
        for (offset, character) in text.enumerated() {
            if character == "\"" { quoted.toggle(); continue }
            if character == " " && !quoted {
                if !current.isEmpty { words.append((current, start)) }
                current = ""
                continue
            }
            if current.isEmpty { start = offset + 1 }
            current.append(character)
        }
        if quoted { throw LessonError(file: file, line: line, "a \" is not closed") }
        if !current.isEmpty { words.append((current, start)) }
        return words
    }
}
