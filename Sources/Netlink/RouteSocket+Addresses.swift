extension RouteSocket {
    /// `ip address add ADDRESS/PREFIX dev LINK` (with `brd +` for IPv4).
    public func addAddress(_ address: InterfaceAddress, to link: String) throws(NetlinkError) {
        try perform(
            Self.addressRequest(RTM.newAddress, address, index: try index(of: link), flags: [.create, .exclusive]),
            operation: "add address \(address) to \(link)")
    }

    static func addressRequest(_ type: UInt16, _ address: InterfaceAddress, index: Int32, flags: NetlinkFlags) -> NetlinkRequest {
        var request = NetlinkRequest(type: type, flags: flags)
        request.appendAddressHeader(family: address.address.family, prefixLength: address.prefixLength, index: index)
        request.appendAttribute(IFA.local, address.address.bytes)
        request.appendAttribute(IFA.address, address.address.bytes)
        if let broadcast = address.broadcast, type == RTM.newAddress {
            request.appendAttribute(IFA.broadcast, broadcast.bytes)
        }
        return request
    }

    /// Every address in this namespace, or on one link (`ip address show [dev LINK]`).
    public func addresses(on link: String? = nil) throws(NetlinkError) -> [LinkAddress] {
        let index = try link.map { name throws(NetlinkError) in try self.index(of: name) }
        var request = NetlinkRequest(type: RTM.getAddress, flags: [])
        request.appendAddressHeader(family: AddressFamily.unspecified, prefixLength: 0, index: 0)
        let replies = try dump(request, operation: "list addresses")
        var result: [LinkAddress] = []
        for reply in replies where reply.type == RTM.newAddress {
            let parsed: LinkAddress?
            do { parsed = try LinkAddress(parsing: reply.body) } catch { throw .malformedReply(error.description) }
            if let parsed, index == nil || parsed.linkIndex == index { result.append(parsed) }
        }
        return result
    }

    /// `ip route add DESTINATION [via GATEWAY] [dev LINK]`; a nil destination is the default
    /// route. Without a gateway the route is on-link (scope link).
    public func addRoute(to destination: InterfaceAddress?, via gateway: IPAddress? = nil, device: String? = nil) throws(NetlinkError) {
        guard gateway != nil || device != nil else {
            throw .invalidArgument("a route needs a gateway (via) or a device (dev)")
        }
        let family = destination?.address.family ?? gateway?.family ?? AddressFamily.inet
        if let gateway, gateway.family != family {
            throw .invalidArgument("gateway \(gateway) is not of the destination's address family")
        }
        var request = NetlinkRequest(type: RTM.newRoute, flags: [.create, .exclusive])
        request.appendRouteHeader(
            family: family, destinationLength: destination?.prefixLength ?? 0,
            scope: gateway == nil ? 253 /* RT_SCOPE_LINK */ : 0 /* RT_SCOPE_UNIVERSE */)
        if let destination { request.appendAttribute(RTA.destination, destination.address.bytes) }
        if let gateway { request.appendAttribute(RTA.gateway, gateway.bytes) }
        if let device { request.appendAttribute(RTA.outputInterface, uint32: UInt32(bitPattern: try index(of: device))) }
        let what = destination.map { "\($0)" } ?? "default"
        try perform(request, operation: "add route \(what)" + (gateway.map { " via \($0)" } ?? "") + (device.map { " dev \($0)" } ?? ""))
    }
}
