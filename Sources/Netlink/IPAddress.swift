internal import Glibc

/// An IPv4 or IPv6 address as network-order bytes.
public enum IPAddress: Sendable, Hashable, CustomStringConvertible {
    case v4([UInt8])
    case v6([UInt8])

    /// Parses dotted-quad IPv4 or any inet_pton(3) IPv6 form; nil when it is neither.
    public init?(_ text: String) {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            self = .v4(withUnsafeBytes(of: &v4) { Array($0) })
            return
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            self = .v6(withUnsafeBytes(of: &v6) { Array($0) })
            return
        }
        return nil
    }

    init?(bytes: ArraySlice<UInt8>) {
        switch bytes.count {
        case 4: self = .v4(Array(bytes))
        case 16: self = .v6(Array(bytes))
        default: return nil
        }
    }

    public var bytes: [UInt8] {
        switch self {
        case .v4(let bytes), .v6(let bytes): bytes
        }
    }

    var family: UInt8 {
        switch self {
        case .v4: AddressFamily.inet
        case .v6: AddressFamily.inet6
        }
    }

    public var bitWidth: Int { bytes.count * 8 }

    public var isIPv4: Bool { if case .v4 = self { true } else { false } }

    public var description: String {
        var buffer = [CChar](repeating: 0, count: 64)
        var copy = bytes
        let family = self.family == AddressFamily.inet ? AF_INET : AF_INET6
        guard inet_ntop(family, &copy, &buffer, socklen_t(buffer.count)) != nil else { return "?" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// An address with its prefix length, as `ip address add 172.16.0.1/24` writes it.
public struct InterfaceAddress: Sendable, Hashable, CustomStringConvertible {
    public var address: IPAddress
    public var prefixLength: UInt8

    public init(_ address: IPAddress, prefixLength: UInt8) {
        self.address = address
        self.prefixLength = prefixLength
    }

    /// Parses `ADDRESS/PREFIX`; the prefix defaults to the full width, like `ip` does.
    public init(parsing text: String) throws(NetlinkError) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(String(parts[0])) else {
            throw NetlinkError.invalidArgument("'\(parts[0])' is not an IPv4 or IPv6 address (expected e.g. 172.16.0.1/24)")
        }
        var prefix = UInt8(address.bitWidth)
        if parts.count == 2 {
            guard let value = UInt8(parts[1]), Int(value) <= address.bitWidth else {
                throw NetlinkError.invalidArgument("'\(parts[1])' in '\(text)' is not a prefix length from 0 to \(address.bitWidth)")
            }
            prefix = value
        }
        self.init(address, prefixLength: prefix)
    }

    public var description: String { "\(address)/\(prefixLength)" }

    /// The IPv4 broadcast address of the network (all host bits set), as `ip ... brd +` does.
    var broadcast: IPAddress? {
        guard case .v4(let bytes) = address, prefixLength < 31 else { return nil }
        var value = bytes.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        value |= prefixLength == 0 ? UInt32.max : (UInt32.max >> UInt32(prefixLength))
        return .v4((0..<4).map { UInt8((value >> UInt32(24 - 8 * $0)) & 0xff) })
    }
}

extension InterfaceAddress {
    /// Whether this address lies in `network` (by the network's prefix), as a route sees it.
    public func isIn(_ network: InterfaceAddress) -> Bool {
        guard address.isIPv4 == network.address.isIPv4 else { return false }
        let bits = Int(network.prefixLength)
        let mine = address.bytes, theirs = network.address.bytes
        for index in 0..<mine.count {
            let remaining = bits - index * 8
            if remaining <= 0 { break }
            let mask: UInt8 = remaining >= 8 ? 0xff : UInt8(truncatingIfNeeded: 0xff << (8 - remaining))
            if mine[index] & mask != theirs[index] & mask { return false }
        }
        return true
    }

    /// A host address in this network to suggest: its .2 (172.16.0.2/24 for 172.16.0.0/24).
    public var example: String {
        var bytes = address.bytes
        bytes[bytes.count - 1] |= 2
        return (IPAddress(bytes: bytes[...])?.description ?? address.description) + "/\(prefixLength)"
    }
}
