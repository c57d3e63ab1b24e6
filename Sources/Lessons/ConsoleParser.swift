/// One expected output line, cram-style: literal, or ending in ` (re)`, ` (glob)`, ` (esc)`;
/// ` (no-eol)` marks a last line printed without a newline. Literal and glob lines may hold
/// placeholders: `{{name:kind}}` captures a changing value (kind: int, hex, mac, ip, word,
/// any, time), `{{name}}` must then equal what was captured (in commands it is replaced).
public struct ExpectedLine: Sendable, Equatable {
    public enum Kind: String, Sendable { case literal, regex = "re", glob, escaped = "esc" }

    public var text: String
    public var kind: Kind
    public var noEndOfLine: Bool
    public var line: Int
}

enum ConsoleParser {
    static func parse(_ body: [Substring], firstLine: Int, file: String) throws(LessonError) -> [ConsoleCommand] {
        var commands: [ConsoleCommand] = []
        for (offset, raw) in body.enumerated() {
            let number = firstLine + offset
            let line = String(raw)
            if line.hasPrefix("$ ") {
                commands.append(ConsoleCommand(line: number, command: String(line.dropFirst(2)), expected: [], expectedStatus: nil))
                continue
            }
            guard !commands.isEmpty else {
                if line.allSatisfy(\.isWhitespace) { continue }
                throw LessonError(file: file, line: number, "expected a command line starting with '$ ' before any output, found '\(line)'")
            }
            if line.hasPrefix("> ") && commands[commands.count - 1].expected.isEmpty {
                commands[commands.count - 1].command += "\n" + line.dropFirst(2)
                continue
            }
            if let status = exitStatus(line) {
                if commands[commands.count - 1].expectedStatus != nil {
                    throw LessonError(file: file, line: number, "a second exit status for the same command")
                }
                commands[commands.count - 1].expectedStatus = status
                continue
            }
            let expected = try expectedLine(line, number: number, file: file)
            commands[commands.count - 1].expected.append(expected)
        }
        for command in commands {
            try Placeholders.validate(command.command, line: command.line, file: file, inCommand: true, columnOffset: 2)
        }
        return commands
    }

    /// `[N]` on a line of its own, as cram writes a non-zero exit status.
    static func exitStatus(_ line: String) -> Int32? {
        guard line.hasPrefix("["), line.hasSuffix("]") else { return nil }
        return Int32(line.dropFirst().dropLast())
    }

    static func expectedLine(_ line: String, number: Int, file: String) throws(LessonError) -> ExpectedLine {
        var text = line
        var noEOL = false
        if text.hasSuffix(" (no-eol)") {
            noEOL = true
            text = String(text.dropLast(" (no-eol)".count))
        }
        var kind = ExpectedLine.Kind.literal
        for candidate in [ExpectedLine.Kind.regex, .glob, .escaped] where text.hasSuffix(" (\(candidate.rawValue))") {
            kind = candidate
            text = String(text.dropLast(candidate.rawValue.count + 3))
        }
        let expected = ExpectedLine(text: text, kind: kind, noEndOfLine: noEOL, line: number)
        if kind == .regex {
            do { _ = try Regex(OutputMatcher.regexPattern(expected, captures: [:]).pattern) } catch {
                throw LessonError(file: file, line: number, "'\(text)' is not a valid regular expression: \(error)")
            }
        }
        try Placeholders.validate(text, line: number, file: file, inCommand: false, columnOffset: 0)
        return expected
    }
}

/// `{{name:kind}}` and `{{name}}`.
enum Placeholders {
    static let kinds: [String: String] = [
        "int": "[0-9]+", "hex": "[0-9a-fA-F]+", "mac": "(?:[0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}",
        "ip": "[0-9a-fA-F:.]+", "word": "\\S+", "any": ".*", "time": "[0-9:.]+",
    ]

    struct Token {
        var name: String
        var kind: String?
        var range: Range<String.Index>
    }

    static func tokens(_ text: String) -> [Token] {
        // Most lines have no placeholder: a byte scan says so before the search by
        // Characters, which was a twelfth of parsing the course.
        guard text.utf8.contains(UInt8(ascii: "{")) else { return [] }
        var result: [Token] = []
        var search = text.startIndex
        while let open = text[search...].firstRange(of: "{{"), let close = text[open.upperBound...].firstRange(of: "}}") {
            let inside = text[open.upperBound..<close.lowerBound]
            let parts = inside.split(separator: ":", maxSplits: 1).map(String.init)
            if let name = parts.first, !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) {
                result.append(Token(name: name, kind: parts.count == 2 ? parts[1] : nil, range: open.lowerBound..<close.upperBound))
            }
            search = close.upperBound
        }
        return result
    }

    /// `columnOffset`: characters before `text` on its line (2 for a command's "$ ").
    static func validate(_ text: String, line: Int, file: String, inCommand: Bool, columnOffset: Int) throws(LessonError) {
        for token in tokens(text) {
            let column = columnOffset + text.distance(from: text.startIndex, to: token.range.lowerBound) + 1
            if let kind = token.kind {
                if inCommand {
                    throw LessonError(
                        file: file, line: line, column: column,
                        "a command can use {{\(token.name)}} but not capture it; captures go in expected output")
                }
                guard kinds[kind] != nil else {
                    throw LessonError(
                        file: file, line: line, column: column,
                        "unknown placeholder kind '\(kind)' (known: \(kinds.keys.sorted().joined(separator: ", ")))")
                }
            }
        }
    }
}
