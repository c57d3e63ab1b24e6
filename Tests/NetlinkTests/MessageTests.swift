import POSIXSupport
import Testing

@testable import Netlink

/// Requests compared byte for byte with annotated hex, and replies parsed from hand-made
/// kernel bytes: no root, no kernel.
@Suite struct MessageTests {
    /// `ip link add veth0 type veth peer name veth1 netns <pid 1234>`
    @Test func vethPairWithThePeerInAnotherNamespace() {
        let request = RouteSocket.vethRequest("veth0", peer: "veth1", peerNamespace: .pid(1234))
        #expect(
            hex(request.encoded(sequence: 7))
                == hex(
                    """
                    68000000 1000 0006 07000000 00000000   nlmsghdr: len 104, RTM_NEWLINK, CREATE|EXCL, seq 7 (REQUEST|ACK are added on sending)
                    00 00 0000 00000000 00000000 00000000  ifinfomsg: AF_UNSPEC, index 0
                    0a00 0300 76657468 30000000            IFLA_IFNAME "veth0\\0" + pad
                    3c00 1200                              IFLA_LINKINFO (60 bytes)
                      0900 0100 76657468 00000000          IFLA_INFO_KIND "veth\\0" + pad
                      2c00 0200                            IFLA_INFO_DATA (44 bytes)
                        2800 0100                          VETH_INFO_PEER (40 bytes)
                          00 00 0000 00000000 00000000 00000000   the peer's ifinfomsg
                          0a00 0300 76657468 31000000      IFLA_IFNAME "veth1\\0" + pad
                          0800 1300 d2040000               IFLA_NET_NS_PID 1234
                    """))
    }

    /// `ip address add 172.16.0.1/24 dev <index 5>` (brd + is computed: 172.16.0.255)
    @Test func addressWithItsBroadcast() {
        let request = RouteSocket.addressRequest(
            RTM.newAddress, try! InterfaceAddress(parsing: "172.16.0.1/24"), index: 5, flags: [.create, .exclusive])
        #expect(
            hex(request.encoded(sequence: 1))
                == hex(
                    """
                    30000000 1400 0006 01000000 00000000   nlmsghdr: len 48, RTM_NEWADDR, CREATE|EXCL, seq 1
                    02 18 00 00 05000000                   ifaddrmsg: AF_INET, /24, index 5
                    0800 0200 ac100001                     IFA_LOCAL 172.16.0.1
                    0800 0100 ac100001                     IFA_ADDRESS 172.16.0.1
                    0800 0400 ac1000ff                     IFA_BROADCAST 172.16.0.255
                    """))
    }

    @Test func attributesArePaddedToFourBytesButTheirLengthIsNot() {
        #expect(NetlinkRequest.attribute(3, string: "lo") == [7, 0, 3, 0, 0x6c, 0x6f, 0, 0])
        #expect(NetlinkRequest.attribute(4, uint32: 1500) == [8, 0, 4, 0, 0xdc, 0x05, 0, 0])
    }

    @Test func aLinkReplyParses() throws {
        // RTM_NEWLINK for "veth1": index 9, UP|BROADCAST|RUNNING|MULTICAST|LOWER_UP, mtu
        // 1500, operstate UP, kind veth, peer index 8 in netns id 0.
        let bytes = bytesOf(
            """
            70000000 1000 0200 2a000000 00000000
            00 00 0100 09000000 43100100 00000000
            0a00 0300 76657468 31000000
            0800 0400 dc050000
            0500 1000 06000000
            0800 0500 08000000
            0800 2500 00000000
            0a00 0100 aabbccddeeff 0000
            1000 1200 0900 0100 76657468 00000000
            0800 0a00 0c000000
            """)
        let replies = try NetlinkParser.messages(bytes)
        #expect(replies.count == 1)
        let link = try Link(parsing: replies[0].body)
        #expect(link.index == 9)
        #expect(link.name == "veth1")
        #expect(link.isUp)
        #expect(link.flags.contains(.lowerUp))
        #expect(link.mtu == 1500)
        #expect(link.operationalState == .up)
        #expect(link.kind == "veth")
        #expect(link.peerIndex == 8)
        #expect(link.peerNamespaceID == 0)
        #expect(link.master == 12)
        #expect(link.macDescription == "aa:bb:cc:dd:ee:ff")
    }

    @Test func truncatedRepliesAreErrorsNotCrashes() {
        let good = bytesOf("1400 0000 1000 0000 01000000 00000000 0800 0300")
        for length in 0..<good.count {
            _ = try? NetlinkParser.messages(Array(good.prefix(length)))
        }
        // A header whose length runs past the datagram.
        #expect(throws: MalformedReply.self) { try NetlinkParser.messages(bytesOf("ff000000 1000 0000 01000000 00000000")) }
        // An attribute whose length runs past its message.
        #expect(throws: MalformedReply.self) { try NetlinkParser.attributes(bytesOf("ff00 0300 6c6f0000")[...]) }
        #expect(throws: MalformedReply.self) { try Link(parsing: bytesOf("0000")[...]) }
    }

    @Test(arguments: [
        ("172.16.0.1/33", "not a prefix length from 0 to 32"),
        ("172.16.0.1/x", "not a prefix length"),
        ("172.16.0.300/24", "is not an IPv4 or IPv6 address"),
        ("fd00::1/129", "from 0 to 128"),
    ])
    func badAddressesAreRefusedBeforeAnythingIsSent(text: String, message: String) {
        do {
            _ = try InterfaceAddress(parsing: text)
            Issue.record("\(text) was accepted")
        } catch {
            #expect(error.description.contains(message), "got: \(error)")
        }
    }

    @Test func addressesPrintAndParseBothFamilies() throws {
        #expect(try InterfaceAddress(parsing: "172.16.0.2/24").description == "172.16.0.2/24")
        #expect(try InterfaceAddress(parsing: "fd00:0::1/64").description == "fd00::1/64")
        #expect(try InterfaceAddress(parsing: "10.1.2.3").prefixLength == 32)
        #expect(try InterfaceAddress(parsing: "172.16.0.1/24").broadcast == IPAddress("172.16.0.255"))
        #expect(try InterfaceAddress(parsing: "172.16.0.1/31").broadcast == nil)
    }

    @Test func linkNamesLongerThanTheKernelAllowsAreRefused() {
        #expect(throws: NetlinkError.self) { try RouteSocket.validate(linkName: "a-very-long-name0") }
        #expect(throws: NetlinkError.self) { try RouteSocket.validate(linkName: "") }
        #expect(throws: NetlinkError.self) { try RouteSocket.validate(linkName: "a/b") }
        #expect(throws: Never.self) { try RouteSocket.validate(linkName: "veth0") }
    }

    @Test func icmpChecksumMatchesRFC1071() {
        // The RFC 1071 example: 0001 f203 f4f5 f6f7 sums to ddf2; its complement is 220d.
        #expect(Ping.checksum([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]) == 0x220d)
        let request = Ping.request(family: 2, identifier: 0x1234, sequence: 1)
        #expect(Ping.checksum(request) == 0, "a packet with its checksum in place sums to zero")
    }

    @Test func kernelErrorsNameTheOperationAndAdvise() {
        let error = NetlinkError.kernel(operation: "create veth pair veth0 <-> veth1", cause: Errno(17))
        #expect(
            error.description == "create veth pair veth0 <-> veth1: EEXIST (File exists) — it already exists; pick another name or delete the old one first")
        #expect(NetlinkError.noSuchLink("veth9").description.contains("no link named 'veth9'"))
    }
}

/// Hex from an annotated listing: on each line, the hex groups before the first word that
/// is not hex; the rest is commentary.
func hex(_ listing: String) -> String {
    hex(bytesOf(listing))
}

func hex(_ bytes: [UInt8]) -> String {
    bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
}

func bytesOf(_ listing: String) -> [UInt8] {
    var bytes: [UInt8] = []
    for line in listing.split(separator: "\n") {
        for word in line.split(separator: " ") {
            guard word.count % 2 == 0, word.allSatisfy(\.isHexDigit) else { break }
            var index = word.startIndex
            while index < word.endIndex {
                let next = word.index(index, offsetBy: 2)
                bytes.append(UInt8(word[index..<next], radix: 16)!)
                index = next
            }
        }
    }
    return bytes
}
