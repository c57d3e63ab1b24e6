/// One line of `/proc/PID/uid_map` or `gid_map`: `count` ids from `inside` map to `outside`.
public struct IDRange: Codable, Sendable, Hashable {
    public var inside: UInt32
    public var outside: UInt32
    public var count: UInt32

    public init(inside: UInt32, outside: UInt32, count: UInt32) {
        self.inside = inside
        self.outside = outside
        self.count = count
    }
}

/// Who a process in a new user namespace is, written by the parent before the child goes on.
public struct UserMapping: Codable, Sendable, Hashable {
    public var uids: [IDRange]
    public var gids: [IDRange]

    public init(uids: [IDRange], gids: [IDRange]) {
        self.uids = uids
        self.gids = gids
    }

    /// Every id maps to itself: root stays root, files keep their owners. Only root may write
    /// this; it is what a lab uses when Gantry runs as root.
    public static let identity = UserMapping(
        uids: [IDRange(inside: 0, outside: 0, count: UInt32.max)],
        gids: [IDRange(inside: 0, outside: 0, count: UInt32.max)])

    /// The caller becomes root inside (`unshare --map-root-user`).
    public static func root(uid: UInt32, gid: UInt32) -> UserMapping {
        UserMapping(uids: [IDRange(inside: 0, outside: uid, count: 1)],
                    gids: [IDRange(inside: 0, outside: gid, count: 1)])
    }

    /// The caller keeps its own ids inside (`unshare --map-current-user`).
    public static func current(uid: UInt32, gid: UInt32) -> UserMapping {
        UserMapping(uids: [IDRange(inside: uid, outside: uid, count: 1)],
                    gids: [IDRange(inside: gid, outside: gid, count: 1)])
    }

    /// The text the kernel expects in `uid_map`: one range a line.
    public var uidMapText: String { Self.text(uids) }
    public var gidMapText: String { Self.text(gids) }

    private static func text(_ ranges: [IDRange]) -> String {
        ranges.map { "\($0.inside) \($0.outside) \($0.count)\n" }.joined()
    }
}
