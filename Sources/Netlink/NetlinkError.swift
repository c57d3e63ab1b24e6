internal import Glibc
public import POSIXSupport

/// A netlink request the kernel refused, or one we refused to send. The description names
/// the operation and the object: `add address 172.16.0.1/24 to veth0: EEXIST (File exists) — …`.
public enum NetlinkError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kernel answered with an errno.
    case kernel(operation: String, cause: Errno)
    /// A system call around the request failed (socket, setns, send, recv).
    case system(call: String, cause: Errno)
    /// Bad input, caught before anything was sent.
    case invalidArgument(String)
    /// No link of that name in the namespace the socket belongs to.
    case noSuchLink(String)
    /// The kernel's bytes did not parse.
    case malformedReply(String)

    /// The kernel's errno, for `.kernel` and `.system`.
    public var cause: Errno? {
        switch self {
        case .kernel(_, let cause), .system(_, let cause): cause
        default: nil
        }
    }

    /// One system call through `POSIX.call`, its failure as `.system` naming the call (the
    /// name is made only after errno was read).
    @discardableResult
    static func call<Result: FixedWidthInteger>(
        _ name: @autoclosure () -> String, retryOnInterrupt: Bool = true,
        _ body: () -> Result
    ) throws(NetlinkError) -> Result {
        do { return try POSIX.call(retryOnInterrupt: retryOnInterrupt, body) } catch { throw .system(call: name(), cause: error) }
    }

    public var description: String {
        switch self {
        case .kernel(let operation, let cause):
            return "\(operation): \(cause)" + (Self.hint(cause.rawValue).map { " — \($0)" } ?? "")
        case .system(let call, let cause):
            return "\(call): \(cause)"
        case .invalidArgument(let message):
            return message
        case .noSuchLink(let name):
            return "no link named '\(name)' in this network namespace (list them with `ip link`)"
        case .malformedReply(let message):
            return "unexpected reply from the kernel: \(message)"
        }
    }

    static func hint(_ errno: Int32) -> String? {
        switch errno {
        case EEXIST: "it already exists; pick another name or delete the old one first"
        case ENODEV: "no such link in this network namespace"
        case EPERM: "changing links needs CAP_NET_ADMIN over this network namespace (root, or its user namespace)"
        case EADDRNOTAVAIL: "that address is not on this link"
        case EOPNOTSUPP: "this kind of link does not support that operation"
        case EINVAL: "the kernel rejected a value (name longer than 15 bytes, bad MTU or MAC, …)"
        default: nil
        }
    }
}
