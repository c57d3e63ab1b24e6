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
    /// Who writes the maps: the kernel takes any map from root, but from anyone else only
    /// their own id, once; a map of a user's subordinate ids (/etc/subuid, /etc/subgid) is
    /// written by shadow's setuid helpers newuidmap and newgidmap, as rootless podman does.
    public var writer: Writer = .kernel

    public enum Writer: Codable, Sendable, Hashable {
        case kernel
        case helpers(newuidmap: String, newgidmap: String)
    }

    public init(uids: [IDRange], gids: [IDRange], writer: Writer = .kernel) {
        self.uids = uids
        self.gids = gids
        self.writer = writer
    }

    /// A normal user's lab: their own ids are root inside, and their subordinate ranges
    /// (when /etc/subuid and /etc/subgid give them one) are ids 1 and up, written by the
    /// helpers; without ranges or helpers, the single map the kernel allows.
    public static func user(
        uid: UInt32, gid: UInt32, subordinateUIDs: Range<UInt32>?, subordinateGIDs: Range<UInt32>?,
        helpers: (newuidmap: String, newgidmap: String)?
    ) -> UserMapping {
        guard let subordinateUIDs, let subordinateGIDs, let helpers else { return .root(uid: uid, gid: gid) }
        let count = UInt32(min(subordinateUIDs.count, subordinateGIDs.count, 65_535))
        return UserMapping(
            uids: [IDRange(inside: 0, outside: uid, count: 1), IDRange(inside: 1, outside: subordinateUIDs.lowerBound, count: count)],
            gids: [IDRange(inside: 0, outside: gid, count: 1), IDRange(inside: 1, outside: subordinateGIDs.lowerBound, count: count)],
            writer: .helpers(newuidmap: helpers.newuidmap, newgidmap: helpers.newgidmap))
    }

    /// The helpers' arguments after the pid: `inside outside count` triples.
    func helperArguments(_ ranges: [IDRange]) -> [String] {
        ranges.flatMap { [String($0.inside), String($0.outside), String($0.count)] }
    }

    /// Every id maps to itself: root stays root, files keep their owners. Only root may write
    /// this; it is what a lab uses when Gantry runs as root.
    public static let identity = UserMapping(
        uids: [IDRange(inside: 0, outside: 0, count: UInt32.max)],
        gids: [IDRange(inside: 0, outside: 0, count: UInt32.max)])

    /// The caller becomes root inside (`unshare --map-root-user`).
    public static func root(uid: UInt32, gid: UInt32) -> UserMapping {
        UserMapping(
            uids: [IDRange(inside: 0, outside: uid, count: 1)],
            gids: [IDRange(inside: 0, outside: gid, count: 1)])
    }

    /// The caller keeps its own ids inside (`unshare --map-current-user`).
    public static func current(uid: UInt32, gid: UInt32) -> UserMapping {
        UserMapping(
            uids: [IDRange(inside: uid, outside: uid, count: 1)],
            gids: [IDRange(inside: gid, outside: gid, count: 1)])
    }

    /// The text the kernel expects in `uid_map`: one range a line.
    public var uidMapText: String { Self.text(uids) }
    public var gidMapText: String { Self.text(gids) }

    private static func text(_ ranges: [IDRange]) -> String {
        ranges.map { "\($0.inside) \($0.outside) \($0.count)\n" }.joined()
    }
}
