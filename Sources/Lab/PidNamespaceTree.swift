internal import Glibc

/// Whether a process is in a pid namespace or one below it, for a lab without a cgroup to
/// find its processes by: each candidate's namespace is walked up (ioctl NS_GET_PARENT)
/// until it is the lab's or leaves what the caller can see.
struct PidNamespaceTree {
    let root: ino_t?

    init(of pid: Int32) {
        var info = stat()
        root = stat("/proc/\(pid)/ns/pid", &info) == 0 ? info.st_ino : nil
    }

    /// NS_GET_PARENT: _IO(0xb7, 0x2).
    static let getParent: UInt = 0xb702

    func contains(_ pid: Int32) -> Bool {
        guard let root else { return false }
        var fd = open("/proc/\(pid)/ns/pid", O_RDONLY | O_CLOEXEC)
        var depth = 0
        while fd >= 0 && depth < 32 {
            var info = stat()
            if fstat(fd, &info) == 0 && info.st_ino == root {
                close(fd)
                return true
            }
            let parent = ioctl(fd, Self.getParent)
            close(fd)
            fd = parent
            depth += 1
        }
        if fd >= 0 { close(fd) }
        return false
    }
}
