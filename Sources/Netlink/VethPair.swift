/// `--veth HOSTIF[=ADDR/PREFIX]:SANDBOXIF=ADDR/PREFIX`: a cable between this network
/// namespace and the sandbox's, as the course's netns lab lays one by hand.
public struct VethPair: Equatable, Sendable {
    public var hostName: String
    public var hostAddress: InterfaceAddress?
    public var sandboxName: String
    public var sandboxAddress: InterfaceAddress

    public init(parsing text: String) throws(NetlinkError) {
        let sides = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        guard sides.count == 2 else {
            throw NetlinkError.invalidArgument("expected HOSTIF[=ADDR/PREFIX]:SANDBOXIF=ADDR/PREFIX, e.g. veth0=172.16.0.1/24:eth0=172.16.0.2/24")
        }
        let host = sides[0].split(separator: "=", maxSplits: 1).map(String.init)
        let sandbox = sides[1].split(separator: "=", maxSplits: 1).map(String.init)
        guard host.count >= 1, sandbox.count == 2 else {
            throw NetlinkError.invalidArgument("the sandbox side needs an address: SANDBOXIF=ADDR/PREFIX, e.g. eth0=172.16.0.2/24")
        }
        hostName = host[0]
        hostAddress = host.count == 2 ? try InterfaceAddress(parsing: host[1]) : nil
        sandboxName = sandbox[0]
        sandboxAddress = try InterfaceAddress(parsing: sandbox[1])
    }

    /// Deletes the host ends that are still there (deleting one end of a veth deletes both).
    public static func removeHostEnds(_ pairs: [VethPair]) {
        guard !pairs.isEmpty, let here = try? RouteSocket() else { return }
        for pair in pairs where (try? here.link(named: pair.hostName)) != nil {
            try? here.deleteLink(pair.hostName)
        }
    }

    /// Runs between clone and exec: the peer is born inside the sandbox's namespace (so it
    /// never shows up on this side), both ends get their addresses and come up. When the
    /// sandbox's namespace dies, its end goes and takes this one with it.
    public static func connect(_ pairs: [VethPair], toSandbox pid: Int32) throws(NetlinkError) {
        let here = try RouteSocket()
        let inside = try RouteSocket(namespaceAt: "/proc/\(pid)/ns/net")
        for pair in pairs {
            try here.createVeth(pair.hostName, peer: pair.sandboxName, peerNamespace: .pid(pid))
            if let address = pair.hostAddress { try here.addAddress(address, to: pair.hostName) }
            try here.setLink(pair.hostName, up: true)
            try inside.addAddress(pair.sandboxAddress, to: pair.sandboxName)
            try inside.setLink(pair.sandboxName, up: true)
        }
    }
}
