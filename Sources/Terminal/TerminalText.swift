internal import CGantry

extension String {
    /// The text a terminal would show: without escape sequences (CSI `ESC [ … final`, OSC
    /// `ESC ] … BEL|ST`, two-byte ones) and control characters. For measuring and for
    /// showing a program's prompt inside another.
    public var withoutTerminalEscapes: String {
        var result = ""
        var scalars = unicodeScalars.makeIterator()
        while let scalar = scalars.next() {
            if scalar == "\u{1b}" {
                guard let kind = scalars.next() else { break }
                if kind == "[" {
                    while let next = scalars.next(), !(0x40...0x7e).contains(next.value) {}
                } else if kind == "]" {
                    var previous: Unicode.Scalar = " "
                    while let next = scalars.next(), next != "\u{07}", !(previous == "\u{1b}" && next == "\\") { previous = next }
                }
                continue
            }
            if scalar.value < 0x20 || scalar.value == 0x7f { continue }
            result.unicodeScalars.append(scalar)
        }
        return result
    }
}

/// Columns a string takes on a terminal: wide (Hangul, CJK) characters take two, combining
/// marks none, escape sequences none. wcwidth(3) answers for the locale set at start-up.
public func displayWidth(_ text: String) -> Int {
    text.withoutTerminalEscapes.unicodeScalars.reduce(0) { width, scalar in
        let columns = gantry_wcwidth(scalar.value)
        return width + (columns >= 0 ? Int(columns) : (isWide(scalar) ? 2 : 1))
    }
}

/// East Asian wide ranges, for when the locale cannot say (wcwidth returns -1 in the C locale).
func isWide(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF,
        0xA000...0xA4CF, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60,
        0xFFE0...0xFFE6, 0x1F300...0x1F64F, 0x1F900...0x1F9FF, 0x20000...0x3FFFD:
        return true
    default:
        return false
    }
}
