internal import CGantry
internal import Glibc

/// The handful of small POSIX chores every target of Gantry needs, written once: reading a
/// descriptor or a /proc or cgroupfs file whole, listing a directory, trimming.
public enum POSIX {
    /// Reads until EOF (or EIO, how a PTY says its last replica closed). EINTR is retried.
    public static func readToEnd(_ fd: Int32) -> [UInt8] {
        readUntilEndOrError(fd).data
    }

    /// What was read before EOF, and the error that ended the reading instead, if one did.
    static func readUntilEndOrError(_ fd: Int32) -> (data: [UInt8], error: Errno?) {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count: Int
            do { count = try call { read(fd, &buffer, buffer.count) } } catch { return (data, error) }
            if count == 0 { return (data, nil) }
            // Appended as one block: `data += buffer[0..<count]` went byte by byte.
            buffer.withUnsafeBufferPointer { data.append(contentsOf: UnsafeBufferPointer(rebasing: $0[0..<count])) }
        }
    }

    /// The whole file as text, or nil with errno set (for files the kernel makes up, whose
    /// size says nothing, this reads to EOF rather than trusting stat).
    public static func readFile(_ path: String) -> String? {
        readFileBytes(path).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The whole file as bytes, or nil with errno set. A read that fails is a failure, not
    /// the end of the file: a cgroup removed between the open and the read fails with ENODEV,
    /// and its `cgroup.controllers` read as "" once told a lab that no controller existed.
    public static func readFileBytes(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        let (data, error) = readUntilEndOrError(fd)
        close(fd)
        if let error {
            errno = error.rawValue
            return nil
        }
        return data
    }

    /// Entry names in a directory, without `.` and `..`; `directoriesOnly` keeps DT_DIR ones.
    public static func list(_ directory: String, directoriesOnly: Bool = false) -> [String] {
        guard let stream = opendir(directory) else { return [] }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            if directoriesOnly && entry.pointee.d_type != UInt8(DT_DIR) { continue }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// What is at `path` (following symbolic links): nil when nothing is.
    public enum FileKind: Sendable { case directory, other }
    public static func kind(of path: String) -> FileKind? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return info.st_mode & S_IFMT == S_IFDIR ? .directory : .other
    }

    /// A NUL-terminated C buffer as a String.
    public static func string(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `KEY=VALUE` entries with `overrides` replacing same-key entries of `base` or added.
    /// Linear in the number of entries: a key's last value wins, in the place its first
    /// override takes at the end (as repeated `env K=V` would leave it).
    public static func environment(_ base: [String], overriding overrides: [String]) -> [String] {
        func key(_ entry: String) -> Substring { entry.utf8.firstIndex(of: UInt8(ascii: "=")).map { entry[..<$0] } ?? Substring(entry) }
        var last: [Substring: String] = [:]
        var order: [Substring] = []
        for override in overrides {
            let name = key(override)
            if last.updateValue(override, forKey: name) == nil { order.append(name) }
        }
        return base.filter { last[key($0)] == nil } + order.map { last[$0]! }
    }

    /// This process's environment, as `KEY=VALUE` entries.
    public static func currentEnvironment() -> [String] {
        var entries: [String] = []
        var index = environ
        while let entry = index.pointee {
            entries.append(String(cString: entry))
            index += 1
        }
        return entries
    }

    /// The current working directory, or nil.
    public static func currentDirectory() -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX))
        return getcwd(&buffer, buffer.count) != nil ? string(buffer) : nil
    }

    /// A pipe whose both ends are close-on-exec from birth (pipe2, so a fork on another
    /// thread never inherits it): (read end, write end).
    public static func makePipe() throws(Errno) -> (read: Int32, write: Int32) {
        var fds: [Int32] = [0, 0]
        try call { gantry_pipe2(&fds, O_CLOEXEC) }
        return (fds[0], fds[1])
    }

    /// The target of a symbolic link (`/proc/PID/ns/net` → `net:[4026531840]`), or nil.
    public static func readLink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let length = readlink(path, &buffer, buffer.count - 1)
        return length > 0 ? string(Array(buffer[0..<length])) : nil
    }
}

extension String {
    /// Without leading and trailing white space (Foundation's trimmingCharacters, without
    /// Foundation: the engine stays free of it for start-up time).
    public var trimmed: String {
        var view = Substring(self)
        while let first = view.first, first.isWhitespace { view = view.dropFirst() }
        while let last = view.last, last.isWhitespace { view = view.dropLast() }
        return String(view)
    }

    /// Without trailing white space: a terminal line as it reads (its indent kept).
    public var trimmedEnd: String {
        var view = Substring(self)
        while let last = view.last, last.isWhitespace { view = view.dropLast() }
        return String(view)
    }

    /// Padded with spaces to `width` characters, for the columns of tables.
    public func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}

extension StringProtocol {
    /// Without trailing white space (spaces, tabs, line ends): a line as it would print.
    public var trimmingTrailingWhitespace: String {
        var view = Substring(self)
        while let last = view.last, last.isWhitespace { view = view.dropLast() }
        return String(view)
    }
}

extension String {
    /// One decimal place (`2.5`), without Foundation's String(format:).
    public init(oneDecimal value: Double) {
        let tenths = Int64((value * 10).rounded())
        self = (tenths < 0 ? "-" : "") + "\(abs(tenths) / 10).\(abs(tenths) % 10)"
    }
}

extension Duration {
    /// Whole microseconds (negative for a deadline already passed).
    public var microseconds: Int {
        let parts = components
        return Int(parts.seconds) * 1_000_000 + Int(parts.attoseconds / 1_000_000_000_000)
    }

    /// Whole milliseconds (negative for a deadline already passed).
    public var milliseconds: Int { microseconds / 1000 }
}
