import Testing

@testable import Shell

/// The REPL shows a nested shell's output as it comes: what that shell printed on
/// accepting the line (readline's echo of it, the end of bracketed paste, its line break)
/// is held back and dropped however the bytes are cut, as `LabShell.split` drops it once
/// the command ended.
@Suite struct AcceptedLineTests {
    static let shapes: [(raw: String, command: String, output: String)] = [
        ("\u{1b}[?2004l\r\r\ncon01\r\n", "hostname", "con01\r\n"),
        ("hostname\r\n\u{1b}[?2004l\rcon01\r\n", "hostname", "con01\r\n"),
        ("hostname con01\r\n\u{1b}[?2004l\r", "hostname con01", ""),
        ("exit\r\n\u{1b}[?2004l\rexit\r\n", "exit", "exit\r\n"),
        ("echo; echo x\r\n\u{1b}[?2004l\r\r\nx\r\n", "echo; echo x", "\r\nx\r\n"),
        ("\u{1b}[?2004l\r\ncon01\r\n", "hostname", "con01\r\n"),
        ("con01\n", "hostname", "con01\n"),
    ]

    @Test func heldBackHoweverTheBytesAreCut() {
        for shape in Self.shapes {
            for size in [1, 3, shape.raw.utf8.count] {
                let state = REPL.RunState(nested: true, line: shape.command)
                let bytes = Array(shape.raw.utf8)
                var shown = ""
                for start in stride(from: 0, to: bytes.count, by: size) {
                    shown += state.strippingAcceptedLine(String(decoding: bytes[start..<min(start + size, bytes.count)], as: UTF8.self))
                }
                shown += state.flush()
                #expect(shown == shape.output, "\(shape.raw.debugDescription) in pieces of \(size)")
            }
        }
    }
}
