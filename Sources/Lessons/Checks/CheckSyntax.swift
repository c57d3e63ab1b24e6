/// The words of a ```check line: the probe's name, then `key OP value` arguments.
///
///     link netns=testnet name=veth1 state=up network=172.16.0.0/24
///     command run="[ \"$x\" != y ] && echo ok" output=ok
///
/// An argument's operator is the first one that appears in it, by position: `run="a != b"`
/// is the key `run`, `=`, and a value holding `!=`. Values with spaces go in double quotes,
/// where `\"` is a quote and `\\` a backslash (any other backslash stays, for regular
/// expressions). Spaces and tabs separate words.
public struct CheckArgument: Sendable, Equatable {
    public var key: String
    public var op: Operator
    public var value: String
    /// Where the argument starts on its line (1-based), for lint messages.
    public var column: Int
}

/// How a value is compared. Which ones a key takes is the probe's to say.
public enum Operator: String, Sendable, CaseIterable {
    case equal = "="
    case notEqual = "!="
    case atMost = "<="
    case atLeast = ">="
    case below = "<"
    case above = ">"
    case matches = "~="
    case doesNotMatch = "!~="

    /// Longest first, so `!~=` is not read as `!` + `~=`, nor `<=` as `<`.
    static let byLength: [Operator] = allCases.sorted { $0.rawValue.count > $1.rawValue.count }

    /// The numeric ones.
    public static let ordering: Set<Operator> = [.equal, .notEqual, .atMost, .atLeast, .below, .above]
    /// The ones that work on text.
    public static let textual: Set<Operator> = [.equal, .notEqual, .matches, .doesNotMatch]
    public static let equality: Set<Operator> = [.equal, .notEqual]
}

enum CheckSyntax {
    /// The operators' characters, made once (making them for each character of each word
    /// was a sixth of parsing the course).
    static let operatorSymbols: [(Operator, [Character])] = Operator.byLength.map { ($0, Array($0.rawValue)) }
    static let operatorStarts = Set(Operator.allCases.compactMap(\.rawValue.first))

    /// Splits a check line into words (with their columns), honouring quotes.
    static func words(_ text: String, line: Int, file: String) throws(LessonError) -> [(text: String, column: Int, quoted: [Bool])] {
        var words: [(String, Int, [Bool])] = []
        var current = ""
        var quotedFlags: [Bool] = []
        var start = 1
        var quoted = false
        var escaped = false
        var inWord = false
        for (offset, character) in text.enumerated() {
            if escaped {
                // Only \" and \\ are escapes; any other backslash is the value's own (a
                // regular expression's \[).
                if character != "\"" && character != "\\" { current.append("\\"); quotedFlags.append(true) }
                current.append(character); quotedFlags.append(true)
                escaped = false
                continue
            }
            if quoted && character == "\\" { escaped = true; continue }
            if character == "\"" {
                if !inWord { inWord = true; start = offset + 1 }
                quoted.toggle()
                continue
            }
            if (character == " " || character == "\t") && !quoted {
                if inWord { words.append((current, start, quotedFlags)) }
                current = ""; quotedFlags = []; inWord = false
                continue
            }
            if !inWord { inWord = true; start = offset + 1 }
            current.append(character); quotedFlags.append(quoted)
        }
        if quoted { throw LessonError(file: file, line: line, "a \" is not closed: end the value with \"") }
        if inWord { words.append((current, start, quotedFlags)) }
        return words
    }

    /// The probe name and its arguments.
    static func parse(_ text: String, line: Int, file: String) throws(LessonError) -> (probe: String, column: Int, arguments: [CheckArgument]) {
        let words = try words(text, line: line, file: file)
        guard let first = words.first else { throw LessonError(file: file, line: line, "an empty check") }
        var arguments: [CheckArgument] = []
        for word in words.dropFirst() {
            // The first operator by position, outside quotes (a quoted part is all value).
            let characters = Array(word.text)
            var found: (Int, Operator)?
            search: for index in characters.indices where !word.quoted[index] && Self.operatorStarts.contains(characters[index]) {
                for (op, symbol) in Self.operatorSymbols where index + symbol.count <= characters.count {
                    if symbol.indices.allSatisfy({ characters[index + $0] == symbol[$0] && !word.quoted[index + $0] }) {
                        found = (index, op)
                        break search
                    }
                }
            }
            guard let (index, op) = found, index > 0 else {
                throw LessonError(
                    file: file, line: line, column: word.column,
                    "expected key=value (or !=, <=, >=, <, >, ~=, !~=), found '\(word.text)'")
            }
            let key = String(characters[..<index]), value = String(characters[(index + op.rawValue.count)...])
            arguments.append(CheckArgument(key: key, op: op, value: value, column: word.column))
        }
        return (first.text, first.column, arguments)
    }
}
