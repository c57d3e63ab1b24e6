internal import CReadline
internal import Glibc
internal import POSIXSupport

/// How Gantry's own text is drawn: with colour and emphasis on a terminal, plain otherwise
/// (a pipe, a file, `NO_COLOR`, `TERM=dumb`), wrapped to a width.
public struct TextStyle: Sendable {
    public var colors: Bool
    public var width: Int

    public init(colors: Bool, width: Int) {
        self.colors = colors
        self.width = width
    }

    /// For standard output as it is now.
    /// The width Gantry writes at on a terminal this wide: its width, but lesson prose no
    /// wider than 100 columns, for reading.
    public static func width(forColumns columns: Int) -> Int { min(max(columns, 20), 100) }

    public static func forStandardOutput(width: Int) -> TextStyle {
        let terminal = isatty(STDOUT_FILENO) == 1
        let noColor = getenv("NO_COLOR").map { $0.pointee != 0 } ?? false
        let dumb = getenv("TERM").map { String(cString: $0) == "dumb" } ?? true
        return TextStyle(colors: terminal && !noColor && !dumb, width: width)
    }

    /// `text` in SGR `code`. For a readline prompt the escape sequences are bracketed in
    /// \001 … \002, so readline knows they take no columns.
    func sgr(_ code: String, _ text: String, forReadline: Bool = false) -> String {
        guard colors else { return text }
        let (open, close) = forReadline ? ("\u{01}", "\u{02}") : ("", "")
        return open + "\u{1b}[\(code)m" + close + text + open + "\u{1b}[0m" + close
    }

    func bold(_ text: String) -> String { sgr("1", text) }
    func dim(_ text: String) -> String { sgr("2", text) }
    func underline(_ text: String) -> String { sgr("4", text) }
    func code(_ text: String) -> String { sgr("36", text) }
    func good(_ text: String) -> String { sgr("1;32", text) }
    func bad(_ text: String) -> String { sgr("1;31", text) }
    func note(_ text: String) -> String { sgr("33", text) }
    func heading(_ text: String) -> String { sgr("1;4", text) }
}
