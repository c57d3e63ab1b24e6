internal import Cgroups

/// `key OP text`: equal, not equal, matching a regular expression or not.
public struct TextCondition: Sendable, Equatable {
    public var op: Operator
    public var value: String

    public func holds(_ actual: String) -> Bool {
        switch op {
        case .equal: return actual == value
        case .notEqual: return actual != value
        case .matches, .doesNotMatch:
            let found = (try? Regex(value)).map { actual.contains($0) } ?? false
            return found == (op == .matches)
        default: return false
        }
    }

    /// Whether any of `values` satisfies it (for `!=` and `!~=`: none may be the value).
    public func holds(any values: [String]) -> Bool {
        op == .notEqual || op == .doesNotMatch ? values.allSatisfy(holds) : values.contains(where: holds)
    }

    /// "dockeredu", "not dockeredu", "matching /^con/", "not matching /x/".
    public var expected: Message {
        switch op {
        case .notEqual: Message("not \(value)", ko: "\(value)이(가) 아님")
        case .matches: Message("matching /\(value)/", ko: "/\(value)/ 에 맞음")
        case .doesNotMatch: Message("not matching /\(value)/", ko: "/\(value)/ 에 맞지 않음")
        default: Message(verbatim: value)
        }
    }
}

/// `key OP number`: =, !=, <, >, <=, >= (sizes like 32M and `max` where the key is a size).
public struct NumberCondition: Sendable, Equatable {
    public var op: Operator
    public var value: Double
    /// How the value was written (32M, 0.5), for messages.
    public var written: String

    public func holds(_ actual: Double) -> Bool {
        switch op {
        case .equal: return abs(actual - value) <= max(abs(value) * 1e-6, 1e-9)
        case .notEqual: return abs(actual - value) > max(abs(value) * 1e-6, 1e-9)
        case .atMost: return actual <= value
        case .atLeast: return actual >= value
        case .below: return actual < value
        case .above: return actual > value
        default: return false
        }
    }

    public var expected: Message {
        switch op {
        case .notEqual: Message("not \(written)", ko: "\(written)이(가) 아님")
        case .atMost: Message("at most \(written)", ko: "\(written) 이하")
        case .atLeast: Message("at least \(written)", ko: "\(written) 이상")
        case .below: Message("below \(written)", ko: "\(written) 미만")
        case .above: Message("above \(written)", ko: "\(written) 초과")
        default: Message(verbatim: written)
        }
    }
}

extension Array where Element == NumberCondition {
    public func holds(_ actual: Double) -> Bool { allSatisfy { $0.holds(actual) } }
    public var expected: Message { Message.joined(map(\.expected), separator: Message(" and ", ko: ", ")) }
}

/// A probe's arguments while it is parsed: each key is taken in the form the probe wants
/// (text, number, yes/no, a process), once — or, for numbers, once per operator, so
/// `measured-cpu>=0.4 measured-cpu<=0.6` is a range. What is left over is a mistake.
public struct CheckArguments {
    let probe: String
    var remaining: [CheckArgument]
    let line: Int
    let file: String
    /// Every key the probe asked about, for the message about one it does not have.
    private(set) var known: [String] = []

    init(probe: String, arguments: [CheckArgument], line: Int, file: String) {
        self.probe = probe
        remaining = arguments
        self.line = line
        self.file = file
    }

    func error(_ argument: CheckArgument, _ message: String) -> LessonError {
        LessonError(file: file, line: line, column: argument.column, message)
    }

    private mutating func takeAll(_ key: String) -> [CheckArgument] {
        known.append(key)
        let taken = remaining.filter { $0.key == key }
        remaining.removeAll { $0.key == key }
        return taken
    }

    private mutating func takeOne(_ key: String, _ ops: Set<Operator>) throws(LessonError) -> CheckArgument? {
        let taken = takeAll(key)
        if taken.count > 1 { throw error(taken[1], "'\(key)' is given twice") }
        guard let argument = taken.first else { return nil }
        guard ops.contains(argument.op) else {
            throw error(argument, "'\(key)' takes \(Self.spelled(ops)), not \(argument.op.rawValue)")
        }
        return argument
    }

    static func spelled(_ ops: Set<Operator>) -> String {
        Operator.allCases.filter(ops.contains).map(\.rawValue).joined(separator: " ")
    }

    public mutating func text(_ key: String, _ ops: Set<Operator> = Operator.textual) throws(LessonError) -> TextCondition? {
        guard let argument = try takeOne(key, ops) else { return nil }
        if argument.op == .matches || argument.op == .doesNotMatch {
            do { _ = try Regex(argument.value) } catch {
                throw self.error(argument, "'\(argument.value)' is not a valid regular expression")
            }
        }
        return TextCondition(op: argument.op, value: argument.value)
    }

    public mutating func requiredText(_ key: String, _ ops: Set<Operator> = [.equal]) throws(LessonError) -> TextCondition {
        guard let value = try text(key, ops) else { throw LessonError(file: file, line: line, "'\(probe)' needs \(key)=…") }
        return value
    }

    /// yes or no, with `=` (or `!=`, which flips it).
    public mutating func flag(_ key: String) throws(LessonError) -> Bool? {
        guard let argument = try takeOne(key, Operator.equality) else { return nil }
        guard argument.value == "yes" || argument.value == "no" else {
            throw error(argument, "'\(key)' is yes or no, found '\(argument.value)'")
        }
        return (argument.value == "yes") == (argument.op == .equal)
    }

    /// One of `choices`, with `=` or `!=`.
    public mutating func choice(_ key: String, _ choices: [String]) throws(LessonError) -> TextCondition? {
        guard let argument = try takeOne(key, Operator.equality) else { return nil }
        guard choices.contains(argument.value) else {
            throw error(argument, "'\(key)' is one of \(choices.joined(separator: ", ")), found '\(argument.value)'")
        }
        return TextCondition(op: argument.op, value: argument.value)
    }

    /// Numbers (each operator at most once); `size` reads 32M, 1G, max.
    public mutating func numbers(_ key: String, size: Bool = false) throws(LessonError) -> [NumberCondition] {
        var conditions: [NumberCondition] = []
        for argument in takeAll(key) {
            guard Operator.ordering.contains(argument.op) else {
                throw error(argument, "'\(key)' is a number: compare it with \(Self.spelled(Operator.ordering))")
            }
            if conditions.contains(where: { $0.op == argument.op }) { throw error(argument, "'\(key)\(argument.op.rawValue)' is given twice") }
            let value: Double?
            if size {
                value = ResourceLimits.parseBytes(argument.value).map { $0 < 0 ? Double.infinity : Double($0) }
            } else {
                value = argument.value == "max" ? Double.infinity : Double(argument.value)
            }
            guard let value else {
                throw error(argument, "'\(key)' takes \(size ? "a size like 32M, 1G or max" : "a number"), found '\(argument.value)'")
            }
            conditions.append(NumberCondition(op: argument.op, value: value, written: argument.value))
        }
        return conditions
    }

    public mutating func process(_ key: String) throws(LessonError) -> ProcessSelector? {
        guard let argument = try takeOne(key, [.equal]) else { return nil }
        do { return try ProcessSelector(parsing: argument.value) } catch {
            throw self.error(argument, error.message)
        }
    }

    /// The keys nobody asked for are mistakes (a typo, a key of another probe).
    public func finish() throws(LessonError) {
        if let extra = remaining.first {
            throw error(extra, "'\(probe)' has no '\(extra.key)' (it takes: \(known.joined(separator: ", ")))")
        }
    }
}
