/// Reads a Gantry record (the JSON object inside a `g` event's data) from its text.
///
/// Written by hand for the same reason as `EventLineScanner`: JSONDecoder's keyed containers
/// spent 37% of `gantry grade`'s time on these small flat objects (generic metadata, a coding
/// path, a dictionary per object), which kept grading under 1,000 transcripts a second. The
/// object's shape is fixed and small — strings, integers, booleans, arrays of strings and of
/// one kind of object — so this reads exactly that and refuses the rest. It accepts what
/// JSONDecoder accepts for `GantryRecord` (the test suite compares the two on every reference
/// transcript and on edited records): unknown keys are ignored, `null` is an absent optional,
/// `kind`, `chain` and `digests` are required.
enum GantryRecordScanner {
    static func record(_ text: String) -> GantryRecord? {
        var bytes = Array(text.utf8)
        bytes.append(0)  // a sentinel: every look ahead stops at it, no bounds checks in the loop
        var reader = Reader(bytes: bytes)
        guard let record = reader.record(), reader.atEnd else { return nil }
        return record
    }

    /// A value of the few kinds a record holds.
    private enum Value {
        case string(String), integer(Int), bool(Bool), null
        case strings([String]), expectations([GantryRecord.Expectation])
    }

    private struct Reader {
        let bytes: [UInt8]
        var index = 0

        var atEnd: Bool {
            mutating get {
                skipSpace()
                return index == bytes.count - 1
            }
        }

        mutating func skipSpace() {
            while true {
                switch bytes[index] {
                case 0x20, 0x09, 0x0a, 0x0d: index += 1
                default: return
                }
            }
        }

        mutating func take(_ byte: UInt8) -> Bool {
            skipSpace()
            guard bytes[index] == byte else { return false }
            index += 1
            return true
        }

        mutating func string() -> String? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            // The sentinel stops it too: a raw control character ends a string as not JSON.
            return EventLineScanner.string(bytes, &index, decode: true)
        }

        /// A JSON number's extent (`-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`), and
        /// whether it is an integer.
        mutating func number() -> (range: Range<Int>, integer: Bool)? {
            skipSpace()
            let start = index
            func digits() -> Bool {
                let first = index
                while (0x30...0x39).contains(bytes[index]) { index += 1 }
                return index > first
            }
            if bytes[index] == UInt8(ascii: "-") { index += 1 }
            if bytes[index] == UInt8(ascii: "0") {
                index += 1
            } else if !digits() {
                return nil
            }
            var integer = true
            if bytes[index] == UInt8(ascii: ".") {
                index += 1
                integer = false
                guard digits() else { return nil }
            }
            if bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
                index += 1
                integer = false
                if bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
                guard digits() else { return nil }
            }
            return (start..<index, integer)
        }

        /// An integer field's value; a fraction or an exponent is not one (no writer makes them).
        mutating func integer() -> Int? {
            guard let number = number(), number.integer else { return nil }
            return Int(String(decoding: bytes[number.range], as: UTF8.self))
        }

        mutating func word(_ text: StaticString) -> Bool {
            skipSpace()
            let count = text.utf8CodeUnitCount
            guard index + count < bytes.count else { return false }
            for offset in 0..<count where bytes[index + offset] != text.utf8Start[offset] { return false }
            index += count
            return true
        }

        /// `{ "key": value, … }`, calling `field` for each key with the reader at its value.
        mutating func object(_ field: (inout Reader, String) -> Bool) -> Bool {
            guard take(UInt8(ascii: "{")) else { return false }
            if take(UInt8(ascii: "}")) { return true }
            repeat {
                guard let key = string(), take(UInt8(ascii: ":")), field(&self, key) else { return false }
            } while take(UInt8(ascii: ","))
            return take(UInt8(ascii: "}"))
        }

        mutating func array<Element>(_ element: (inout Reader) -> Element?) -> [Element]? {
            guard take(UInt8(ascii: "[")) else { return nil }
            var elements: [Element] = []
            if take(UInt8(ascii: "]")) { return elements }
            repeat {
                guard let next = element(&self) else { return nil }
                elements.append(next)
            } while take(UInt8(ascii: ","))
            return take(UInt8(ascii: "]")) ? elements : nil
        }

        /// Any JSON value, read only to be skipped (a key this version does not know).
        mutating func skipValue() -> Bool {
            skipSpace()
            switch bytes[index] {
            case UInt8(ascii: "\""): return string() != nil
            case UInt8(ascii: "{"): return object { reader, _ in reader.skipValue() }
            case UInt8(ascii: "["): return array { reader in reader.skipValue() ? () : nil } != nil
            case UInt8(ascii: "t"): return word("true")
            case UInt8(ascii: "f"): return word("false")
            case UInt8(ascii: "n"): return word("null")
            default: return number() != nil
            }
        }

        mutating func bool() -> Bool? {
            if word("true") { return true }
            if word("false") { return false }
            return nil
        }

        /// nil for `null`, `.some(nil)` for a value that is not the type asked for.
        mutating func optional<T>(_ read: (inout Reader) -> T?) -> T?? {
            if word("null") { return .none }
            return .some(read(&self))
        }

        mutating func expectation() -> GantryRecord.Expectation? {
            var line: Int?, expectation: String?, passed: Bool?, seen: String?
            // A value that does not read ends the object there: the reader is past it.
            let read = object { reader, key in
                switch key {
                case "line":
                    line = reader.integer()
                    return line != nil
                case "expectation":
                    expectation = reader.string()
                    return expectation != nil
                case "passed":
                    passed = reader.bool()
                    return passed != nil
                case "seen":
                    seen = reader.string()
                    return seen != nil
                default: return reader.skipValue()
                }
            }
            guard read, let line, let expectation, let passed, let seen else { return nil }
            return GantryRecord.Expectation(line: line, expectation: expectation, passed: passed, seen: seen)
        }

        mutating func record() -> GantryRecord? {
            var record = GantryRecord(kind: .step)
            var kind: GantryRecord.Kind?, chain: String?, digests: [String]?
            // Each optional field: absent and null leave it nil; a value of another type
            // refuses the record, as JSONDecoder does.
            func set<T>(_ reader: inout Reader, _ field: WritableKeyPath<GantryRecord, T?>, _ read: (inout Reader) -> T?) -> Bool {
                switch reader.optional(read) {
                case .none: record[keyPath: field] = nil
                case .some(.none): return false
                case .some(.some(let value)): record[keyPath: field] = value
                }
                return true
            }
            let read = object { reader, key in
                switch key {
                // The required fields: a value that does not read (or an unknown kind)
                // refuses the record.
                case "kind":
                    kind = reader.string().flatMap(GantryRecord.Kind.init(rawValue:))
                    return kind != nil
                case "chain":
                    chain = reader.string()
                    return chain != nil
                case "digests":
                    digests = reader.array { $0.string() }
                    return digests != nil
                case "text": return set(&reader, \.text) { $0.string() }
                case "target": return set(&reader, \.target) { $0.string() }
                case "depth": return set(&reader, \.depth) { $0.integer() }
                case "redacted": return set(&reader, \.redacted) { $0.bool() }
                case "status": return set(&reader, \.status) { $0.integer().flatMap(Int32.init(exactly:)) }
                case "milliseconds": return set(&reader, \.milliseconds) { $0.integer() }
                case "step": return set(&reader, \.step) { $0.string() }
                case "index": return set(&reader, \.index) { $0.integer() }
                case "title": return set(&reader, \.title) { $0.string() }
                case "passed": return set(&reader, \.passed) { $0.bool() }
                case "overtaken": return set(&reader, \.overtaken) { $0.bool() }
                case "number": return set(&reader, \.number) { $0.integer() }
                case "expectations": return set(&reader, \.expectations) { $0.array { $0.expectation() } }
                case "reason": return set(&reader, \.reason) { $0.string() }
                case "purpose": return set(&reader, \.purpose) { $0.string() }
                case "commands": return set(&reader, \.commands) { $0.array { $0.string() } }
                case "seal": return set(&reader, \.seal) { $0.string() }
                default: return reader.skipValue()
                }
                return true
            }
            guard read, let kind, let chain, let digests else { return nil }
            record.kind = kind
            record.chain = chain
            record.digests = digests
            return record
        }
    }
}
