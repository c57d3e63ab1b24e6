/// A mistake in a lesson file, where it is and what was expected.
/// Reads as `lessons/uts.md:12:5: unknown probe 'hostnam' (known: hostname, link, …)`.
public struct LessonError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int
    public var message: String

    public init(file: String, line: Int, column: Int = 1, _ message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String { "\(file):\(line):\(column): \(message)" }
}
