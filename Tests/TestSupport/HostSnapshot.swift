import CGantry
import Foundation
import Glibc

/// What a test must leave as it found it: the namespaces processes are in, the host's mounts,
/// network links, named netns, hostname, Gantry cgroup directories, and orphans.
///
/// Any process left in a sandbox keeps that sandbox's namespaces alive, so "no namespace in
/// use afterwards that was not in use before" catches leaked processes wherever they were
/// reparented; the children check catches plain ones (the test process is a subreaper, so
/// orphans land on it instead of on pid 1).
public struct HostSnapshot: Equatable, Sendable {
    public var namespacesInUse: Set<String>
    public var mounts: [String]
    public var links: Set<String>
    public var namedNetworkNamespaces: Set<String>
    public var hostname: String
    /// Gantry's cgroup directories in every hierarchy, the labs' groups below them included.
    public var gantryCgroups: Set<String>
    /// Ledgers in root's ledger directory: a session that ended cleanly removes its own, so
    /// one left behind is a lab whose teardown did not finish.
    public var ledgers: Set<String>
    public var children: Set<Int32>
    /// Host-wide settings a hostile lab goes for: sysctls, sysfs knobs, IRQ affinity, and the
    /// root cgroups' own files, by path.
    public var knobs: [String: String]
    /// Every group directly under each hierarchy's root (a lab that reached the host's
    /// root groups could make one).
    public var rootCgroups: Set<String>
    /// Whether the host's root can still make an inotify instance (the per-user limit).
    public var inotifyWorks: Bool
    /// Files a hostile lab tries to leave on the host (`/tmp/gantry-escape*`).
    public var escapeFiles: Set<String>

    public static func take() -> HostSnapshot {
        becomeSubreaper()
        return HostSnapshot(
            namespacesInUse: namespaces(),
            mounts: mountPoints(),
            links: Set(list("/sys/class/net")),
            namedNetworkNamespaces: Set(list("/run/netns")),
            hostname: TestSupport.hostname(),
            gantryCgroups: cgroupDirectories(),
            ledgers: Set(list(ledgerDirectory).filter { $0.hasSuffix(".ledger") }),
            children: children(),
            knobs: knobs(),
            rootCgroups: rootCgroups(),
            inotifyWorks: inotifyWorks(),
            escapeFiles: Set(list("/tmp").filter { $0.hasPrefix("gantry-escape") }))
    }

    /// The settings `knobs` compares: what the hostile corpus tries to change.
    public static let knobPaths = [
        "/proc/sys/kernel/core_pattern", "/proc/sys/vm/swappiness", "/proc/sys/kernel/hostname",
        "/proc/sys/net/ipv4/ip_forward", "/proc/sys/fs/inotify/max_user_instances", "/proc/sys/kernel/modprobe",
        "/proc/irq/default_smp_affinity", "/sys/kernel/mm/transparent_hugepage/enabled",
        "/sys/fs/cgroup/blkio/blkio.throttle.read_bps_device", "/sys/fs/cgroup/cpu/cpu.cfs_quota_us",
        "/sys/fs/cgroup/pids/cgroup.procs", "/sys/fs/cgroup/devices/devices.list",
        "/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/cpu.max", "/sys/fs/cgroup/cgroup.subtree_control",
    ]

    private static func knobs() -> [String: String] {
        var values: [String: String] = [:]
        for path in knobPaths {
            guard var text = try? String(contentsOfFile: path, encoding: .utf8) else { continue }
            // The root group's member list changes with every process; only its size matters.
            if path.hasSuffix("cgroup.procs") { text = "\(text.split(separator: "\n").count > 0)" }
            values[path] = text
        }
        return values
    }

    private static func rootCgroups() -> Set<String> {
        var result: Set<String> = []
        let hierarchies = list("/sys/fs/cgroup").map { "/sys/fs/cgroup/" + $0 }.filter { isDirectory($0) }
        for hierarchy in ["/sys/fs/cgroup"] + hierarchies {
            for entry in list(hierarchy) where isDirectory(hierarchy + "/" + entry) && !entry.hasPrefix("gantry") {
                result.insert(hierarchy + "/" + entry)
            }
        }
        return result.subtracting(hierarchies)
    }

    private static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR
    }

    private static func inotifyWorks() -> Bool {
        let fd = inotify_init1(Int32(IN_CLOEXEC))
        if fd >= 0 { close(fd) }
        return fd >= 0
    }

    /// Human-readable differences; empty when the host is as it was.
    public func differences(from before: HostSnapshot) -> [String] {
        var found: [String] = []
        func compare<T: Hashable>(_ name: String, _ old: Set<T>, _ new: Set<T>) {
            let added = new.subtracting(old), removed = old.subtracting(new)
            if !added.isEmpty { found.append("\(name) added: \(added.sorted { "\($0)" < "\($1)" })") }
            if !removed.isEmpty { found.append("\(name) removed: \(removed.sorted { "\($0)" < "\($1)" })") }
        }
        // Namespaces that disappeared belong to processes that ended; only new ones leak.
        let leaked = namespacesInUse.subtracting(before.namespacesInUse)
        if !leaked.isEmpty { found.append("namespaces still in use: \(leaked.sorted())") }
        if mounts != before.mounts { compare("mounts", Set(before.mounts), Set(mounts)) }
        compare("links", before.links, links)
        compare("/run/netns", before.namedNetworkNamespaces, namedNetworkNamespaces)
        if hostname != before.hostname { found.append("hostname \(before.hostname) -> \(hostname)") }
        compare("cgroup dirs", before.gantryCgroups, gantryCgroups)
        compare("ledgers", before.ledgers, ledgers)
        // Children that ended were an earlier test's, winding down; only new ones leak.
        let newChildren = children.subtracting(before.children)
        if !newChildren.isEmpty { found.append("child processes added: \(newChildren.sorted())") }
        for (path, value) in knobs where before.knobs[path] != value {
            found.append("\(path) changed: \(before.knobs[path].debugDescription) -> \(value.debugDescription)")
        }
        compare("root cgroups", before.rootCgroups, rootCgroups)
        if before.inotifyWorks && !inotifyWorks { found.append("the host's root can no longer make inotify instances") }
        compare("files in /tmp", before.escapeFiles, escapeFiles)
        return found
    }

    /// Takes snapshots until the host settles: a netns is freed by the kernel shortly after
    /// its last process is reaped, so a comparison right away can see it still there. Settling
    /// is bounded by attempts, not by time (machines are shared and noisy).
    public static func settled(matching before: HostSnapshot, attempts: Int = 50) -> [String] {
        var differences: [String] = []
        for attempt in 0..<attempts {
            differences = take().differences(from: before)
            if differences.isEmpty { return [] }
            reapChildren()
            usleep(useconds_t(min(20_000 * (attempt + 1), 200_000)))
        }
        return differences
    }

    private static func becomeSubreaper() {
        _ = gantry_become_subreaper()
    }

    /// Orphans of sandboxes that ended land on us; reap the ones that are already zombies.
    private static func reapChildren() {
        var status: Int32 = 0
        for child in children() {
            _ = waitpid(child, &status, WNOHANG)
        }
    }

    private static func namespaces() -> Set<String> {
        var result: Set<String> = []
        for pid in list("/proc") where pid.allSatisfy(\.isNumber) {
            for kind in ["user", "mnt", "pid", "uts", "ipc", "net", "cgroup"] {
                if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/\(kind)") {
                    result.insert(target)
                }
            }
        }
        return result
    }

    /// Mount points with their source and type; ids and options change without meaning.
    private static func mountPoints() -> [String] {
        guard let text = try? String(contentsOfFile: "/proc/1/mountinfo", encoding: .utf8) else { return [] }
        return text.split(separator: "\n").map { line in
            let fields = line.split(separator: " ")
            let separator = fields.firstIndex(of: "-") ?? fields.endIndex
            let type = separator + 1 < fields.count ? fields[separator + 1] : ""
            return "\(fields.count > 4 ? fields[4] : "") \(type)"
        }.sorted()
    }

    private static func cgroupDirectories() -> Set<String> {
        var result: Set<String> = []
        func walk(_ directory: String) {
            result.insert(directory)
            for entry in list(directory) where isDirectory(directory + "/" + entry) { walk(directory + "/" + entry) }
        }
        for hierarchy in [""] + list("/sys/fs/cgroup").map({ "/" + $0 }) {
            for entry in list("/sys/fs/cgroup" + hierarchy) where entry.hasPrefix("gantry") {
                walk("/sys/fs/cgroup\(hierarchy)/\(entry)")
            }
        }
        return result
    }

    /// Where root's sessions keep their ledgers (`Ledger.defaultDirectory()` for root).
    public static let ledgerDirectory = "/run/gantry"

    /// What a dead session left (a ledger, a lab's groups), found before a test starts.
    public var leftovers: [String] {
        Array(ledgers).sorted() + gantryCgroups.sorted()
    }

    private static func children() -> Set<Int32> {
        var result: Set<Int32> = []
        for task in list("/proc/self/task") {
            guard let text = try? String(contentsOfFile: "/proc/self/task/\(task)/children", encoding: .utf8) else { continue }
            for pid in text.split(separator: " ") { if let value = Int32(pid) { result.insert(value) } }
        }
        return result
    }

    static func list(_ directory: String) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
    }
}

/// The host's hostname, as gethostname(2) reports it.
public func hostname() -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    gethostname(&buffer, buffer.count)
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
