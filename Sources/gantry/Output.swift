internal import Glibc

/// A line on standard error, unbuffered, so it lands in order with what the sandbox writes.
func printError(_ message: String) { writeError(message + "\n") }

/// Text on standard error as it is (a progress bar redraws its line).
func writeError(_ text: String) {
    var text = text
    text.withUTF8 { _ = write(STDERR_FILENO, $0.baseAddress, $0.count) }
}

extension String {
    /// Padded with spaces to `width` characters, for the columns of doctor and lessons.
    func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
