internal import Glibc
internal import POSIXSupport

/// ICMP echo, so a check can ask "does 172.16.0.2 answer from inside testnet?" without
/// trusting a `ping` binary or its output. Raw ICMP sockets need CAP_NET_RAW in the
/// namespace; without it the unprivileged "ping socket" (SOCK_DGRAM) is tried.
public enum Ping {
    public struct Reply: Sendable, Hashable {
        public var sequence: UInt16
        /// Round-trip time in microseconds.
        public var microseconds: Int
    }

    public struct Result: Sendable, Hashable, CustomStringConvertible {
        public var destination: IPAddress
        public var sent: Int
        public var replies: [Reply]

        public var reachable: Bool { !replies.isEmpty }

        public var description: String {
            let loss = sent == 0 ? 0 : 100 * (sent - replies.count) / sent
            return "\(destination): \(sent) sent, \(replies.count) received, \(loss)% loss"
        }
    }

    /// Sends `count` echo requests, one after the other, waiting up to `timeoutMilliseconds`
    /// for each reply. With `namespacePath` the socket lives in that network namespace.
    public static func echo(
        _ destination: IPAddress, count: Int = 1, timeoutMilliseconds: Int = 1000,
        inNamespaceAt namespacePath: String? = nil, userNamespace: String? = nil
    ) throws(NetlinkError) -> Result {
        let family = destination.family == AddressFamily.inet ? AF_INET : AF_INET6
        let endpoint: Endpoint
        if let namespacePath {
            let made = try NetworkNamespace.socket(inNamespaceAt: namespacePath, userNamespace: userNamespace, kinds: Endpoint.kinds(family: family))
            endpoint = Endpoint(fd: made.fd, family: family, raw: made.kind == 0)
        } else {
            endpoint = try Endpoint.open(family: family)
        }
        defer { close(endpoint.fd) }

        let identifier = UInt16(truncatingIfNeeded: getpid() ^ Int32(endpoint.fd << 8))
        var replies: [Reply] = []
        for sequence in 1...max(count, 1) {
            let sequence = UInt16(sequence)
            let packet = request(family: family, identifier: identifier, sequence: sequence)
            let start = monotonicMicroseconds()
            try endpoint.send(packet, to: destination)
            if try endpoint.awaitReply(identifier: identifier, sequence: sequence, deadline: start + timeoutMilliseconds * 1000) {
                replies.append(Reply(sequence: sequence, microseconds: monotonicMicroseconds() - start))
            }
        }
        return Result(destination: destination, sent: max(count, 1), replies: replies)
    }

    /// An echo request: type 8 (IPv4) or 128 (IPv6), code 0, checksum, identifier, sequence,
    /// and 16 bytes of payload. The IPv6 checksum is the kernel's to fill in.
    static func request(family: Int32, identifier: UInt16, sequence: UInt16) -> [UInt8] {
        var packet: [UInt8] = [
            family == AF_INET ? 8 : 128, 0, 0, 0,
            UInt8(identifier >> 8), UInt8(identifier & 0xff),
            UInt8(sequence >> 8), UInt8(sequence & 0xff),
        ]
        packet += Array("gantry-ping-0123".utf8)
        if family == AF_INET {
            let sum = checksum(packet)
            packet[2] = UInt8(sum >> 8)
            packet[3] = UInt8(sum & 0xff)
        }
        return packet
    }

    /// The Internet checksum (RFC 1071): one's complement of the one's-complement sum.
    static func checksum(_ bytes: [UInt8]) -> UInt16 {
        var sum: UInt32 = 0
        var index = 0
        while index + 1 < bytes.count {
            sum += UInt32(bytes[index]) << 8 | UInt32(bytes[index + 1])
            index += 2
        }
        if index < bytes.count { sum += UInt32(bytes[index]) << 8 }
        while sum >> 16 != 0 { sum = (sum & 0xffff) + (sum >> 16) }
        return ~UInt16(sum)
    }

    static func monotonicMicroseconds() -> Int {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return now.tv_sec * 1_000_000 + now.tv_nsec / 1000
    }

    /// A socket to send echoes from, raw or datagram.
    struct Endpoint {
        var fd: Int32
        var family: Int32
        /// Raw IPv4 sockets receive the IP header too; datagram ping sockets rewrite the
        /// identifier to their port.
        var raw: Bool

        /// Raw first (CAP_NET_RAW), then the unprivileged datagram ping socket.
        static func kinds(family: Int32) -> [NetworkNamespace.SocketKind] {
            let protocolNumber = family == AF_INET ? Int32(IPPROTO_ICMP) : Int32(IPPROTO_ICMPV6)
            return [
                .init(domain: family, type: Int32(SOCK_RAW.rawValue), protocolNumber: protocolNumber),
                .init(domain: family, type: Int32(SOCK_DGRAM.rawValue), protocolNumber: protocolNumber),
            ]
        }

        static func open(family: Int32) throws(NetlinkError) -> Endpoint {
            let protocolNumber = family == AF_INET ? Int32(IPPROTO_ICMP) : Int32(IPPROTO_ICMPV6)
            let cloexec = Int32(SOCK_CLOEXEC.rawValue)
            if let fd = try? POSIX.call({ socket(family, Int32(SOCK_RAW.rawValue) | cloexec, protocolNumber) }) {
                return Endpoint(fd: fd, family: family, raw: true)
            }
            let fd = try NetlinkError.call("socket(ICMP): raw needs CAP_NET_RAW, datagram needs net.ipv4.ping_group_range") {
                socket(family, Int32(SOCK_DGRAM.rawValue) | cloexec, protocolNumber)
            }
            return Endpoint(fd: fd, family: family, raw: false)
        }

        func send(_ packet: [UInt8], to destination: IPAddress) throws(NetlinkError) {
            // One sockaddr_storage for both families: the address bytes sit at the family's
            // offset (sin_addr, sin6_addr), the length says which it is.
            var address = sockaddr_storage()
            address.ss_family = sa_family_t(family)
            let (offset, length) =
                family == AF_INET
                ? (MemoryLayout<sockaddr_in>.offset(of: \.sin_addr)!, MemoryLayout<sockaddr_in>.size)
                : (MemoryLayout<sockaddr_in6>.offset(of: \.sin6_addr)!, MemoryLayout<sockaddr_in6>.size)
            withUnsafeMutableBytes(of: &address) { raw in
                for (index, byte) in destination.bytes.enumerated() { raw[offset + index] = byte }
            }
            do {
                try NetlinkError.call("sendto(\(destination))") {
                    withUnsafePointer(to: &address) { pointer in
                        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, packet, packet.count, 0, $0, socklen_t(length)) }
                    }
                }
            } catch  where [ENETUNREACH, EHOSTUNREACH, EADDRNOTAVAIL].contains(error.cause?.rawValue ?? 0) {
                // "No route": not reachable, which the ping reports; not an error of ours.
            }
        }

        /// Reads until our reply arrives (true) or the deadline passes (false). A raw socket
        /// sees every ICMP message in the namespace; only ours count.
        func awaitReply(identifier: UInt16, sequence: UInt16, deadline: Int) throws(NetlinkError) -> Bool {
            var buffer = [UInt8](repeating: 0, count: 1500)
            while true {
                let remaining = (deadline - Ping.monotonicMicroseconds()) / 1000
                if remaining <= 0 { return false }
                var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                // Not retried on EINTR by the helper: the loop recomputes the time left.
                let ready: Int32
                do {
                    ready = try NetlinkError.call("poll(ICMP)", retryOnInterrupt: false) { poll(&descriptor, 1, Int32(min(remaining, Int(Int32.max)))) }
                } catch {
                    if error.cause == .interrupted { continue }
                    throw error
                }
                if ready == 0 { return false }
                let count = recv(fd, &buffer, buffer.count, 0)
                if count <= 0 { continue }
                var offset = 0
                if family == AF_INET && raw { offset = Int(buffer[0] & 0x0f) * 4 }
                guard count >= offset + 8 else { continue }
                let replyType: UInt8 = family == AF_INET ? 0 : 129
                let gotIdentifier = UInt16(buffer[offset + 4]) << 8 | UInt16(buffer[offset + 5])
                let gotSequence = UInt16(buffer[offset + 6]) << 8 | UInt16(buffer[offset + 7])
                if buffer[offset] == replyType && gotSequence == sequence && (!raw || gotIdentifier == identifier) {
                    return true
                }
            }
        }
    }
}
