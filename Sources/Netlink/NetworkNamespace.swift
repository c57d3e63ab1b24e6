internal import CGantry
internal import Glibc
internal import POSIXSupport

/// A network namespace held open by a file descriptor (it lives as long as the descriptor or
/// any process in it), plus the `ip netns` conventions for named ones.
///
/// Switching network namespace is per thread (setns(2) with CLONE_NEWNET), so Gantry does it
/// only on short-lived threads of its own and never on a caller's thread: a socket opened
/// there stays in that namespace wherever it is used afterwards.
public final class NetworkNamespace: Sendable {
    /// An open `nsfs` file for the namespace.
    public let fd: Int32

    /// A path that opens this namespace from any thread of this process.
    public var path: String { "/proc/self/fd/\(fd)" }

    private init(fd: Int32) { self.fd = fd }

    deinit { close(fd) }

    /// A fresh, empty network namespace (only `lo`, down) that disappears when this object
    /// and every socket and process in it are gone: the throwaway host a test needs.
    public static func create() throws(NetlinkError) -> NetworkNamespace {
        let fd = try onThread { () throws(NetlinkError) -> Int32 in
            try NetlinkError.call("unshare(CLONE_NEWNET)") { gantry_unshare(cloneNewNet) }
            return try NetlinkError.call("open(/proc/thread-self/ns/net)") { Glibc.open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC) }
        }
        return NetworkNamespace(fd: fd)
    }

    /// Opens an existing namespace: `/proc/PID/ns/net`, `/run/netns/NAME`, or another fd path.
    public static func open(_ path: String) throws(NetlinkError) -> NetworkNamespace {
        NetworkNamespace(fd: try NetlinkError.call("open(\(path))") { Glibc.open(path, O_RDONLY | O_CLOEXEC) })
    }

    // MARK: Named namespaces, as `ip netns` keeps them

    /// Where `ip netns add NAME` bind-mounts a namespace so it outlives every process in it.
    public static let namedDirectory = "/run/netns"

    /// The names of the named network namespaces in `directory` (`ip netns list`), sorted.
    public static func names(in directory: String = namedDirectory) -> [String] {
        POSIX.list(directory).sorted()
    }

    /// Opens the named namespace a learner made with `ip netns add NAME`.
    public static func named(_ name: String, in directory: String = namedDirectory) throws(NetlinkError) -> NetworkNamespace {
        try validate(name: name)
        return try open(directory + "/" + name)
    }

    /// Gives this namespace a name, the way `ip netns add` does: an empty file in `directory`
    /// with the namespace bind-mounted onto it. Unlike `ip`, the directory is not made a
    /// shared mount: a lab keeps its /run/netns inside its own mount namespace.
    public func addName(_ name: String, in directory: String = namedDirectory) throws(NetlinkError) {
        try Self.validate(name: name)
        mkdir(directory, 0o755)
        let target = directory + "/" + name
        do {
            close(try NetlinkError.call("create \(target)") { Glibc.open(target, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0) })
        } catch  where error.cause == .exists {
            throw .invalidArgument("a network namespace named '\(name)' already exists in \(directory)")
        }
        do { try NetlinkError.call("mount(\(path) on \(target), MS_BIND)") { mount(path, target, nil, UInt(MS_BIND), nil) } } catch {
            unlink(target)
            throw error
        }
    }

    /// Removes a name (`ip netns delete`); the namespace itself ends with its last user.
    public static func removeName(_ name: String, in directory: String = namedDirectory) throws(NetlinkError) {
        try validate(name: name)
        let target = directory + "/" + name
        // EINVAL: nothing is mounted there (a name whose namespace was never bound).
        do { try NetlinkError.call("umount2(\(target))") { umount2(target, Int32(MNT_DETACH)) } } catch  where error.cause == .invalid {}
        try NetlinkError.call("unlink(\(target))") { unlink(target) }
    }

    private static func validate(name: String) throws(NetlinkError) {
        guard !name.isEmpty, !name.contains("/"), name != ".", name != ".." else {
            throw .invalidArgument("'\(name)' is not a network namespace name (no '/', not empty)")
        }
    }

    // MARK: Threads

    /// CLONE_NEWNET and CLONE_NEWUSER from <linux/sched.h>, which Swift's Glibc module does not import.
    static let cloneNewNet: Int32 = 0x4000_0000, cloneNewUser: Int32 = 0x1000_0000

    /// One way to make a socket, `socket(domain, type, protocol)`.
    struct SocketKind {
        var domain: Int32
        var type: Int32
        var protocolNumber: Int32
    }

    /// A socket in the network namespace at `path`, of the first of `kinds` that works.
    /// Made on a thread that joins the namespace, or — when `userNamespace` is given: the
    /// namespace belongs to a user namespace in which this process has no privilege (an
    /// unprivileged lab's) — by a child that joins that user namespace first, which a
    /// multi-threaded process cannot do itself. Either way the socket stays in that
    /// namespace wherever it is used afterwards.
    static func socket(inNamespaceAt path: String, userNamespace: String?, kinds: [SocketKind]) throws(NetlinkError) -> (fd: Int32, kind: Int) {
        guard let userNamespace else {
            return try inNamespace(at: path) { () throws(NetlinkError) -> (fd: Int32, kind: Int) in
                var lastError = NetlinkError.invalidArgument("no socket kind to try")
                for (index, kind) in kinds.enumerated() {
                    do throws(NetlinkError) {
                        return (
                            try NetlinkError.call("socket in \(path)") {
                                Glibc.socket(kind.domain, kind.type | Int32(SOCK_CLOEXEC.rawValue), kind.protocolNumber)
                            }, index
                        )
                    } catch { lastError = error }
                }
                throw lastError
            }
        }
        let user = try open(userNamespace), network = try open(path)
        let joins = [gantry_join(fd: user.fd, nstype: cloneNewUser), gantry_join(fd: network.fd, nstype: cloneNewNet)]
        let cKinds = kinds.map { gantry_socket_kind(domain: $0.domain, type: $0.type, protocol: $0.protocolNumber) }
        var chosen: Int32 = -1
        let fd = try NetlinkError.call("socket in \(path) (through user namespace \(userNamespace))") {
            gantry_socket_in(joins, joins.count, cKinds, cKinds.count, &chosen)
        }
        return (fd, Int(chosen))
    }

    /// Runs `body` on a new thread that has first joined the namespace at `path`.
    static func inNamespace<T>(at path: String, _ body: @escaping () throws(NetlinkError) -> T) throws(NetlinkError) -> T {
        let namespace = try open(path)
        return try onThread { () throws(NetlinkError) -> T in
            try NetlinkError.call("setns(\(path), CLONE_NEWNET)") { gantry_setns(namespace.fd, cloneNewNet) }
            return try body()
        }
    }

    /// Runs `body` on a fresh pthread and waits for it. The thread ends right after, so
    /// whatever namespace it switched to goes with it.
    static func onThread<T>(_ body: @escaping () throws(NetlinkError) -> T) throws(NetlinkError) -> T {
        let result = ResultBox<T>()
        do {
            try JoinableThread {
                do throws(NetlinkError) { result.value = .success(try body()) } catch { result.value = .failure(error) }
            }.join()
        } catch {
            throw .system(call: "pthread_create", cause: error)
        }
        return try result.value!.get()
    }
}

/// A result written by the worker thread, read after pthread_join.
private final class ResultBox<T>: @unchecked Sendable {
    // @unchecked: written only by the worker thread, read only after pthread_join, which
    // orders the two.
    var value: Result<T, NetlinkError>?
}
