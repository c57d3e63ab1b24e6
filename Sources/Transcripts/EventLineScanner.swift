/// Reads one asciicast event line, `[time, "code", "data"]`, from its bytes.
///
/// Written by hand because the shape is fixed and JSONDecoder (FoundationEssentials) is not
/// made for millions of three-element arrays: it spent more than half of `gantry grade`'s time
/// on them, far from grading 1,000 transcripts a second. Gantry's own events (the JSON object
/// inside `data`) are read by `GantryRecordScanner`. Anything this scanner does not accept
/// (JSON it does not expect in an event line) is refused, so the reader calls the line broken.
enum EventLineScanner {
    struct Line {
        var time: Double
        var code: String
        /// nil when `wantData` was false (the caller only needs the time and code).
        var data: String?
    }

    static func scan(_ bytes: [UInt8], wantData: Bool) -> Line? {
        var index = 0
        func skipSpace() {
            while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x09 || bytes[index] == 0x0d { index += 1 }
        }
        func expect(_ byte: UInt8) -> Bool {
            skipSpace()
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }
        guard expect(UInt8(ascii: "[")) else { return nil }
        skipSpace()
        let numberStart = index
        while index < bytes.count, (0x30...0x39).contains(bytes[index]) || [0x2e, 0x2d, 0x2b, 0x65, 0x45].contains(bytes[index]) { index += 1 }
        guard index > numberStart, let time = Double(String(decoding: bytes[numberStart..<index], as: UTF8.self)) else { return nil }
        guard expect(UInt8(ascii: ",")), expect(UInt8(ascii: "\"")), let code = string(bytes, &index, decode: true) else { return nil }
        guard expect(UInt8(ascii: ",")), expect(UInt8(ascii: "\"")), let data = string(bytes, &index, decode: wantData) else { return nil }
        guard expect(UInt8(ascii: "]")) else { return nil }
        skipSpace()
        guard index == bytes.count else { return nil }
        return Line(time: time, code: code, data: wantData ? data : nil)
    }

    /// A JSON string's contents after its opening quote, up to and past the closing one;
    /// with `decode` false only checked, and "" returned.
    static func string(_ bytes: [UInt8], _ index: inout Int, decode: Bool) -> String? {
        var out: [UInt8] = []
        while index < bytes.count {
            // The plain run up to the next quote, backslash or control character is taken at
            // once (most of an output's text), not byte by byte.
            let run = index
            while index < bytes.count, bytes[index] >= 0x20, bytes[index] != 0x22, bytes[index] != 0x5c { index += 1 }
            guard index < bytes.count else { return nil }
            let byte = bytes[index]
            if byte == 0x22, decode, out.isEmpty {
                index += 1
                return String(decoding: bytes[run..<(index - 1)], as: UTF8.self)  // no escapes: the run itself
            }
            if decode, index > run {
                bytes.withUnsafeBufferPointer { out.append(contentsOf: UnsafeBufferPointer(rebasing: $0[run..<index])) }
            }
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                return decode ? String(decoding: out, as: UTF8.self) : ""
            case UInt8(ascii: "\\"):
                guard index < bytes.count else { return nil }
                let escape = bytes[index]
                index += 1
                let simple: UInt8? =
                    switch escape {
                    case UInt8(ascii: "\""): 0x22
                    case UInt8(ascii: "\\"): 0x5c
                    case UInt8(ascii: "/"): 0x2f
                    case UInt8(ascii: "b"): 0x08
                    case UInt8(ascii: "f"): 0x0c
                    case UInt8(ascii: "n"): 0x0a
                    case UInt8(ascii: "r"): 0x0d
                    case UInt8(ascii: "t"): 0x09
                    default: nil
                    }
                if let simple {
                    if decode { out.append(simple) }
                    continue
                }
                guard escape == UInt8(ascii: "u"), var scalar = hex4(bytes, &index) else { return nil }
                // A surrogate pair is one scalar; a lone surrogate becomes U+FFFD, as JSONDecoder does.
                if (0xD800...0xDBFF).contains(scalar) {
                    if index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") {
                        index += 2
                        guard let low = hex4(bytes, &index) else { return nil }
                        scalar = (0xDC00...0xDFFF).contains(low) ? 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00) : 0xFFFD
                    } else {
                        scalar = 0xFFFD
                    }
                } else if (0xDC00...0xDFFF).contains(scalar) {
                    scalar = 0xFFFD
                }
                if decode { UTF8.encode(Unicode.Scalar(scalar) ?? "\u{FFFD}") { out.append($0) } }
            default:
                guard byte >= 0x20 else { return nil }  // a raw control character is not JSON
                if decode { out.append(byte) }
            }
        }
        return nil
    }

    private static func hex4(_ bytes: [UInt8], _ index: inout Int) -> UInt32? {
        guard index + 4 <= bytes.count else { return nil }
        var value: UInt32 = 0
        for byte in bytes[index..<index + 4] {
            let digit: UInt8
            switch byte {
            case 0x30...0x39: digit = byte - 0x30
            case 0x41...0x46: digit = byte - 0x41 + 10
            case 0x61...0x66: digit = byte - 0x61 + 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
        }
        index += 4
        return value
    }
}
