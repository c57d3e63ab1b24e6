/// What the command's standard input, output and error are.
public enum StandardIO: Sendable, Hashable {
    /// The caller's own 0, 1 and 2.
    case inherit
    /// These descriptors (nil: inherit that one). The caller keeps and closes its copies.
    case descriptors(input: Int32?, output: Int32?, error: Int32?)
    /// A new PTY. Opened inside the sandbox's own devpts when it has one (the sandbox needs a
    /// `minimalDev` or `devpts` mount at /dev/pts); otherwise on the host, like `script`.
    /// The master comes back as `SandboxProcess.terminal`.
    case terminal(rows: UInt16, columns: UInt16)
}
