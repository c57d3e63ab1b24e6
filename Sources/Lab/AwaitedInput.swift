internal import Glibc
internal import POSIXSupport

/// What a blocked process waits to read, from /proc: the system call it sits in
/// (/proc/PID/syscall: its number and six arguments), and for a wait on several descriptors
/// the ones it asked about — the pollfd array or fd_set in its memory (/proc/PID/mem, which
/// the lab's owner may read: the lab's processes are its descendants, in a user namespace it
/// owns), or an epoll set's targets (/proc/PID/fdinfo/EPFD). `ping` polls its socket while
/// its input is the terminal: only the descriptors it asked about say it is not waiting
/// for a person.
enum AwaitedInput {
    #if arch(arm64)
        static let readCall = 63
        static let pollCalls: Set<Int> = [73]  // ppoll
        static let selectCalls: Set<Int> = [72]  // pselect6
        static let epollCalls: Set<Int> = [22]  // epoll_pwait
    #else
        static let readCall = 0
        static let pollCalls: Set<Int> = [7, 271]  // poll, ppoll
        static let selectCalls: Set<Int> = [23, 270]  // select, pselect6
        static let epollCalls: Set<Int> = [232, 281]  // epoll_wait, epoll_pwait
    #endif

    /// The descriptors process PID is blocked reading from, or nil when it is not blocked
    /// in a read or a wait for input. A wait whose descriptors cannot be read counts as one
    /// on its standard input.
    static func descriptors(of pid: Int32) -> [Int32]? {
        guard let text = POSIX.readFile("/proc/\(pid)/syscall") else { return nil }
        let fields = text.split(separator: " ")
        guard let number = Int(fields.first ?? "") else { return nil }
        let arguments = fields.dropFirst().prefix(6).map { UInt64($0.dropFirst(2), radix: 16) ?? 0 }
        guard arguments.count == 6 else { return nil }
        if number == readCall { return [Int32(truncatingIfNeeded: arguments[0])] }
        if pollCalls.contains(number) { return polled(pid, address: arguments[0], count: arguments[1]) ?? [0] }
        if selectCalls.contains(number) { return selected(pid, count: arguments[0], readSet: arguments[1]) ?? [0] }
        if epollCalls.contains(number) { return epolled(pid, descriptor: Int32(truncatingIfNeeded: arguments[0])) ?? [0] }
        return nil
    }

    /// `struct pollfd { int fd; short events; short revents; }` × count, those with POLLIN.
    static func polled(_ pid: Int32, address: UInt64, count: UInt64) -> [Int32]? {
        guard count > 0, count <= 1024, let bytes = memory(of: pid, at: address, count: Int(count) * 8) else { return nil }
        return (0..<Int(count)).compactMap { index in
            let entry = bytes[(index * 8)..<(index * 8 + 8)]
            let fd = entry.prefix(4).withUnsafeBytes { $0.loadUnaligned(as: Int32.self) }
            let events = entry.dropFirst(4).prefix(2).withUnsafeBytes { $0.loadUnaligned(as: Int16.self) }
            return fd >= 0 && events & Int16(POLLIN) != 0 ? fd : nil
        }
    }

    /// The read set of select: a bitmap of `count` descriptors.
    static func selected(_ pid: Int32, count: UInt64, readSet: UInt64) -> [Int32]? {
        guard readSet != 0 else { return [] }
        guard count > 0, count <= 1024, let bytes = memory(of: pid, at: readSet, count: (Int(count) + 7) / 8) else { return nil }
        return (0..<Int32(count)).filter { bytes[Int($0) / 8] & (1 << UInt8($0 % 8)) != 0 }
    }

    /// An epoll set's targets with EPOLLIN: `tfd: N events: MASK …` lines of its fdinfo.
    static func epolled(_ pid: Int32, descriptor: Int32) -> [Int32]? {
        guard let text = POSIX.readFile("/proc/\(pid)/fdinfo/\(descriptor)") else { return nil }
        return text.split(separator: "\n").compactMap { line in
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard words.count >= 4, words[0] == "tfd:", words[2] == "events:", let fd = Int32(words[1]),
                let mask = UInt32(words[3], radix: 16), mask & 0x001 != 0  // EPOLLIN
            else { return nil }
            return fd
        }
    }

    static func memory(of pid: Int32, at address: UInt64, count: Int) -> [UInt8]? {
        guard address <= UInt64(Int64.max) else { return nil }
        let fd = open("/proc/\(pid)/mem", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: count)
        let got = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, count, off_t(address)) }
        return got == count ? bytes : nil
    }
}
