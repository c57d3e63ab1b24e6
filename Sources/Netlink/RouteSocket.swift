internal import CGantry
internal import Glibc
internal import POSIXSupport

/// An rtnetlink socket (AF_NETLINK, NETLINK_ROUTE) bound to one network namespace: the one
/// current on the thread that opened it. Requests are synchronous: send, then read until the
/// kernel's ACK, error or end of dump. Not shared across threads.
public final class RouteSocket {
    let fd: Int32
    private var sequence: UInt32 = 0

    /// A socket in the caller's own network namespace.
    public convenience init() throws(NetlinkError) {
        try self.init(fd: Self.openSocket())
    }

    /// A socket in the network namespace of the given file (`/proc/PID/ns/net`,
    /// `/run/netns/NAME`). Opened on a short-lived thread that setns'd there, so the caller's
    /// own thread never changes namespace.
    /// `userNamespace`: the user namespace that owns it, when this process is not privileged
    /// there (see `NetworkNamespace.socket`); reading links and addresses needs no privilege.
    public convenience init(namespaceAt path: String, userNamespace: String? = nil) throws(NetlinkError) {
        let made = try NetworkNamespace.socket(
            inNamespaceAt: path, userNamespace: userNamespace,
            kinds: [.init(domain: AF_NETLINK, type: Int32(SOCK_RAW.rawValue), protocolNumber: 0)])
        try self.init(fd: made.fd)
    }

    init(fd: Int32) throws(NetlinkError) {
        self.fd = fd
        // Let the kernel tell us exactly which attribute it disliked (extended ACKs); older
        // kernels without it simply do not.
        var on: Int32 = 1
        _ = setsockopt(fd, solNetlink, netlinkExtendedAck, &on, socklen_t(MemoryLayout<Int32>.size))
    }

    deinit { close(fd) }

    static func openSocket() throws(NetlinkError) -> Int32 {
        try NetlinkError.call("socket(AF_NETLINK)") { socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0 /* NETLINK_ROUTE */) }
    }

    /// Sends a request that changes something and waits for the kernel's ACK.
    func perform(_ request: NetlinkRequest, operation: @autoclosure () -> String) throws(NetlinkError) {
        var request = request
        request.flags.formUnion([.request, .ack])
        _ = try exchange(request, operation: operation)
    }

    /// Sends a dump request and collects every message of the answer.
    func dump(_ request: NetlinkRequest, operation: @autoclosure () -> String) throws(NetlinkError) -> [NetlinkReply] {
        var request = request
        request.flags.formUnion([.request, .dump])
        return try exchange(request, operation: operation)
    }

    private func exchange(_ request: NetlinkRequest, operation: () -> String) throws(NetlinkError) -> [NetlinkReply] {
        sequence &+= 1
        let bytes = request.encoded(sequence: sequence)
        var address = sockaddr_nl()
        address.nl_family = sa_family_t(AF_NETLINK)
        // A netlink datagram goes whole or not at all.
        try NetlinkError.call("sendto(netlink)") {
            bytes.withUnsafeBytes { buffer in
                withUnsafePointer(to: &address) { pointer in
                    pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(fd, buffer.baseAddress, buffer.count, 0, $0, socklen_t(MemoryLayout<sockaddr_nl>.size))
                    }
                }
            }
        }

        var collected: [NetlinkReply] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = try NetlinkError.call("recv(netlink)") { recv(fd, &buffer, buffer.count, 0) }
            let replies: [NetlinkReply]
            do { replies = try NetlinkParser.messages(Array(buffer[0..<count])) } catch {
                throw .malformedReply(error.description)
            }
            for reply in replies where reply.sequence == sequence {
                switch reply.type {
                case NLMSG.error:
                    // struct nlmsgerr { int error; struct nlmsghdr msg; }: 0 is the ACK.
                    guard reply.body.count >= 4 else { throw .malformedReply("short error message") }
                    let code = reply.body.int32(at: reply.body.startIndex)
                    if code == 0 { return collected }
                    throw .kernel(operation: operation(), cause: Errno(-code))
                case NLMSG.done:
                    return collected
                default:
                    collected.append(reply)
                    if reply.flags & NetlinkFlags.multi.rawValue == 0 && !request.flags.contains(.dump) {
                        return collected
                    }
                }
            }
        }
    }
}
