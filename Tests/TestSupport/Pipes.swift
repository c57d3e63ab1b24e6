import Foundation
import Glibc
import POSIXSupport

/// A close-on-exec pipe: (read end, write end).
public func makePipe() throws -> (Int32, Int32) {
    var fds: [Int32] = [0, 0]
    guard pipe(&fds) == 0 else { throw POSIXError(.EMFILE) }
    for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
    return (fds[0], fds[1])
}

/// Reads to EOF (or EIO, how a PTY says its last replica closed), then closes.
public func readAll(_ fd: Int32) -> String {
    let data = POSIX.readToEnd(fd)
    if fd > 2 { close(fd) }
    return String(decoding: data, as: UTF8.self)
}
