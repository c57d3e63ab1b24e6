import Foundation
import POSIXSupport
import Synchronization

@testable import Cgroups

/// A cgroup tree in a temporary directory that acts like the kernel where drivers rely on
/// it: new directories get control files, `cgroup.procs` moves a pid, removal refuses a busy
/// group, `cgroup.kill` and SIGKILL empty groups, v2's no-internal-processes rule holds.
final class FakeCgroupTree: CgroupFileSystem, @unchecked Sendable {
    // @unchecked: tests use one tree from one thread; `state` guards the little shared state.
    let root: String
    let version: Int
    private let state = Mutex<(kills: [Int32], busyMemory: Bool, reads: [String])>(([], false, []))

    var kills: [Int32] { state.withLock { $0.kills } }
    /// Every file read through the driver's file system, in order.
    var reads: [String] { state.withLock { $0.reads } }
    /// Makes the next memory-limit write fail with EBUSY (usage above the new limit).
    func refuseNextMemoryLimit() { state.withLock { $0.busyMemory = true } }

    init(version: Int) throws {
        self.version = version
        root = NSTemporaryDirectory() + "gantry-fake-cgroup-\(UUID().uuidString)"
        if version == 2 {
            try populate(root, controllers: "cpu memory pids")
        } else {
            for controller in ["cpu", "cpuacct", "memory", "pids", "freezer"] {
                try populate(root + "/" + controller, controllers: controller)
            }
        }
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    var layout: CgroupLayout {
        version == 2
            ? CgroupLayout(mode: .unified, unifiedPath: root, v1Paths: [:], v1Options: [:], unifiedControllers: ["cpu", "memory", "pids"])
            : CgroupLayout(
                mode: .legacy, unifiedPath: nil,
                v1Paths: Dictionary(uniqueKeysWithValues: ["cpu", "cpuacct", "memory", "pids", "freezer"].map { ($0, root + "/" + $0) }),
                v1Options: [:], unifiedControllers: [])
    }

    private func populate(_ directory: String, controllers: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var files = ["cgroup.procs": ""]
        if version == 2 {
            files["cgroup.controllers"] = controllers
            files["cgroup.subtree_control"] = ""
            files["cgroup.kill"] = ""
            files["cpu.max"] = "max 100000"
            files["memory.max"] = "max"
            files["memory.swap.max"] = "max"
            files["pids.max"] = "max"
            files["memory.events"] = "oom 0\noom_kill 0\n"
            files["cpu.stat"] = "usage_usec 0\n"
        } else {
            files["memory.limit_in_bytes"] = "9223372036854771712"
            files["memory.memsw.limit_in_bytes"] = "9223372036854771712"
            files["memory.usage_in_bytes"] = "1000"
            files["freezer.state"] = "THAWED"
            files["cpu.cfs_quota_us"] = "-1"
            files["cpu.cfs_period_us"] = "100000"
            files["cpu.shares"] = "1024"
            files["pids.max"] = "max"
        }
        for (name, content) in files {
            try content.write(toFile: directory + "/" + name, atomically: false, encoding: .utf8)
        }
    }

    private func errno(_ code: Int32, _ operation: String, _ path: String) -> CgroupError {
        .io(operation: operation, path: path, cause: Errno(code))
    }

    func read(_ path: String) throws(CgroupError) -> String {
        state.withLock { $0.reads.append(path) }
        // As in the kernel, a child is offered what its parent enables, whenever that changes.
        let directory = (path as NSString).deletingLastPathComponent
        if version == 2, (path as NSString).lastPathComponent == "cgroup.controllers", directory != root {
            return try read((directory as NSString).deletingLastPathComponent + "/cgroup.subtree_control")
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw errno(2, "read", path) }
        return text
    }

    func write(_ path: String, _ value: String) throws(CgroupError) {
        let directory = (path as NSString).deletingLastPathComponent
        let file = (path as NSString).lastPathComponent
        guard FileManager.default.fileExists(atPath: path) else { throw errno(2, "open", path) }
        switch file {
        case "cgroup.procs":
            guard let pid = Int32(value) else { throw errno(22, "write", path) }
            // v2: a group with controllers on for its children may not hold processes.
            if version == 2, directory != root, !((try? read(directory + "/cgroup.subtree_control")) ?? "").isEmpty {
                throw errno(16, "write", path)
            }
            removeEverywhere(pid, hierarchyOf: directory)
            append(pid, to: path)
        case "cgroup.subtree_control":
            let before = Set(((try? read(path)) ?? "").split(separator: " ").map(String.init))
            let enabled = before.union(value.split(separator: " ").map { String($0.dropFirst()) })
            // As in the kernel, a write that changes nothing succeeds before any other check.
            if enabled == before { return }
            if directory != root, !((try? read(directory + "/cgroup.procs")) ?? "").isEmpty { throw errno(16, "write", path) }
            try? enabled.sorted().joined(separator: " ").write(toFile: path, atomically: false, encoding: .utf8)
        case "cgroup.kill":
            for member in tree(directory) { for pid in pids(member) { kill(pid) } }
        case "memory.limit_in_bytes", "memory.max":
            if state.withLock({
                let busy = $0.busyMemory; $0.busyMemory = false; return busy
            }) {
                throw errno(16, "write", path)
            }
            try? value.write(toFile: path, atomically: false, encoding: .utf8)
        default:
            try? value.write(toFile: path, atomically: false, encoding: .utf8)
        }
    }

    func makeDirectory(_ path: String) throws(CgroupError) {
        guard !FileManager.default.fileExists(atPath: path) else { return }
        let parent = (path as NSString).deletingLastPathComponent
        let offered = version == 2 ? ((try? read(parent + "/cgroup.subtree_control")) ?? "") : ""
        do { try populate(path, controllers: offered) } catch { throw self.errno(2, "mkdir", path) }
    }

    func removeDirectory(_ path: String) throws(CgroupError) {
        guard FileManager.default.fileExists(atPath: path) else { return }
        if !subdirectories(path).isEmpty || !pids(path).isEmpty { throw errno(16, "rmdir", path) }
        try? FileManager.default.removeItem(atPath: path)
    }

    func subdirectories(_ path: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.filter {
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: path + "/" + $0, isDirectory: &isDirectory) && isDirectory.boolValue
        }.sorted()
    }

    func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    /// A killed process leaves every group it was in.
    func kill(_ pid: Int32) {
        state.withLock { $0.kills.append(pid) }
        for hierarchy in version == 2 ? [root] : subdirectories(root).map({ root + "/" + $0 }) {
            for member in tree(hierarchy) { remove(pid, from: member + "/cgroup.procs") }
        }
    }

    func backoff(attempt: Int) {}

    private let ownerState = Mutex<[String: (UInt32, UInt32)]>([:])
    /// Who each path was given to (`changeOwner`).
    var owners: [String: (UInt32, UInt32)] { ownerState.withLock { $0 } }
    func changeOwner(_ path: String, uid: UInt32, gid: UInt32) throws(CgroupError) {
        guard FileManager.default.fileExists(atPath: path) else { throw errno(2, "chown", path) }
        ownerState.withLock { $0[path] = (uid, gid) }
    }

    // MARK: Helpers for tests

    /// Puts a made-up process in a group, as the kernel would show it.
    func place(_ pid: Int32, in directory: String) {
        removeEverywhere(pid, hierarchyOf: directory)
        append(pid, to: directory + "/cgroup.procs")
    }

    /// The members, as the kernel knows them (not a read through the file system: `reads`
    /// lists only what a driver read).
    func pids(_ directory: String) -> [Int32] {
        ((try? String(contentsOfFile: directory + "/cgroup.procs", encoding: .utf8)) ?? "").split(whereSeparator: \.isWhitespace)
            .compactMap { Int32($0) }
    }

    private func tree(_ directory: String) -> [String] {
        [directory] + subdirectories(directory).flatMap { tree(directory + "/" + $0) }
    }

    private func append(_ pid: Int32, to file: String) {
        let current = pids((file as NSString).deletingLastPathComponent)
        try? (current + [pid]).map(String.init).joined(separator: "\n").write(toFile: file, atomically: false, encoding: .utf8)
    }

    private func remove(_ pid: Int32, from file: String) {
        let directory = (file as NSString).deletingLastPathComponent
        let current = pids(directory)
        guard current.contains(pid) else { return }
        try? current.filter { $0 != pid }.map(String.init).joined(separator: "\n").write(toFile: file, atomically: false, encoding: .utf8)
    }

    private func removeEverywhere(_ pid: Int32, hierarchyOf directory: String) {
        let hierarchy = version == 2 ? root : root + "/" + String(directory.dropFirst(root.count + 1).split(separator: "/")[0])
        for member in tree(hierarchy) { remove(pid, from: member + "/cgroup.procs") }
    }
}
