internal import Glibc

extension POSIX {
    /// A file that could not be written, and why.
    public struct WriteError: Error, CustomStringConvertible {
        public var path: String
        public var errno: Int32
        public init(path: String, errno: Int32) {
            self.path = path
            self.errno = errno
        }

        public var description: String { "cannot write \(path): \(String(cString: strerror(errno)))" }
    }

    /// Writes a file so that a reader (or a crash) sees the old contents or the new, never a
    /// mix: a temporary file next to it, fsync, rename over, fsync of the directory. The
    /// temporary name carries the pid so two writers never share one.
    public static func writeAtomically(_ path: String, _ text: String, mode: UInt32 = 0o644) throws(WriteError) {
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw WriteError(path: temporary, errno: errno) }
        let bytes = Array(text.utf8)
        var offset = 0
        var failure: Int32 = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, bytes.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                failure = errno
                break
            }
            offset += written
        }
        if failure == 0 && fsync(fd) != 0 { failure = errno }
        close(fd)
        if failure == 0 && rename(temporary, path) != 0 { failure = errno }
        guard failure == 0 else {
            unlink(temporary)
            throw WriteError(path: path, errno: failure)
        }
        let directoryFD = open(parentDirectory(of: path), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryFD >= 0 {
            fsync(directoryFD)
            close(directoryFD)
        }
    }

    /// The directory a path is in, as dirname(1) says it: `/a/b` → `/a`, `/a` → `/`, `a` → `.`.
    public static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// `mkdir -p`: every missing directory on the way, with `mode`; false with errno set.
    public static func makeDirectories(_ path: String, mode: UInt32 = 0o755) -> Bool {
        var partial = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            partial += "/" + component
            if mkdir(partial, mode) != 0 && errno != EEXIST { return false }
        }
        return true
    }
}
