internal import Glibc

/// Whose namespaces `Sandbox.enter` joins.
public struct EnterTarget: Sendable, Hashable {
    /// Namespace files to join, e.g. `/proc/1234/ns/net` or `/run/netns/testnet`.
    public var files: [Namespaces: String]

    public init(files: [Namespaces: String]) { self.files = files }

    /// The given namespaces of a running process, as `nsenter -t PID` names them.
    public static func process(_ pid: Int32, _ namespaces: Namespaces) -> EnterTarget {
        var files: [Namespaces: String] = [:]
        for namespace in namespaces.members {
            files[namespace] = "/proc/\(pid)/ns/\(namespace.procName!)"
        }
        return EnterTarget(files: files)
    }

    struct Join {
        var namespace: Namespaces
        var path: String
        var fd: Int32
    }

    /// Opens every file (in the parent, where errors are easy to report), in join order.
    func open() throws(IsolationError) -> [Join] {
        var joins: [Join] = []
        for namespace in Namespaces.joinOrder {
            guard let path = files[namespace] else { continue }
            // setns refuses to "re-enter" the user namespace we are already in (EINVAL), and
            // joining any namespace we are in is a no-op: skip them, as nsenter does.
            if let own = namespace.procName, Self.sameFile(path, "/proc/self/ns/\(own)") { continue }
            let fd: Int32
            do { fd = try IsolationError.call(.openNamespace, path) { Glibc.open(path, O_RDONLY | O_CLOEXEC) } } catch {
                for join in joins { close(join.fd) }
                throw error
            }
            joins.append(Join(namespace: namespace, path: path, fd: fd))
        }
        return joins
    }

    private static func sameFile(_ first: String, _ second: String) -> Bool {
        var a = stat(), b = stat()
        guard stat(first, &a) == 0, stat(second, &b) == 0 else { return false }
        return a.st_dev == b.st_dev && a.st_ino == b.st_ino
    }
}
