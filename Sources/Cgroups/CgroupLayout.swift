/// How cgroups are mounted on this host.
///
/// - unified: one cgroup2 tree with every controller (most current distributions);
/// - hybrid: v1 hierarchies per controller plus a cgroup2 tree without them (systemd's
///   hybrid mode, and these build machines);
/// - legacy: v1 hierarchies only.
internal import POSIXSupport

public struct CgroupLayout: Sendable, Equatable, CustomStringConvertible {
    public enum Mode: String, Sendable { case unified, hybrid, legacy }

    public var mode: Mode
    /// Mount point of the cgroup2 tree, if any.
    public var unifiedPath: String?
    /// Mount point of each v1 hierarchy, by controller (`cpu`, `cpuacct`, `memory`, …). Two
    /// controllers co-mounted (`cpu,cpuacct`) map to the same path.
    public var v1Paths: [String: String]
    /// The mount options that name each v1 hierarchy's controllers, by path (what a new
    /// mount of the same hierarchy must say): `cpu`, `cpu,cpuacct`, `name=systemd`.
    public var v1Options: [String: String]
    /// Controllers the cgroup2 root offers (`cgroup.controllers`).
    public var unifiedControllers: Set<String>

    public var description: String {
        switch mode {
        case .unified: "cgroup v2 (unified) at \(unifiedPath ?? "?"), controllers: \(unifiedControllers.sorted().joined(separator: " "))"
        case .hybrid: "hybrid: v1 \(v1Paths.keys.sorted().joined(separator: " ")), v2 at \(unifiedPath ?? "?")"
        case .legacy: "cgroup v1 (legacy): \(v1Paths.keys.sorted().joined(separator: " "))"
        }
    }

    /// The controllers Gantry manages, where this host has them.
    public static let managedControllers = ["cpu", "cpuacct", "memory", "pids", "freezer"]

    /// Reads the layout from `/proc/self/mountinfo` (the text is injectable for tests) and the
    /// cgroup2 root's `cgroup.controllers`.
    public static func detect(mountinfo: String, readControllers: (String) -> String? = { _ in nil }) -> CgroupLayout {
        var unified: String?
        var v1Paths: [String: String] = [:]
        var v1Options: [String: String] = [:]
        for mount in ProcFS.parseMountInfo(mountinfo) {
            let mountPoint = mount.mountPoint
            if mount.type == "cgroup2" {
                // Several cgroup2 mounts are one tree; prefer the conventional one.
                if unified == nil || mountPoint == "/sys/fs/cgroup" || mountPoint == "/sys/fs/cgroup/unified" {
                    unified = mountPoint
                }
            } else if mount.type == "cgroup" {
                let names = mount.superOptions.filter {
                    !["rw", "ro", "relatime", "noatime", "nosuid", "nodev", "noexec", "xattr", "clone_children"].contains($0) && !$0.hasPrefix("release_agent=")
                }
                guard !names.isEmpty else { continue }
                // Not `joined`: its unspecialized generic code made the runtime scan every
                // conformance record of the binary the first time, on every start.
                v1Options[mountPoint] = names.dropFirst().reduce(names[0]) { $0 + "," + $1 }
                for name in names where !name.hasPrefix("name=") && v1Paths[name] == nil {
                    v1Paths[name] = mountPoint
                }
            }
        }
        let controllers = unified.flatMap(readControllers).map { Set($0.split(whereSeparator: \.isWhitespace).map(String.init)) } ?? []
        let mode: Mode = v1Paths.isEmpty ? .unified : (unified == nil ? .legacy : .hybrid)
        return CgroupLayout(
            mode: mode, unifiedPath: unified, v1Paths: v1Paths, v1Options: v1Options,
            unifiedControllers: controllers)
    }

    /// Which driver manages a controller: v2 when the unified tree offers it.
    public func version(of controller: String) -> Int? {
        if unifiedControllers.contains(controller) { return 2 }
        if v1Paths[controller] != nil { return 1 }
        return nil
    }

}
