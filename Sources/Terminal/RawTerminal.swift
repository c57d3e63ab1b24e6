internal import Glibc

/// The caller's terminal (standard input) in raw mode until `restore()`: no echo, no line
/// editing, Ctrl-C and Ctrl-Z as bytes, so they reach the program on the other side of a
/// relay. Nothing happens when standard input is not a terminal.
public final class RawTerminal {
    private var saved: termios?

    public init() {
        var mode = termios()
        guard isatty(STDIN_FILENO) == 1, tcgetattr(STDIN_FILENO, &mode) == 0 else { return }
        saved = mode
        cfmakeraw(&mode)
        tcsetattr(STDIN_FILENO, TCSADRAIN, &mode)
    }

    /// Puts back the mode the terminal had; once.
    public func restore() {
        if var mode = saved { tcsetattr(STDIN_FILENO, TCSADRAIN, &mode) }
        saved = nil
    }
}
