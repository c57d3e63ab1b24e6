internal import POSIXSupport

/// A lesson's front matter: the subset of YAML lessons need — nested mappings by indentation,
/// block (`- item`) and flow (`[a, b]`) lists of scalars, plain, 'single' and "double" quoted
/// scalars, `#` comments. Anchors, tags, multi-line scalars and flow mappings are refused with
/// a message, not guessed at. (A full YAML library would pull Foundation into the binary, and
/// with it start-up time the engine's benchmark cannot afford.)
public indirect enum YAMLValue: Sendable, Equatable {
    case scalar(String, line: Int)
    case list([YAMLValue], line: Int)
    case mapping([(key: String, value: YAMLValue, line: Int)], line: Int)

    public static func == (lhs: YAMLValue, rhs: YAMLValue) -> Bool {
        switch (lhs, rhs) {
        case (.scalar(let a, _), .scalar(let b, _)): a == b
        case (.list(let a, _), .list(let b, _)): a == b
        case (.mapping(let a, _), .mapping(let b, _)):
            a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: false
        }
    }

    public var line: Int {
        switch self {
        case .scalar(_, let line), .list(_, let line), .mapping(_, let line): line
        }
    }

    public var string: String? {
        if case .scalar(let text, _) = self { return text }
        return nil
    }

    public subscript(key: String) -> YAMLValue? {
        if case .mapping(let entries, _) = self { return entries.first { $0.key == key }?.value }
        return nil
    }

    public var keys: [(String, Int)] {
        if case .mapping(let entries, _) = self { return entries.map { ($0.key, $0.line) } }
        return []
    }
}

enum FrontMatterParser {
    struct Line {
        var number: Int
        var indent: Int
        var text: Substring
    }

    /// Parses the lines between the `---` fences; `firstLine` is the file line of the first.
    static func parse(_ lines: [Substring], firstLine: Int, file: String) throws(LessonError) -> YAMLValue {
        var significant: [Line] = []
        for (offset, raw) in lines.enumerated() {
            let number = firstLine + offset
            if raw.contains("\t") {
                throw LessonError(
                    file: file, line: number, column: (raw.firstIndex(of: "\t")?.utf16Offset(in: raw) ?? 0) + 1,
                    "a tab in the front matter; indent with spaces")
            }
            let text = stripComment(raw)
            if text.allSatisfy(\.isWhitespace) { continue }
            let indent = text.prefix { $0 == " " }.count
            significant.append(Line(number: number, indent: indent, text: text.dropFirst(indent)))
        }
        var index = 0
        let value = try parseBlock(significant, &index, indent: 0, file: file)
        if index < significant.count {
            let line = significant[index]
            throw LessonError(file: file, line: line.number, column: line.indent + 1, "unexpected indentation; expected a key at column 1")
        }
        return value ?? .mapping([], line: firstLine)
    }

    private static func parseBlock(_ lines: [Line], _ index: inout Int, indent: Int, file: String) throws(LessonError) -> YAMLValue? {
        guard index < lines.count else { return nil }
        let first = lines[index]
        guard first.indent == indent else { return nil }
        if first.text.hasPrefix("- ") || first.text == "-" {
            var items: [YAMLValue] = []
            while index < lines.count, lines[index].indent == indent, lines[index].text.hasPrefix("-") {
                let line = lines[index]
                let rest = line.text.dropFirst().drop { $0 == " " }
                if rest.contains(": ") || rest.hasSuffix(":") {
                    throw LessonError(
                        file: file, line: line.number, column: line.indent + 3,
                        "lists of mappings are not supported in front matter; use a list of plain values")
                }
                items.append(.scalar(try scalar(rest, line: line, column: line.indent + 3, file: file), line: line.number))
                index += 1
            }
            return .list(items, line: first.number)
        }
        var entries: [(key: String, value: YAMLValue, line: Int)] = []
        while index < lines.count, lines[index].indent == indent {
            let line = lines[index]
            guard let colon = line.text.firstIndex(of: ":") else {
                throw LessonError(file: file, line: line.number, column: indent + 1, "expected 'key: value', found '\(line.text)'")
            }
            let key = String(line.text[..<colon]).trimmingTrailingWhitespace
            if key.isEmpty || key.contains(" ") && !key.hasPrefix("\"") {
                throw LessonError(file: file, line: line.number, column: indent + 1, "'\(key)' is not a key (letters, digits, - and _)")
            }
            if entries.contains(where: { $0.key == key }) {
                throw LessonError(file: file, line: line.number, column: indent + 1, "'\(key)' appears twice")
            }
            let rest = line.text[line.text.index(after: colon)...].drop { $0 == " " }
            index += 1
            if rest.isEmpty {
                // A nested block follows, more indented — or nothing (an empty value).
                if index < lines.count, lines[index].indent > indent {
                    let nested = try parseBlock(lines, &index, indent: lines[index].indent, file: file)
                    entries.append((key, nested ?? .scalar("", line: line.number), line.number))
                } else {
                    entries.append((key, .scalar("", line: line.number), line.number))
                }
            } else if rest.hasPrefix("[") {
                entries.append(
                    (key, try flowList(rest, line: line, column: line.indent + (rest.startIndex.utf16Offset(in: line.text)) + 1, file: file), line.number))
            } else {
                let column = rest.startIndex.utf16Offset(in: line.text) + line.indent + 1
                if rest.hasPrefix("{") || rest.hasPrefix("&") || rest.hasPrefix("*") || rest.hasPrefix("!") || rest.hasPrefix("|") || rest.hasPrefix(">") {
                    throw LessonError(
                        file: file, line: line.number, column: column,
                        "'\(rest.first!)' starts YAML that front matter does not support; write a plain or quoted value")
                }
                entries.append((key, .scalar(try scalar(rest, line: line, column: column, file: file), line: line.number), line.number))
            }
            if index < lines.count, lines[index].indent > indent {
                let next = lines[index]
                throw LessonError(file: file, line: next.number, column: next.indent + 1, "unexpected indentation after '\(key)'")
            }
        }
        return .mapping(entries, line: first.number)
    }

    private static func flowList(_ text: Substring, line: Line, column: Int, file: String) throws(LessonError) -> YAMLValue {
        let trimmed = text.trimmingTrailingWhitespace
        guard trimmed.hasSuffix("]") else {
            throw LessonError(file: file, line: line.number, column: column, "a list opened with '[' must close with ']' on the same line")
        }
        let inner = trimmed.dropFirst().dropLast()
        if inner.allSatisfy(\.isWhitespace) { return .list([], line: line.number) }
        var items: [YAMLValue] = []
        for part in inner.split(separator: ",", omittingEmptySubsequences: false) {
            let item = part.drop { $0 == " " }
            items.append(.scalar(try scalar(Substring(String(item).trimmingTrailingWhitespace), line: line, column: column, file: file), line: line.number))
        }
        return .list(items, line: line.number)
    }

    private static func scalar(_ text: Substring, line: Line, column: Int, file: String) throws(LessonError) -> String {
        let value = String(text).trimmingTrailingWhitespace
        for quote in ["\"", "'"] where value.hasPrefix(quote) {
            guard value.count >= 2, value.hasSuffix(quote) else {
                throw LessonError(file: file, line: line.number, column: column, "a value opened with \(quote) must close with \(quote) on the same line")
            }
            let inner = String(value.dropFirst().dropLast())
            return quote == "\"" ? unescapeDoubleQuoted(inner) : inner.replacing("''", with: "'")
        }
        return value
    }

    /// `\"` and `\\` in a double-quoted value, read left to right (so `\\"` is a backslash
    /// and then a quote); any other escape is kept as written.
    static func unescapeDoubleQuoted(_ text: String) -> String {
        var result = ""
        var characters = text.makeIterator()
        while let character = characters.next() {
            if character == "\\", let next = characters.next() {
                if next != "\"" && next != "\\" { result.append(character) }
                result.append(next)
            } else {
                result.append(character)
            }
        }
        return result
    }

    /// Drops a `#` comment (one that starts the line or follows a space, outside quotes).
    static func stripComment(_ line: Substring) -> Substring {
        var quote: Character?
        var previous: Character = " "
        for index in line.indices {
            let character = line[index]
            if let open = quote {
                if character == open { quote = nil }
            } else if character == "\"" || character == "'" {
                quote = character
            } else if character == "#" && previous == " " {
                return line[..<index]
            }
            previous = character
        }
        return line
    }
}
