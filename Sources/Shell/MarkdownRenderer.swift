internal import Terminal

/// Lesson prose (Markdown) drawn for a terminal: headings, paragraphs wrapped to the width,
/// lists with a hanging indent, block quotes, fenced code kept as it is, and inline `code`,
/// **strong** and *emphasis*. Tables and HTML pass through unwrapped; `<details>` wrappers
/// are dropped (translations are chosen before rendering).
struct MarkdownRenderer {
    let style: TextStyle

    func render(_ lines: [String]) -> [String] {
        var output: [String] = []
        var paragraph: [String] = []
        var prefix = (first: "", rest: "")
        var inFence = false

        func flush() {
            guard !paragraph.isEmpty else { return }
            output += wrapped(inline(paragraph.joined(separator: " ")), width: style.width, first: prefix.first, rest: prefix.rest)
            paragraph = []
            prefix = ("", "")
        }

        for line in lines {
            let trimmed = line.trimmingLeadingSpaces
            if trimmed.hasPrefix("```") || trimmed.hasPrefix("~~~") {
                flush()
                inFence.toggle()
                continue
            }
            if inFence {
                output.append("    " + style.code(line))
                continue
            }
            if trimmed.isEmpty {
                flush()
                if output.last != "" && !output.isEmpty { output.append("") }
                continue
            }
            if trimmed.hasPrefix("<details") || trimmed.hasPrefix("</details") || trimmed.hasPrefix("<summary") { continue }
            if trimmed.hasPrefix("#") {
                flush()
                output.append(style.heading(String(trimmed.drop { $0 == "#" }).trimmingLeadingSpaces))
                continue
            }
            if trimmed.hasPrefix("|") {
                flush()
                output.append(inline(line))
                continue
            }
            if let marker = listMarker(trimmed) {
                flush()
                let indent = String(repeating: " ", count: displayWidth(marker))
                prefix = ("  " + marker, "  " + indent)
                paragraph = [String(trimmed.dropFirst(marker.count))]
                continue
            }
            if trimmed.hasPrefix(">") {
                if prefix.first != "  │ " { flush(); prefix = ("  │ ", "  │ ") }
                paragraph.append(String(trimmed.dropFirst()).trimmingLeadingSpaces)
                continue
            }
            paragraph.append(trimmed)
        }
        flush()
        while output.last == "" { output.removeLast() }
        while output.first == "" { output.removeFirst() }
        return output
    }

    /// `- `, `* `, `1. ` and the like, with the space after them.
    func listMarker(_ line: String) -> String? {
        if line.hasPrefix("- ") || line.hasPrefix("* ") { return "• " }
        let digits = line.prefix { $0.isNumber }
        if !digits.isEmpty, line.dropFirst(digits.count).hasPrefix(". ") { return String(digits) + ". " }
        return nil
    }

    /// Inline spans: `code`, **strong**, *emphasis* / _emphasis_, [text](link) → text (link).
    func inline(_ text: String) -> String {
        var result = ""
        var index = text.startIndex
        func span(_ delimiter: String, from start: String.Index) -> (String, String.Index)? {
            let open = text.index(start, offsetBy: delimiter.count)
            guard open < text.endIndex, let close = text[open...].firstRange(of: delimiter),
                close.lowerBound > open
            else { return nil }
            return (String(text[open..<close.lowerBound]), close.upperBound)
        }
        while index < text.endIndex {
            let rest = text[index...]
            if rest.hasPrefix("`"), let (inner, next) = span("`", from: index) {
                result += style.code(inner); index = next; continue
            }
            if rest.hasPrefix("**"), let (inner, next) = span("**", from: index) {
                result += style.bold(inner); index = next; continue
            }
            if rest.hasPrefix("*") || rest.hasPrefix("_"), !rest.dropFirst().hasPrefix(" "),
                index == text.startIndex || text[text.index(before: index)] == " " || text[text.index(before: index)] == "(",
                let (inner, next) = span(String(rest.first!), from: index)
            {
                result += style.underline(inner); index = next; continue
            }
            if rest.hasPrefix("["), let close = rest.firstIndex(of: "]"),
                text.index(after: close) < text.endIndex, text[text.index(after: close)] == "(",
                let end = text[close...].firstIndex(of: ")")
            {
                let label = String(text[text.index(after: index)..<close])
                let link = String(text[text.index(close, offsetBy: 2)..<end])
                result += label + " " + style.dim("(\(link))")
                index = text.index(after: end)
                continue
            }
            result.append(text[index])
            index = text.index(after: index)
        }
        return result
    }
}

extension String {
    var trimmingLeadingSpaces: String { String(drop { $0 == " " || $0 == "\t" }) }
}
