/// Where a link should live: a process's network namespace, or one held open by a descriptor.
public enum NamespaceTarget: Sendable, Hashable {
    case pid(Int32)
    case fd(Int32)

    public static func namespace(_ namespace: NetworkNamespace) -> NamespaceTarget { .fd(namespace.fd) }

    var attribute: [UInt8] {
        switch self {
        case .pid(let pid): NetlinkRequest.attribute(IFLA.netnsPID, uint32: UInt32(bitPattern: pid))
        case .fd(let fd): NetlinkRequest.attribute(IFLA.netnsFD, uint32: UInt32(bitPattern: fd))
        }
    }
}

extension RouteSocket {
    /// Every link in this socket's namespace (`ip link show`).
    public func links() throws(NetlinkError) -> [Link] {
        var request = NetlinkRequest(type: RTM.getLink, flags: [])
        request.appendLinkHeader()
        let replies = try dump(request, operation: "list links")
        do throws(MalformedReply) {
            return try replies.filter { $0.type == RTM.newLink }.map { reply throws(MalformedReply) in try Link(parsing: reply.body) }
        } catch {
            throw .malformedReply(error.description)
        }
    }

    /// The link called `name`, or nil.
    public func link(named name: String) throws(NetlinkError) -> Link? {
        try links().first { $0.name == name }
    }

    func index(of name: String) throws(NetlinkError) -> Int32 {
        guard let link = try link(named: name) else { throw .noSuchLink(name) }
        return link.index
    }

    /// Creates a veth pair (`ip link add NAME type veth peer name PEER`). The peer can be
    /// born in another namespace, so it never appears in this one.
    public func createVeth(_ name: String, peer: String, peerNamespace: NamespaceTarget? = nil) throws(NetlinkError) {
        try Self.validate(linkName: name)
        try Self.validate(linkName: peer)
        try perform(
            Self.vethRequest(name, peer: peer, peerNamespace: peerNamespace),
            operation: "create veth pair \(name) <-> \(peer)")
    }

    static func vethRequest(_ name: String, peer: String, peerNamespace: NamespaceTarget?) -> NetlinkRequest {
        // VETH_INFO_PEER holds a whole ifinfomsg and attributes for the peer.
        var peerBody = NetlinkRequest.linkHeader() + NetlinkRequest.attribute(IFLA.name, string: peer)
        if let peerNamespace { peerBody += peerNamespace.attribute }
        let data = NetlinkRequest.attribute(IFLA.vethPeer, peerBody)
        let info = NetlinkRequest.attribute(IFLA.infoKind, string: "veth") + NetlinkRequest.attribute(IFLA.infoData, data)
        var request = NetlinkRequest(type: RTM.newLink, flags: [.create, .exclusive])
        request.appendLinkHeader()
        request.appendAttribute(IFLA.name, string: name)
        request.appendAttribute(IFLA.linkInfo, info)
        return request
    }

    /// Creates a bridge (`ip link add NAME type bridge`): a software switch its ports join.
    public func createBridge(_ name: String) throws(NetlinkError) {
        try Self.validate(linkName: name)
        var request = NetlinkRequest(type: RTM.newLink, flags: [.create, .exclusive])
        request.appendLinkHeader()
        request.appendAttribute(IFLA.name, string: name)
        request.appendAttribute(IFLA.linkInfo, NetlinkRequest.attribute(IFLA.infoKind, string: "bridge"))
        try perform(request, operation: "create bridge \(name)")
    }

    /// Deletes a link (`ip link delete NAME`); deleting one end of a veth deletes both.
    public func deleteLink(_ name: String) throws(NetlinkError) {
        var request = NetlinkRequest(type: RTM.delLink, flags: [])
        request.appendLinkHeader(index: try index(of: name))
        try perform(request, operation: "delete link \(name)")
    }

    /// `ip link set NAME up` / `down`.
    public func setLink(_ name: String, up: Bool) throws(NetlinkError) {
        try modify(
            name, operation: "set \(name) \(up ? "up" : "down")", flags: up ? InterfaceFlags.up.rawValue : 0,
            change: InterfaceFlags.up.rawValue)
    }

    /// `ip link set NAME master BRIDGE`, or `nomaster` with nil.
    public func setMaster(_ name: String, bridge: String?) throws(NetlinkError) {
        let master = try bridge.map { bridge throws(NetlinkError) in try index(of: bridge) } ?? 0
        try modify(
            name, operation: "set \(name) master \(bridge ?? "none")",
            NetlinkRequest.attribute(IFLA.master, uint32: UInt32(bitPattern: master)))
    }

    /// `ip link set NAME netns TARGET`: the link leaves this namespace (and goes down).
    public func moveLink(_ name: String, to target: NamespaceTarget) throws(NetlinkError) {
        try modify(name, operation: "move \(name) to another network namespace", target.attribute)
    }

    private func modify(
        _ name: String, operation: String, flags: UInt32 = 0, change: UInt32 = 0,
        _ attributes: [UInt8] = []
    ) throws(NetlinkError) {
        var request = NetlinkRequest(type: RTM.newLink, flags: [])
        request.appendLinkHeader(index: try index(of: name), flags: flags, change: change)
        request.body += attributes
        try perform(request, operation: operation)
    }

    /// IFNAMSIZ is 16 with the NUL; the kernel's EINVAL for a long name says nothing useful.
    static func validate(linkName name: String) throws(NetlinkError) {
        guard !name.isEmpty, name.utf8.count <= 15, !name.contains("/"), !name.contains(" "), name != ".", name != ".." else {
            throw .invalidArgument("'\(name)' is not a link name: 1 to 15 bytes, no '/' or spaces")
        }
    }
}
