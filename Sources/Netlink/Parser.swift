/// One message the kernel sent back.
struct NetlinkReply: Equatable {
    var type: UInt16
    var flags: UInt16
    var sequence: UInt32
    /// Everything after nlmsghdr.
    var body: ArraySlice<UInt8>
}

/// What went wrong reading the kernel's bytes: never expected, but never a crash.
struct MalformedReply: Error, CustomStringConvertible {
    var description: String
}

enum NetlinkParser {
    /// Splits a datagram into messages; a datagram may hold several (NLM_F_MULTI).
    static func messages(_ bytes: [UInt8]) throws(MalformedReply) -> [NetlinkReply] {
        var replies: [NetlinkReply] = []
        var offset = 0
        while offset + NLMSG.headerLength <= bytes.count {
            let length = Int(bytes.uint32(at: offset))
            guard length >= NLMSG.headerLength, offset + length <= bytes.count else {
                throw MalformedReply(description: "netlink message of length \(length) at offset \(offset) overruns \(bytes.count) bytes")
            }
            replies.append(
                NetlinkReply(
                    type: bytes.uint16(at: offset + 4), flags: bytes.uint16(at: offset + 6),
                    sequence: bytes.uint32(at: offset + 8),
                    body: bytes[(offset + NLMSG.headerLength)..<(offset + length)]))
            offset += (length + 3) & ~3
        }
        return replies
    }

    /// Attributes from `bytes` (already past the family header), by type; the nested bit
    /// is masked off. Later duplicates win, which rtnetlink never sends for what we read.
    static func attributes(_ bytes: ArraySlice<UInt8>) throws(MalformedReply) -> [UInt16: ArraySlice<UInt8>] {
        var result: [UInt16: ArraySlice<UInt8>] = [:]
        var offset = bytes.startIndex
        while offset + 4 <= bytes.endIndex {
            let length = Int(bytes.uint16(at: offset))
            let type = bytes.uint16(at: offset + 2) & ~nlaFNested
            guard length >= 4, offset + length <= bytes.endIndex else {
                throw MalformedReply(description: "attribute \(type) of length \(length) overruns its message")
            }
            result[type] = bytes[(offset + 4)..<(offset + length)]
            offset += (length + 3) & ~3
        }
        return result
    }
}

extension Collection where Element == UInt8, Index == Int {
    func uint16(at offset: Int) -> UInt16 {
        UInt16(self[offset]) | UInt16(self[offset + 1]) << 8
    }

    func uint32(at offset: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 | UInt32(self[offset + $1]) << UInt32(8 * $1) }
    }

    func int32(at offset: Int) -> Int32 { Int32(bitPattern: uint32(at: offset)) }

    /// A NUL-terminated string attribute.
    var cString: String {
        String(decoding: prefix { $0 != 0 }, as: UTF8.self)
    }
}
