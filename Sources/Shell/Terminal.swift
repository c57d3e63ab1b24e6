internal import Glibc

/// Writes to standard output with write(2), unbuffered: Gantry's text, the lab's output
/// and readline's redraws then reach the terminal in the order they were made (and Swift 6
/// does not let `stdout`, a C global, be touched from Swift anyway).
enum Terminal {
    static func write(_ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { Glibc.write(STDOUT_FILENO, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 && errno == EINTR { continue }
            if written <= 0 { return }
            offset += written
        }
    }
}
