import Foundation
import Glibc
import POSIXSupport

/// A close-on-exec pipe: (read end, write end).
public func makePipe() throws -> (Int32, Int32) {
    try POSIX.makePipe()
}

/// Reads to EOF (or EIO, how a PTY says its last replica closed), then closes.
public func readAll(_ fd: Int32) -> String {
    let data = POSIX.readToEnd(fd)
    if fd > 2 { close(fd) }
    return String(decoding: data, as: UTF8.self)
}
