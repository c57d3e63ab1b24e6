internal import Glibc

extension POSIX {
    /// A file that could not be written, and why.
    public struct WriteError: Error, CustomStringConvertible {
        public var path: String
        public var cause: Errno
        public init(path: String, cause: Errno) {
            self.path = path
            self.cause = cause
        }

        public var description: String { "cannot write \(path): \(cause.message)" }
    }

    /// Writes a file so that a reader (or a crash) sees the old contents or the new, never a
    /// mix: a temporary file next to it, fsync, rename over, fsync of the directory. The
    /// temporary name carries the pid so two writers never share one.
    public static func writeAtomically(_ path: String, _ text: String, mode: UInt32 = 0o644) throws(WriteError) {
        let temporary = path + ".tmp-\(getpid())"
        let fd: Int32
        do { fd = try call { open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode) } } catch {
            throw WriteError(path: temporary, cause: error)
        }
        do throws(Errno) {
            defer { close(fd) }
            try writeAll(fd, text)
            try call { fsync(fd) }
            try call { rename(temporary, path) }
        } catch {
            unlink(temporary)
            throw WriteError(path: path, cause: error)
        }
        if let directory = try? call({ open(parentDirectory(of: path), O_RDONLY | O_DIRECTORY | O_CLOEXEC) }) {
            fsync(directory)
            close(directory)
        }
    }

    /// The directory a path is in, as dirname(1) says it: `/a/b` → `/a`, `/a` → `/`, `a` → `.`.
    public static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// `mkdir -p`: every missing directory on the way, with `mode`.
    public static func makeDirectories(_ path: String, mode: UInt32 = 0o755) throws(Errno) {
        var partial = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            partial += "/" + component
            do { try call { mkdir(partial, mode) } } catch { if error != .exists { throw error } }
        }
    }
}
