internal import CCrypto

/// SHA-256 from OpenSSL's libcrypto (the system's, linked statically): the kept
/// implementation, not a hand-written one.
public enum SHA256 {
    static func digest(_ bytes: [UInt8]) -> [UInt8] { digest(bytes, then: []) }

    /// SHA-256 of `first` followed by `second`, without joining them first.
    static func digest(_ first: [UInt8], then second: [UInt8]) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        first.withUnsafeBufferPointer { a in
            second.withUnsafeBufferPointer { b in
                output.withUnsafeMutableBufferPointer { out in
                    gantry_sha256(a.baseAddress, a.count, b.baseAddress, b.count, out.baseAddress)
                }
            }
        }
        return output
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    public static func hexDigest(_ bytes: [UInt8]) -> String { hex(digest(bytes)) }
}

/// The transcript's hash chain: each line's link is SHA-256 of the previous link and the
/// line's bytes (the header's is SHA-256 of the header). Gantry's own events carry the link
/// through the line before them and a short digest of each line since the last of them, so
/// a reader names the first line that changed.
struct HashChain {
    private(set) var link: [UInt8] = []
    /// Short digests of the lines since the last checkpoint (a Gantry event).
    private(set) var pending: [String] = []

    /// The first 8 hex digits of a line's own SHA-256: enough to say which line changed.
    static func shortDigest(_ line: [UInt8]) -> String { SHA256.hex(Array(SHA256.digest(line).prefix(4))) }

    mutating func append(_ line: [UInt8]) {
        link = SHA256.digest(link, then: line)
        pending.append(Self.shortDigest(line))
    }

    /// What a checkpoint records, then the next checkpoint covers from here.
    mutating func checkpoint() -> (link: String, digests: [String]) {
        defer { pending = [] }
        return (SHA256.hex(link), pending)
    }
}
