/// rtnetlink numbers from <linux/netlink.h>, <linux/rtnetlink.h>, <linux/if_link.h>,
/// <linux/veth.h> and <linux/if_addr.h>. They are kernel ABI (never renumbered); spelled out
/// here because Swift's Glibc module imports none of those headers.
enum RTM {
    static let newLink: UInt16 = 16, delLink: UInt16 = 17, getLink: UInt16 = 18, setLink: UInt16 = 19
    static let newAddress: UInt16 = 20, getAddress: UInt16 = 22
    static let newRoute: UInt16 = 24
}

enum NLMSG {
    static let error: UInt16 = 2, done: UInt16 = 3
    static let headerLength = 16
}

/// Socket options of a netlink socket: SOL_NETLINK from <bits/socket.h>, NETLINK_EXT_ACK
/// (extended error messages) from <linux/netlink.h>.
let solNetlink: Int32 = 270, netlinkExtendedAck: Int32 = 11

/// nlmsghdr flags.
struct NetlinkFlags: OptionSet, Sendable {
    let rawValue: UInt16
    static let request = NetlinkFlags(rawValue: 0x001)
    static let multi = NetlinkFlags(rawValue: 0x002)
    static let ack = NetlinkFlags(rawValue: 0x004)
    static let dump = NetlinkFlags(rawValue: 0x300)  // NLM_F_ROOT | NLM_F_MATCH
    static let exclusive = NetlinkFlags(rawValue: 0x200)
    static let create = NetlinkFlags(rawValue: 0x400)
}

/// IFLA_* attributes of a link message.
enum IFLA {
    static let address: UInt16 = 1, broadcast: UInt16 = 2, name: UInt16 = 3, mtu: UInt16 = 4
    static let link: UInt16 = 5, master: UInt16 = 10, operationalState: UInt16 = 16
    static let linkInfo: UInt16 = 18, netnsPID: UInt16 = 19, netnsFD: UInt16 = 28
    static let linkNetnsID: UInt16 = 37
    /// Inside IFLA_LINKINFO.
    static let infoKind: UInt16 = 1, infoData: UInt16 = 2
    /// Inside IFLA_INFO_DATA of a veth: the peer's own ifinfomsg + attributes.
    static let vethPeer: UInt16 = 1
}

/// IFA_* attributes of an address message.
enum IFA {
    static let address: UInt16 = 1, local: UInt16 = 2, label: UInt16 = 3, broadcast: UInt16 = 4
}

/// RTA_* attributes of a route message.
enum RTA {
    static let destination: UInt16 = 1, outputInterface: UInt16 = 4, gateway: UInt16 = 5
}

/// The nested-attribute bit; the kernel sets it on some nests, so parsing masks it away.
let nlaFNested: UInt16 = 0x8000

enum AddressFamily {
    static let unspecified: UInt8 = 0, inet: UInt8 = 2, inet6: UInt8 = 10
}

/// net_device flags (IFF_*).
public struct InterfaceFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let up = InterfaceFlags(rawValue: 0x1)
    public static let broadcast = InterfaceFlags(rawValue: 0x2)
    public static let loopback = InterfaceFlags(rawValue: 0x8)
    /// The carrier is there (a veth whose peer is up): what `ip link` shows as LOWER_UP.
    public static let lowerUp = InterfaceFlags(rawValue: 0x10000)
}
