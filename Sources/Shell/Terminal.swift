internal import Glibc
internal import POSIXSupport

/// Writes to standard output with write(2), unbuffered: Gantry's text, the lab's output
/// and readline's redraws then reach the terminal in the order they were made (and Swift 6
/// does not let `stdout`, a C global, be touched from Swift anyway).
enum Screen {
    /// A terminal that is gone (EIO, EPIPE) takes nothing more, which is not worth a word.
    static func write(_ text: String) {
        try? POSIX.writeAll(STDOUT_FILENO, text)
    }
}
