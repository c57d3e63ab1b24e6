/// The kernel namespaces a sandbox can get fresh copies of.
///
/// The raw values are the `CLONE_NEW*` flags of clone(2) and setns(2); they are spelled out
/// because Swift's Glibc module does not import those macros.
public struct Namespaces: OptionSet, Codable, Sendable, Hashable {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let user = Namespaces(rawValue: 0x1000_0000)  // CLONE_NEWUSER
    public static let mount = Namespaces(rawValue: 0x0002_0000)  // CLONE_NEWNS
    public static let pid = Namespaces(rawValue: 0x2000_0000)  // CLONE_NEWPID
    public static let uts = Namespaces(rawValue: 0x0400_0000)  // CLONE_NEWUTS
    public static let ipc = Namespaces(rawValue: 0x0800_0000)  // CLONE_NEWIPC
    public static let net = Namespaces(rawValue: 0x4000_0000)  // CLONE_NEWNET
    public static let cgroup = Namespaces(rawValue: 0x0200_0000)  // CLONE_NEWCGROUP

    /// All seven, as `unshare -Urfpimnu -C` or `bwrap --unshare-all` ask for.
    public static let all: Namespaces = [.user, .mount, .pid, .uts, .ipc, .net, .cgroup]

    /// Each namespace on its own, in the order setns must join them: user first (so the
    /// others, owned by it, become joinable), mount last (it changes the root), as nsenter does.
    public static let joinOrder: [Namespaces] = [.user, .cgroup, .ipc, .uts, .net, .pid, .mount]

    /// The file name under `/proc/PID/ns/`.
    public var procName: String? {
        switch self {
        case .user: "user"
        case .mount: "mnt"
        case .pid: "pid"
        case .uts: "uts"
        case .ipc: "ipc"
        case .net: "net"
        case .cgroup: "cgroup"
        default: nil
        }
    }

    /// Single namespaces contained in this set, in join order.
    public var members: [Namespaces] { Self.joinOrder.filter { contains($0) } }
}
