/// A netlink message as bytes: the 16-byte nlmsghdr, a family header (ifinfomsg, ifaddrmsg,
/// rtmsg) and attributes. Little-endian, as on every architecture Gantry targets; attributes
/// are padded to 4 bytes (NLA_ALIGN).
struct NetlinkRequest: Equatable {
    var type: UInt16
    var flags: NetlinkFlags
    /// The family header and attributes after nlmsghdr.
    var body: [UInt8] = []

    /// The whole message with its header; `sequence` ties the kernel's answer to it.
    func encoded(sequence: UInt32) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.append(uint32: UInt32(NLMSG.headerLength + body.count))
        bytes.append(uint16: type)
        bytes.append(uint16: flags.rawValue)
        bytes.append(uint32: sequence)
        bytes.append(uint32: 0)  // port id: 0 addresses the kernel
        return bytes + body
    }

    /// struct ifinfomsg { u8 family; u8 pad; u16 type; s32 index; u32 flags; u32 change; }
    mutating func appendLinkHeader(
        family: UInt8 = AddressFamily.unspecified, index: Int32 = 0,
        flags: UInt32 = 0, change: UInt32 = 0
    ) {
        body += Self.linkHeader(family: family, index: index, flags: flags, change: change)
    }

    static func linkHeader(
        family: UInt8 = AddressFamily.unspecified, index: Int32 = 0,
        flags: UInt32 = 0, change: UInt32 = 0
    ) -> [UInt8] {
        var bytes: [UInt8] = [family, 0]
        bytes.append(uint16: 0)
        bytes.append(uint32: UInt32(bitPattern: index))
        bytes.append(uint32: flags)
        bytes.append(uint32: change)
        return bytes
    }

    /// struct ifaddrmsg { u8 family; u8 prefixlen; u8 flags; u8 scope; u32 index; }
    mutating func appendAddressHeader(family: UInt8, prefixLength: UInt8, index: Int32, scope: UInt8 = 0) {
        body += [family, prefixLength, 0, scope]
        body.append(uint32: UInt32(bitPattern: index))
    }

    /// struct rtmsg { u8 family, dst_len, src_len, tos, table, protocol, scope, type; u32 flags; }
    mutating func appendRouteHeader(
        family: UInt8, destinationLength: UInt8, table: UInt8 = 254,
        origin: UInt8 = 4, scope: UInt8, type: UInt8 = 1
    ) {
        // origin is rtm_protocol: 4 = RTPROT_STATIC, "added by an administrator".
        body += [family, destinationLength, 0, 0, table, origin, scope, type]
        body.append(uint32: 0)
    }

    mutating func appendAttribute(_ type: UInt16, _ payload: [UInt8]) {
        body += Self.attribute(type, payload)
    }

    mutating func appendAttribute(_ type: UInt16, string: String) {
        body += Self.attribute(type, Array(string.utf8) + [0])
    }

    mutating func appendAttribute(_ type: UInt16, uint32 value: UInt32) {
        var payload: [UInt8] = []
        payload.append(uint32: value)
        body += Self.attribute(type, payload)
    }

    /// struct nlattr { u16 len; u16 type; } + payload, padded; len excludes the padding.
    static func attribute(_ type: UInt16, _ payload: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.append(uint16: UInt16(4 + payload.count))
        bytes.append(uint16: type)
        bytes += payload
        bytes += [UInt8](repeating: 0, count: (4 - payload.count % 4) % 4)
        return bytes
    }

    static func attribute(_ type: UInt16, string: String) -> [UInt8] {
        attribute(type, Array(string.utf8) + [0])
    }

    static func attribute(_ type: UInt16, uint32 value: UInt32) -> [UInt8] {
        var payload: [UInt8] = []
        payload.append(uint32: value)
        return attribute(type, payload)
    }
}

extension Array where Element == UInt8 {
    mutating func append(uint16 value: UInt16) {
        append(UInt8(value & 0xff))
        append(UInt8(value >> 8))
    }

    mutating func append(uint32 value: UInt32) {
        for shift in stride(from: 0, to: 32, by: 8) { append(UInt8((value >> UInt32(shift)) & 0xff)) }
    }
}
