import Foundation
import Glibc
import Isolation
import POSIXSupport
import TestSupport
import Testing

@testable import Netlink

/// The course's network lab through the API, for real, in namespaces the tests create: the
/// host's own links are never touched, and only addresses inside those namespaces are used.
@Suite(.serialized, requiresRoot) struct NetworkLabTests {
    @Test func theCourseLabVethPairPingsBothWays() throws {
        try expectHostUnchanged {
            let host = try NetworkNamespace.create()  // stands in for the learner's machine
            let testnet = try NetworkNamespace.create()  // `ip netns add testnet`
            let outside = try RouteSocket(namespaceAt: host.path)
            let inside = try RouteSocket(namespaceAt: testnet.path)

            #expect(try inside.links().map(\.name) == ["lo"])
            #expect(try inside.link(named: "lo")?.isUp == false, "a new namespace's lo starts down")
            try inside.setLink("lo", up: true)
            try outside.setLink("lo", up: true)
            try outside.createVeth("veth0", peer: "veth1")
            #expect(try Set(outside.links().map(\.name)) == ["lo", "veth0", "veth1"])
            try outside.moveLink("veth1", to: .namespace(testnet))
            #expect(try outside.link(named: "veth1") == nil, "veth1 left the host side")
            try outside.setLink("veth0", up: true)
            try outside.addAddress(InterfaceAddress(parsing: "172.16.0.1/24"), to: "veth0")
            try inside.setLink("veth1", up: true)
            try inside.addAddress(InterfaceAddress(parsing: "172.16.0.2/24"), to: "veth1")

            let veth1 = try #require(try inside.link(named: "veth1"))
            #expect(veth1.kind == "veth")
            #expect(veth1.isUp)
            #expect(veth1.peerNamespaceID != nil, "its peer is in another namespace")
            // An up link also gets an IPv6 link-local (fe80::) address of its own.
            let ipv4 = try inside.addresses(on: "veth1").filter { $0.address.address.bitWidth == 32 }
            #expect(ipv4.map(\.address.description) == ["172.16.0.2/24"])

            let there = try Ping.echo(#require(IPAddress("172.16.0.2")), count: 2, inNamespaceAt: host.path)
            #expect(there.replies.count == 2, "\(there)")
            let back = try Ping.echo(#require(IPAddress("172.16.0.1")), count: 2, inNamespaceAt: testnet.path)
            #expect(back.replies.count == 2, "\(back)")
        }
    }

    @Test func aDownLinkOrAWrongPrefixIsUnreachable() throws {
        try expectHostUnchanged {
            let host = try NetworkNamespace.create(), testnet = try NetworkNamespace.create()
            let outside = try RouteSocket(namespaceAt: host.path), inside = try RouteSocket(namespaceAt: testnet.path)
            try outside.createVeth("veth0", peer: "veth1", peerNamespace: .namespace(testnet))
            try outside.setLink("veth0", up: true)
            try outside.addAddress(InterfaceAddress(parsing: "172.16.0.1/24"), to: "veth0")
            // The learner forgot `ip netns exec testnet ip link set veth1 up`.
            try inside.addAddress(InterfaceAddress(parsing: "172.16.0.2/24"), to: "veth1")
            let target = try #require(IPAddress("172.16.0.2"))
            #expect(try !Ping.echo(target, timeoutMilliseconds: 300, inNamespaceAt: host.path).reachable)
            try inside.setLink("veth1", up: true)
            #expect(try Ping.echo(target, inNamespaceAt: host.path).reachable)
            // And an address in another subnet has no route at all.
            #expect(try !Ping.echo(#require(IPAddress("172.16.9.9")), timeoutMilliseconds: 300, inNamespaceAt: host.path).reachable)
        }
    }

    @Test func icmpv6EchoWorksToo() throws {
        try expectHostUnchanged {
            let namespace = try NetworkNamespace.create()
            try RouteSocket(namespaceAt: namespace.path).setLink("lo", up: true)
            let result = try Ping.echo(#require(IPAddress("::1")), count: 2, inNamespaceAt: namespace.path)
            #expect(result.replies.map(\.sequence) == [1, 2], "\(result)")
        }
    }

    @Test func aBridgeJoinsTwoNamespaces() throws {
        try expectHostUnchanged {
            // docker0 in miniature: a bridge in one namespace, a veth to each container.
            let switchBox = try NetworkNamespace.create()
            let red = try NetworkNamespace.create(), blue = try NetworkNamespace.create()
            let bridge = try RouteSocket(namespaceAt: switchBox.path)
            try bridge.createBridge("br0")
            try bridge.setLink("br0", up: true)
            for (name, namespace, address) in [("red", red, "172.16.1.1/24"), ("blue", blue, "172.16.1.2/24")] {
                try bridge.createVeth("v-\(name)", peer: "eth0", peerNamespace: .namespace(namespace))
                try bridge.setMaster("v-\(name)", bridge: "br0")
                try bridge.setLink("v-\(name)", up: true)
                let inside = try RouteSocket(namespaceAt: namespace.path)
                try inside.setLink("eth0", up: true)
                try inside.addAddress(InterfaceAddress(parsing: address), to: "eth0")
            }
            let br0 = try #require(try bridge.link(named: "br0"))
            #expect(br0.kind == "bridge")
            #expect(try bridge.links().filter { $0.master == br0.index }.map(\.name).sorted() == ["v-blue", "v-red"])
            let result = try Ping.echo(#require(IPAddress("172.16.1.2")), count: 2, inNamespaceAt: red.path)
            #expect(result.reachable, "\(result)")
        }
    }

    @Test func addressesAndRoutesOfBothFamilies() throws {
        try expectHostUnchanged {
            let namespace = try NetworkNamespace.create()
            let socket = try RouteSocket(namespaceAt: namespace.path)
            try socket.createVeth("c0", peer: "b0")
            try socket.setLink("c0", up: true)
            try socket.addAddress(InterfaceAddress(parsing: "172.16.2.1/24"), to: "c0")
            try socket.addRoute(to: InterfaceAddress(parsing: "172.16.3.0/24"), via: #require(IPAddress("172.16.2.254")))
            try socket.addRoute(to: nil, via: #require(IPAddress("172.16.2.1")), device: "c0")
            #expect(try socket.addresses(on: "c0").map(\.address.description).contains("172.16.2.1/24"))
            try socket.addAddress(InterfaceAddress(parsing: "fd00:16::1/64"), to: "c0")
            #expect(try socket.addresses(on: "c0").map(\.address.description).contains("fd00:16::1/64"))
            try socket.deleteLink("c0")
            #expect(try socket.links().map(\.name) == ["lo"], "deleting one end of a veth deletes both")
        }
    }

    @Test func mistakesComeBackAsClearMessages() throws {
        try expectHostUnchanged {
            let namespace = try NetworkNamespace.create()
            let socket = try RouteSocket(namespaceAt: namespace.path)
            try socket.createVeth("veth0", peer: "veth1")
            let duplicate = #expect(throws: NetlinkError.self) { try socket.createVeth("veth0", peer: "veth2") }
            #expect(duplicate?.cause == Errno(EEXIST))
            #expect(duplicate?.description.hasPrefix("create veth pair veth0 <-> veth2: EEXIST") == true)
            let unknown = #expect(throws: NetlinkError.self) { try socket.setLink("veth9", up: true) }
            #expect(unknown == .noSuchLink("veth9"))
            let prefix = #expect(throws: NetlinkError.self) {
                try socket.addAddress(InterfaceAddress(parsing: "172.16.0.1/40"), to: "veth0")
            }
            #expect(prefix?.description.contains("prefix length from 0 to 32") == true)
            try socket.addAddress(InterfaceAddress(parsing: "172.16.0.1/24"), to: "veth0")
            let twice = #expect(throws: NetlinkError.self) {
                try socket.addAddress(InterfaceAddress(parsing: "172.16.0.1/24"), to: "veth0")
            }
            #expect(twice?.description.hasPrefix("add address 172.16.0.1/24 to veth0: EEXIST") == true)
        }
    }

    @Test func namedNamespacesWorkTheWayIpNetnsKeepsThem() throws {
        let directory = NSTemporaryDirectory() + "gantry-netns-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try expectHostUnchanged {
            let namespace = try NetworkNamespace.create()
            try namespace.addName("testnet", in: directory)
            #expect(NetworkNamespace.names(in: directory) == ["testnet"])
            let again = #expect(throws: NetlinkError.self) { try namespace.addName("testnet", in: directory) }
            #expect(again?.description.contains("already exists") == true)
            // Opened by name, it is the same namespace: a link made through one is seen by the other.
            let byName = try NetworkNamespace.named("testnet", in: directory)
            try RouteSocket(namespaceAt: namespace.path).createVeth("veth0", peer: "veth1")
            #expect(try RouteSocket(namespaceAt: byName.path).link(named: "veth0") != nil)
            try NetworkNamespace.removeName("testnet", in: directory)
            #expect(NetworkNamespace.names(in: directory).isEmpty)
            #expect(throws: NetlinkError.self) { try NetworkNamespace.named("../etc", in: directory) }
        }
    }

    @Test func aVethPeerCanBeBornInsideARunningSandbox() throws {
        try expectHostUnchanged {
            let host = try NetworkNamespace.create()
            let sandbox = try Sandbox.spawn(SandboxSpec(command: ["/bin/sleep", "300"], namespaces: [.net]))
            defer {
                try? sandbox.signal(SIGKILL)
                _ = try? sandbox.wait()
            }
            let outside = try RouteSocket(namespaceAt: host.path)
            try outside.createVeth("veth0", peer: "eth0", peerNamespace: .pid(sandbox.pid))
            do {
                // Scoped: a socket pins its namespace, which must be free to die below.
                let inside = try RouteSocket(namespaceAt: "/proc/\(sandbox.pid)/ns/net")
                #expect(try inside.links().map(\.name).sorted() == ["eth0", "lo"])
            }
            try sandbox.signal(SIGKILL)
            _ = try sandbox.wait()
            // The sandbox's namespace died with it and took its end of the pair, and so the pair.
            var gone = false
            for _ in 0..<200 where !gone {
                gone = try outside.link(named: "veth0") == nil
                if !gone { usleep(10_000) }
            }
            #expect(gone)
        }
    }
}
