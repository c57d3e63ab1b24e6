internal import Isolation

/// How a lab's filesystem is assembled: the host's files under overlays (read-only lower,
/// tmpfs upper) so the learner may write anywhere without touching the host, and fresh
/// filesystems where a machine has its own (/proc, /dev, /sys, /tmp, /run, /root, /home).
///
/// Two plans. As root (`locked`), the host's root builds it (`Sandbox.buildMountNamespace`):
/// each lower layer is an idmapped view of a host filesystem, so the lab's root — an
/// unprivileged host id — owns what the host's root owns, and every mount reaches the lab
/// locked. Without root (`unprivileged`), the lab builds it inside its own user namespace.
///
/// As root, one overlay over the host's root filesystem is the lab's `/`, as DESIGN has it,
/// and a top-level directory that is a filesystem of its own (/boot, /var on a partition)
/// gets one too: an overlay's lower layer does not see the mounts below it. Mounts deeper
/// down are not seen (their directories look empty); /proc, /sys, /dev and the others are
/// fresh anyway. Without root, and for the read-only fallback, one view per top-level
/// directory: in a user namespace a view of `/` alone is refused (mounts below it are
/// locked), and a top-level directory with mounts below it is given an empty tmpfs instead.
struct LabFilesystem {
    enum Entry: Equatable {
        /// A directory, with its owner and mode on the host.
        case directory(String, uid: UInt32 = 0, gid: UInt32 = 0, mode: UInt32 = 0o755)
        case symlink(String, to: String)

        var name: String {
            switch self {
            case .directory(let name, _, _, _), .symlink(let name, _): name
            }
        }

        var isDirectory: Bool {
            if case .directory = self { true } else { false }
        }
    }

    /// Where the pieces are put together before pivot_root, inside the builder's own mount
    /// namespace (a tmpfs mounted over /tmp there, invisible to the host).
    static let staging = "/tmp"
    static let root = staging + "/.gantry-lab/root"

    /// Where the lab keeps a second sysfs in the unprivileged plan (see `fresh`).
    static let sysfsKeeper = "/run/gantry/sysfs"

    /// Directories every lab gets fresh, in the order they are made (/run before /sys, whose
    /// keepers live in /run).
    static let freshOrder = ["proc", "dev", "run", "sys", "tmp", "root", "home"]

    /// What of /proc and /sys a lab must not see or change, as runc's defaults have it:
    /// files hidden under /dev/null, directories under an empty read-only tmpfs, and
    /// read-only views. Only paths this kernel has are listed (a missing one cannot be
    /// mounted over).
    struct Masks: Equatable {
        var files: [String] = []
        var directories: [String] = []
        var readOnly: [String] = []

        static let candidates = Masks(
            files: [
                "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                "/proc/sched_debug", "/proc/sysrq-trigger",
            ],
            directories: ["/proc/acpi", "/proc/asound", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap"],
            readOnly: ["/proc/bus", "/proc/fs", "/proc/irq"])

        /// The candidates that exist, by `exists` (the host's /proc and /sys are the same kernel's).
        static func present(_ exists: (String) -> Bool) -> Masks {
            Masks(
                files: candidates.files.filter(exists), directories: candidates.directories.filter(exists),
                readOnly: candidates.readOnly.filter(exists))
        }
    }

    // MARK: The locked plan (as root)

    /// What the host's root builds for a lab whose ids start at `owner`.
    struct Locked {
        var entries: [Entry]
        var mountPoints: Set<String>
        /// Detached read-only views of host directories, by top-level name (`MountTree`):
        /// idmapped where the filesystem allows it.
        var trees: [String: Int32]
        /// Overlays above the trees (false: the trees alone, read-only).
        var overlay = true
        var owner: Ownership
        /// All the lab stores in memory — what it writes over the host's directories, /tmp,
        /// /root, /home, /run, /dev/shm — shares one tmpfs of this size (nil: the kernel's
        /// default). Half the lab's memory: files in memory cannot be reclaimed, and a lab
        /// whose memory were all files would leave the OOM killer nothing but its init.
        var storageSize: UInt64?
        var cgroupView: [Mount]
        var masks = Masks()
    }

    /// The key of the host's root filesystem in `Locked.trees`.
    static let rootTree = "/"

    /// What a locked plan wants read-only views (`Locked.trees`) of, by key: with overlays,
    /// the host's root filesystem and each top-level directory that is a filesystem of its
    /// own; without, each top-level directory with no mounts below it.
    static func treeKeys(entries: [Entry], mountPoints: Set<String>, overlay: Bool) -> [String] {
        let directories = entries.compactMap { entry -> String? in
            guard case .directory(let name, _, _, _) = entry, !freshOrder.contains(name) else { return nil }
            return name
        }
        guard overlay else { return directories.filter { name in !mountPoints.contains { $0.hasPrefix("/" + name + "/") } } }
        return [rootTree] + directories.filter { mountPoints.contains("/" + $0) }
    }

    /// The names of the top-level directories that are mount points (`boot` for /boot): with
    /// overlays, the only entries of the host's `/` a plan needs looked at.
    static func topLevelMountPoints(_ mountPoints: Set<String>) -> [String] {
        mountPoints.compactMap { point in
            let name = point.dropFirst()
            return point.hasPrefix("/") && !name.isEmpty && !name.contains("/") ? String(name) : nil
        }.sorted()
    }

    static func plan(_ input: Locked) -> (staging: [Mount], mounts: [Mount]) {
        let owner = input.owner
        var stagingMounts: [Mount] = [
            .tmpfs(at: staging, size: input.storageSize, mode: 0o755),
            .directory(at: root, owner: owner),
        ]
        for (name, mode) in storedDirectories {
            stagingMounts.append(.directory(at: storage + "/" + name, mode: mode, owner: owner))
        }
        if input.overlay, let rootfs = input.trees[rootTree] {
            // Host root's "/" (root:root 0755, as every distribution has it) is the lab's root's.
            stagingMounts += overlaid(rootfs, named: "rootfs", at: root, uid: 0, gid: 0, mode: 0o755, owner: owner)
            for case .directory(let name, let uid, let gid, let mode) in input.entries where !freshOrder.contains(name) {
                guard let tree = input.trees[name] else { continue }
                stagingMounts += overlaid(tree, named: name, at: root + "/" + name, uid: uid, gid: gid, mode: mode, owner: owner)
            }
            return (stagingMounts, freshOrder.flatMap { lockedFresh($0, input) })
        }
        var mounts: [Mount] = []
        for entry in input.entries {
            switch entry {
            case .symlink(let name, let destination):
                stagingMounts.append(.symlink(to: destination, at: root + "/" + name))
            case .directory(let name, let uid, let gid, let mode):
                if freshOrder.contains(name) { continue }
                let hostPath = "/" + name
                guard let tree = input.trees[name], !input.mountPoints.contains(where: { $0.hasPrefix(hostPath + "/") }) else {
                    mounts.append(.tmpfs(at: hostPath, size: 1 << 20, mode: 0o755, owner: owner))
                    continue
                }
                guard input.overlay else {
                    stagingMounts.append(.tree(descriptor: tree, at: root + hostPath))
                    continue
                }
                stagingMounts += overlaid(tree, named: name, at: root + hostPath, uid: uid, gid: gid, mode: mode, owner: owner)
            }
        }
        for name in freshOrder { mounts += lockedFresh(name, input) }
        return (stagingMounts, mounts)
    }

    /// An overlay at `target` whose lower layer is `tree` (a host directory owned by
    /// `uid`/`gid` with `mode`) and whose upper layer is in the staging tmpfs. The tree stays
    /// attached below the staging directory until the old root is detached (all of them at
    /// once: each umount waits out an RCU grace period).
    static func overlaid(
        _ tree: Int32, named name: String, at target: String, uid: UInt32, gid: UInt32, mode: UInt32, owner: Ownership
    ) -> [Mount] {
        let lower = staging + "/.gantry-lab/lower/" + name
        let upper = staging + "/.gantry-lab/upper/" + name, work = staging + "/.gantry-lab/work/" + name
        // The merged directory takes its owner and mode from the upper one: the same as the
        // host's, as the lab sees it.
        let upperOwner = Ownership(uid: mapped(uid, into: owner.uid), gid: mapped(gid, into: owner.gid))
        return [
            .directory(at: upper, mode: mode & 0o7777, owner: upperOwner), .directory(at: work, mode: 0o700),
            .tree(descriptor: tree, at: lower),
            .overlay(lower: [lower], upper: upper, work: work, at: target),
        ]
    }

    /// A host id as the lab's range shows it: ids 0–65535 move up by `base`, others are
    /// the lab's nobody (65534).
    static func mapped(_ id: UInt32, into base: UInt32) -> UInt32 {
        base + (id < LabIDRange.count ? id : 65_534)
    }

    /// Where the full, unmasked proc and sysfs are kept, hidden under a tmpfs. A user
    /// namespace may mount a new proc or sysfs (`unshare --mount-proc`, `ip netns exec`) only
    /// while one it could see whole is mounted (the kernel's mnt_too_revealing rule); the
    /// masked /proc and the cgroup views on /sys do not count. Covered by a locked mount,
    /// these cannot be reached, and they would show nothing the lab's ids may change anyway.
    static let hiddenProc = "/run/gantry/proc", hiddenSysfs = "/run/gantry/sys", hiddenCover = "/run/gantry"

    /// The shared store's directories (in the staging tmpfs, beside the overlays' upper
    /// layers), bound where a machine has them, with their usual modes.
    static let storage = staging + "/.gantry-lab/store"
    static let storedDirectories: [(String, UInt32)] = [("tmp", 0o1777), ("root", 0o700), ("home", 0o755), ("run", 0o755), ("shm", 0o1777)]

    static func stored(_ name: String, at target: String) -> Mount {
        .bind(source: storage + "/" + name, at: target, readOnly: false, recursive: false)
    }

    static func lockedFresh(_ name: String, _ input: Locked) -> [Mount] {
        let owner = input.owner
        switch name {
        case "proc":
            // Global sysctls are checked against the host's root, which the lab's root is not;
            // read-only besides, and the network ones (the lab's own namespaces) writable.
            var mounts: [Mount] = [
                .proc(at: "/proc"),
                .bind(source: root + "/proc/sys", at: "/proc/sys", readOnly: true, recursive: false),
                .bind(source: root + "/proc/sys/net", at: "/proc/sys/net", readOnly: false, recursive: false),
                .setReadOnly(at: "/proc/sys/net", readOnly: false),
            ]
            for path in input.masks.readOnly where path.hasPrefix("/proc/") {
                mounts.append(.bind(source: root + path, at: path, readOnly: true, recursive: false))
            }
            return mounts + masked(input.masks, under: "/proc/")
        case "dev": return [.minimalDev(at: "/dev", owner: owner), stored("shm", at: "/dev/shm")]
        case "run":
            return [
                stored("run", at: "/run"), .directory(at: "/run/lock", mode: 0o1777, owner: owner),
                .proc(at: hiddenProc), .sysfs(at: hiddenSysfs, readOnly: false),
                .tmpfs(at: hiddenCover, size: 4096, mode: 0o755),
            ]
        case "sys":
            return [.sysfs(at: "/sys", readOnly: true)] + input.cgroupView + masked(input.masks, under: "/sys/")
        case "tmp", "root", "home": return [stored(name, at: "/" + name)]
        default: return []
        }
    }

    static func masked(_ masks: Masks, under prefix: String) -> [Mount] {
        var mounts: [Mount] = []
        for path in masks.files where path.hasPrefix(prefix) {
            mounts.append(.bind(source: "/dev/null", at: path, readOnly: true, recursive: false))
        }
        for path in masks.directories where path.hasPrefix(prefix) {
            mounts += [.tmpfs(at: path, size: 4096, mode: 0o555), .setReadOnly(at: path, readOnly: true)]
        }
        return mounts
    }

    // MARK: The unprivileged plan (without root)

    static func fresh(_ name: String, cgroupView: [Mount]) -> [Mount]? {
        switch name {
        // Global sysctls need the host's root, which an unprivileged lab never is; the
        // read-only view is for clarity, and the network ones belong to the lab.
        case "proc":
            [
                .proc(at: "/proc"), .bind(source: root + "/proc/sys", at: "/proc/sys", readOnly: true, recursive: false),
                .bind(source: root + "/proc/sys/net", at: "/proc/sys/net", readOnly: false, recursive: false),
                .setReadOnly(at: "/proc/sys/net", readOnly: false),
            ]
        case "dev": [.minimalDev(at: "/dev")]
        case "run": [.tmpfs(at: "/run", mode: 0o755), .directory(at: "/run/lock", mode: 0o1777)]
        // `ip netns exec` unmounts /sys and mounts a new sysfs read-write. Inside a user
        // namespace the kernel allows that only while another sysfs stays mounted whose
        // superblock is not read-only ("mnt_too_revealing"). So the lab's sysfs superblock is
        // read-write, kept at /run/gantry/sysfs, and both it and /sys are read-only mounts of it.
        case "sys":
            [
                .sysfs(at: sysfsKeeper, readOnly: false),
                .bind(source: root + sysfsKeeper, at: sysfsKeeper, readOnly: true, recursive: false),
                .bind(source: root + sysfsKeeper, at: "/sys", readOnly: true, recursive: false),
            ] + cgroupView
        case "tmp": [.tmpfs(at: "/tmp", mode: 0o1777)]
        case "root": [.tmpfs(at: "/root", mode: 0o700)]
        case "home": [.tmpfs(at: "/home", mode: 0o755)]
        default: nil
        }
    }

    /// The staging mounts (at host paths inside the lab's mount namespace) and the mounts
    /// inside the new root, for the host's top-level `entries`. `mountPoints` are the host's
    /// mount points; `overlay` false gives the fallback: read-only binds.
    static func plan(
        entries: [Entry], mountPoints: Set<String>, overlay: Bool,
        cgroupView: [Mount]
    ) -> (staging: [Mount], mounts: [Mount]) {
        var stagingMounts: [Mount] = [.tmpfs(at: staging, mode: 0o755), .directory(at: root)]
        var mounts: [Mount] = []
        for entry in entries {
            switch entry {
            case .symlink(let name, let destination):
                stagingMounts.append(.symlink(to: destination, at: root + "/" + name))
            case .directory(let name, _, _, _):
                if fresh(name, cgroupView: cgroupView) != nil { continue }
                let hostPath = "/" + name
                let hasMountsBelow = mountPoints.contains { $0.hasPrefix(hostPath + "/") }
                if hasMountsBelow {
                    mounts.append(.tmpfs(at: hostPath, mode: 0o755))
                } else if overlay {
                    let upper = staging + "/.gantry-lab/upper/" + name, work = staging + "/.gantry-lab/work/" + name
                    stagingMounts += [
                        .directory(at: upper), .directory(at: work),
                        .overlay(lower: [hostPath], upper: upper, work: work, at: root + hostPath),
                    ]
                } else {
                    mounts.append(.bind(source: hostPath, at: hostPath, readOnly: true, recursive: true))
                }
            }
        }
        for name in freshOrder { mounts += fresh(name, cgroupView: cgroupView) ?? [] }
        return (stagingMounts, mounts)
    }
}
