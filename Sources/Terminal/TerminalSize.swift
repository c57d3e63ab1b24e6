internal import Glibc

/// The caller's terminal's size.
public enum TerminalSize {
    /// The window size of the caller's terminal (standard input's, else output's), or
    /// 24×80 when it has none.
    public static func current() -> (rows: UInt16, columns: UInt16) {
        var size = winsize()
        for descriptor in [STDIN_FILENO, STDOUT_FILENO]
        where ioctl(descriptor, UInt(TIOCGWINSZ), &size) == 0 && size.ws_row > 0 && size.ws_col > 0 {
            return (size.ws_row, size.ws_col)
        }
        return (24, 80)
    }
}
