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
    public var gantryCgroups: Set<String>
    public var children: Set<Int32>

    public static func take() -> HostSnapshot {
        becomeSubreaper()
        return HostSnapshot(
            namespacesInUse: namespaces(),
            mounts: mountPoints(),
            links: Set(list("/sys/class/net")),
            namedNetworkNamespaces: Set(list("/run/netns")),
            hostname: TestSupport.hostname(),
            gantryCgroups: cgroupDirectories(),
            children: children())
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
        compare("child processes", before.children, children)
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
        for hierarchy in [""] + list("/sys/fs/cgroup").map({ "/" + $0 }) {
            for entry in list("/sys/fs/cgroup" + hierarchy) where entry.hasPrefix("gantry") {
                result.insert("/sys/fs/cgroup\(hierarchy)/\(entry)")
            }
        }
        return result
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
