/// One network interface as the kernel reports it (`ip -d link show`).
public struct Link: Sendable, Hashable, CustomStringConvertible {
    public enum OperationalState: UInt8, Sendable {
        case unknown = 0, notPresent, down, lowerLayerDown, testing, dormant, up
    }

    public var index: Int32
    public var name: String
    /// `veth`, `bridge`, …; nil for devices without rtnl link ops (like `lo`).
    public var kind: String?
    public var flags: InterfaceFlags
    public var operationalState: OperationalState
    public var mtu: UInt32?
    public var macAddress: [UInt8]?
    /// The bridge (by index) this link is a port of.
    public var master: Int32?
    /// For a veth: the peer's index, in the namespace `peerNamespaceID` names (or this one).
    public var peerIndex: Int32?
    public var peerNamespaceID: Int32?

    /// Administratively up (`ip link set X up`), whatever the carrier says.
    public var isUp: Bool { flags.contains(.up) }

    public var macDescription: String? {
        macAddress.map { $0.map { byte in (byte < 16 ? "0" : "") + String(byte, radix: 16) }.joined(separator: ":") }
    }

    public var description: String {
        var text = "\(index): \(name)"
        if let kind { text += " (\(kind))" }
        text += isUp ? " UP" : " DOWN"
        text += " state \(operationalState)"
        if let master { text += " master \(master)" }
        return text
    }

    init(parsing body: ArraySlice<UInt8>) throws(MalformedReply) {
        guard body.count >= 16 else { throw MalformedReply(description: "link message of \(body.count) bytes") }
        let start = body.startIndex
        index = body.int32(at: start + 4)
        flags = InterfaceFlags(rawValue: body.uint32(at: start + 8))
        let attributes = try NetlinkParser.attributes(body[(start + 16)...])
        name = attributes[IFLA.name]?.cString ?? ""
        mtu = attributes[IFLA.mtu].flatMap { $0.count >= 4 ? $0.uint32(at: $0.startIndex) : nil }
        macAddress = attributes[IFLA.address].map(Array.init)
        master = attributes[IFLA.master].flatMap { $0.count >= 4 ? $0.int32(at: $0.startIndex) : nil }
        peerIndex = attributes[IFLA.link].flatMap { $0.count >= 4 ? $0.int32(at: $0.startIndex) : nil }
        peerNamespaceID = attributes[IFLA.linkNetnsID].flatMap { $0.count >= 4 ? $0.int32(at: $0.startIndex) : nil }
        operationalState = attributes[IFLA.operationalState].flatMap { $0.first }.flatMap(OperationalState.init) ?? .unknown
        if let info = attributes[IFLA.linkInfo] {
            kind = try NetlinkParser.attributes(info)[IFLA.infoKind]?.cString
        }
    }
}

/// One address on a link (`ip address show`).
public struct LinkAddress: Sendable, Hashable, CustomStringConvertible {
    public var linkIndex: Int32
    public var address: InterfaceAddress
    public var label: String?

    public var description: String { "\(address) on \(label ?? String(linkIndex))" }

    init?(parsing body: ArraySlice<UInt8>) throws(MalformedReply) {
        guard body.count >= 8 else { throw MalformedReply(description: "address message of \(body.count) bytes") }
        let start = body.startIndex
        let prefix = body[start + 1]
        linkIndex = body.int32(at: start + 4)
        let attributes = try NetlinkParser.attributes(body[(start + 8)...])
        // IFA_LOCAL is the interface's own address on point-to-point links; IFA_ADDRESS
        // otherwise (for IPv6 only IFA_ADDRESS is sent).
        guard let bytes = attributes[IFA.local] ?? attributes[IFA.address], let ip = IPAddress(bytes: bytes) else { return nil }
        address = InterfaceAddress(ip, prefixLength: prefix)
        label = attributes[IFA.label]?.cString
    }
}
