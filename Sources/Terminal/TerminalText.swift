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

/// A line as lines no wider than `width` columns, broken at spaces by display width (Hangul
/// takes two columns, escape sequences none), as a terminal should show Gantry's words: the
/// terminal itself would break them wherever the edge falls ("touche / s this machine").
/// A continuation keeps the line's indent.
public func wrapped(_ line: String, width: Int) -> [String] {
    guard displayWidth(line) > width else { return [line] }
    let indent = String(line.prefix { $0 == " " })
    return wrapped(String(line.dropFirst(indent.count)), width: width, first: indent, rest: indent.count <= width / 3 ? indent : "")
}

/// Words after `first` on the first line and after `rest` on each further one (a list
/// item's bullet and its hanging indent), greedily, by display width. A word wider than a
/// whole line is cut where the line ends, as nothing better fits.
public func wrapped(_ text: String, width: Int, first: String, rest: String) -> [String] {
    var lines: [String] = []
    var current = first
    var currentWidth = displayWidth(first)
    var hasWord = false
    for piece in text.split(separator: " ") {
        var word = Substring(piece)
        var wordWidth = displayWidth(String(word))
        if hasWord && currentWidth + 1 + wordWidth > width {
            lines.append(current)
            (current, currentWidth, hasWord) = (rest, displayWidth(rest), false)
        }
        // Wider than what is left of an empty line: cut it there, as often as needed.
        while !hasWord && currentWidth + wordWidth > width && width > currentWidth {
            let (head, tail) = cut(word, columns: width - currentWidth)
            lines.append(current + head)
            (current, currentWidth) = (rest, displayWidth(rest))
            word = tail
            wordWidth = displayWidth(String(word))
        }
        if hasWord {
            current += " "
            currentWidth += 1
        }
        current += word
        currentWidth += wordWidth
        hasWord = true
    }
    lines.append(current)
    return lines
}

/// The first `columns` columns of a word and the rest; escape sequences go whole with the
/// head, and at least one character does, so a cut always makes progress.
func cut(_ word: Substring, columns: Int) -> (Substring, Substring) {
    var index = word.startIndex
    var used = 0
    while index < word.endIndex {
        if word[index] == "\u{1b}" {
            // An escape sequence: up to its final byte (CSI) or its terminator (OSC).
            var end = word.index(after: index)
            while end < word.endIndex, !(word[end].isLetter || word[end] == "\u{07}") { end = word.index(after: end) }
            index = end < word.endIndex ? word.index(after: end) : end
            continue
        }
        let width = displayWidth(String(word[index]))
        if used + width > columns && used > 0 { break }
        used += width
        index = word.index(after: index)
    }
    return (word[..<index], word[index...])
}
