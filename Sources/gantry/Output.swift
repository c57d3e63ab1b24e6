internal import ArgumentParser
internal import Glibc
internal import POSIXSupport

/// A line on standard error, unbuffered, so it lands in order with what the sandbox writes.
func printError(_ message: String) { writeError(message + "\n") }

/// Text on standard error as it is (a progress bar redraws its line).
func writeError(_ text: String) {
    var text = text
    text.withUTF8 { _ = write(STDERR_FILENO, $0.baseAddress, $0.count) }
}

/// A command's result on standard output, or in `output` (written whole, atomically);
/// a file that cannot be written is said and exits 1.
func writeResult(_ text: String, to output: String?, command: String) throws {
    guard let output else { return print(text, terminator: "") }
    do { try POSIX.writeAtomically(output, text) } catch {
        printError("gantry \(command): \(error)")
        throw ExitCode(1)
    }
}
