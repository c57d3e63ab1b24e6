/// Compares what a command printed with what the lesson expects, cram-style, and keeps the
/// values placeholders captured for later lines and commands of the same lesson.
public struct OutputMatcher: Sendable {
    public private(set) var captures: [String: String] = [:]

    public init() {}

    public struct Mismatch: Sendable, Equatable {
        /// A unified diff: ` ` kept, `-` expected, `+` actual.
        public var diff: [String]
    }

    /// Puts captured values into a command (`cgclassify -g cpu:limit_cpu_50 {{loop}}`).
    public func substitute(_ command: String) -> String {
        var result = command
        for token in Placeholders.tokens(command).reversed() {
            if let value = captures[token.name] { result.replaceSubrange(token.range, with: value) }
        }
        return result
    }

    /// nil when the output matches; the captures are kept only then.
    public mutating func match(_ actual: String, expected: [ExpectedLine]) -> Mismatch? {
        var lines = actual.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let endsWithNewline = lines.last == ""
        if endsWithNewline { lines.removeLast() }
        var newCaptures = captures
        var ok = lines.count == expected.count
        if ok {
            for (index, (line, want)) in zip(lines, expected).enumerated() {
                let isLast = index == lines.count - 1
                if isLast && want.noEndOfLine == endsWithNewline { ok = false; break }
                guard let captured = Self.matches(line, want, captures: newCaptures) else { ok = false; break }
                // A value captured again is the newer one: the loop started last is the loop.
                newCaptures.merge(captured) { _, new in new }
            }
        }
        if ok {
            captures = newCaptures
            return nil
        }
        return Mismatch(diff: Self.diff(expected: expected.map { Self.display($0) }, actual: lines))
    }

    /// Captures values from what a learner's command printed, wherever in the lesson an
    /// expected output captures them: a one-line expectation (`[1] {{loop:int}}`) from any
    /// line of the output, a longer one from the whole of it. Nothing else is compared.
    public mutating func capture(from output: String, expectations: [[ExpectedLine]]) {
        let lines = output.split(separator: "\n").map(String.init)
        for expected in expectations where expected.contains(where: { line in Placeholders.tokens(line.text).contains { $0.kind != nil } }) {
            if expected.count == 1 {
                for line in lines {
                    if let captured = Self.matches(line, expected[0], captures: captures) { captures.merge(captured) { _, new in new } }
                }
            } else {
                _ = match(output, expected: expected)
            }
        }
    }

    /// The values captured by one line, or nil when it does not match.
    static func matches(_ line: String, _ expected: ExpectedLine, captures: [String: String]) -> [String: String]? {
        if expected.kind == .literal && Placeholders.tokens(expected.text).isEmpty {
            return line == expected.text ? [:] : nil
        }
        let (pattern, names) = regexPattern(expected, captures: captures)
        guard let regex = try? Regex(pattern), let match = line.wholeMatch(of: regex) else { return nil }
        var found: [String: String] = [:]
        for name in names {
            if let substring = match.output["g_" + name]?.substring { found[name] = String(substring) }
        }
        return found
    }

    /// The line as a regular expression: literal and (esc) text quoted, (glob) wildcards and
    /// (re) text kept, and each placeholder a named group (`g_NAME`; a second use on the line
    /// refers back to it) — or, once captured, its value.
    static func regexPattern(_ expected: ExpectedLine, captures: [String: String]) -> (pattern: String, names: [String]) {
        let text = expected.kind == .escaped ? unescape(expected.text) : expected.text
        var pattern = ""
        var names: [String] = []
        var cursor = text.startIndex
        func plain(_ piece: String) -> String {
            expected.kind == .regex ? piece : quote(piece, glob: expected.kind == .glob)
        }
        for token in Placeholders.tokens(text) {
            pattern += plain(String(text[cursor..<token.range.lowerBound]))
            if let known = captures[token.name], token.kind == nil {
                pattern += quote(known, glob: false)
            } else if names.contains(token.name) {
                pattern += "\\k<g_\(token.name)>"
            } else {
                pattern += "(?<g_\(token.name)>" + (Placeholders.kinds[token.kind ?? "word"] ?? "\\S+") + ")"
                names.append(token.name)
            }
            cursor = token.range.upperBound
        }
        pattern += plain(String(text[cursor...]))
        return (pattern, names)
    }

    /// Regex-escapes `text`; for a glob, `*` and `?` stay wildcards.
    static func quote(_ text: String, glob: Bool) -> String {
        var result = ""
        for character in text {
            if glob && character == "*" { result += ".*"; continue }
            if glob && character == "?" { result += "."; continue }
            if "\\^$.|?*+()[]{}/".contains(character) { result += "\\" }
            result.append(character)
        }
        return result
    }

    /// `\t`, `\r`, `\\` and `\xNN`, as cram's (esc) lines write bytes.
    static func unescape(_ text: String) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8)[...]
        while let byte = iterator.popFirst() {
            guard byte == UInt8(ascii: "\\"), let next = iterator.popFirst() else { bytes.append(byte); continue }
            switch next {
            case UInt8(ascii: "t"): bytes.append(9)
            case UInt8(ascii: "r"): bytes.append(13)
            case UInt8(ascii: "\\"): bytes.append(92)
            case UInt8(ascii: "x"):
                let digits = iterator.prefix(2)
                if digits.count == 2, let value = UInt8(String(decoding: digits, as: UTF8.self), radix: 16) {
                    bytes.append(value)
                    iterator = iterator.dropFirst(2)
                } else {
                    bytes += [92, next]
                }
            default: bytes += [92, next]
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func display(_ line: ExpectedLine) -> String {
        var text = line.text
        if line.kind != .literal { text += " (\(line.kind.rawValue))" }
        if line.noEndOfLine { text += " (no-eol)" }
        return text
    }

    /// A plain line diff (longest common subsequence), enough for short command outputs.
    static func diff(expected: [String], actual: [String]) -> [String] {
        let n = expected.count, m = actual.count
        var table = [[Int]](repeating: [Int](repeating: 0, count: m + 1), count: n + 1)
        for i in stride(from: n - 1, through: 0, by: -1) {
            for j in stride(from: m - 1, through: 0, by: -1) {
                table[i][j] = expected[i] == actual[j] ? table[i + 1][j + 1] + 1 : max(table[i + 1][j], table[i][j + 1])
            }
        }
        var result: [String] = []
        var i = 0, j = 0
        while i < n || j < m {
            if i < n && j < m && expected[i] == actual[j] {
                result.append("  " + expected[i]); i += 1; j += 1
            } else if j < m && (i == n || table[i][j + 1] > table[i + 1][j]) {
                result.append("+ " + actual[j]); j += 1
            } else {
                result.append("- " + expected[i]); i += 1
            }
        }
        return result
    }
}
