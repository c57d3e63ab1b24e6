import Foundation
import Glibc
public import Testing

/// Tests that create namespaces, mounts or cgroups as root. These machines and CI run as
/// root, so they run there; elsewhere they are skipped with this reason.
public let requiresRoot = Testing.ConditionTrait.enabled(
    if: geteuid() == 0, "requires root: creates namespaces, mounts and cgroups")

/// Tests of the unprivileged path (a normal user with a user namespace), made by switching to
/// `nobody` with setpriv(1); needs root to switch and a kernel that allows user namespaces.
public let requiresRootAndUserNamespaces = Testing.ConditionTrait.enabled(
    if: geteuid() == 0 && unprivilegedUserNamespacesAllowed() && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv"),
    "requires root to switch to nobody (setpriv), and unprivileged user namespaces")

func unprivilegedUserNamespacesAllowed() -> Bool {
    let limit =
        (try? String(contentsOfFile: "/proc/sys/user/max_user_namespaces", encoding: .utf8))
        .flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 0
    let debianSwitch =
        (try? String(contentsOfFile: "/proc/sys/kernel/unprivileged_userns_clone", encoding: .utf8))
        .map { $0.hasPrefix("1") } ?? true
    return limit > 0 && debianSwitch
}

/// Runs `body` and then checks the host is as it was before: the standard ending of every
/// test that builds a sandbox.
public func expectHostUnchanged(sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) rethrows {
    var before = HostSnapshot.take()
    // What an earlier test left is that test's leak, not this one's: it is named on the
    // output (so the log shows where it was found) and cleaned up as the next lab would.
    if geteuid() == 0, !before.leftovers.isEmpty {
        let name = Test.current?.name ?? "this test"
        FileHandle.standardError.write(Data("note: found before \(name), left by an earlier test: \(before.leftovers)\n".utf8))
        _ = try? CommandRunner.gantry(["cleanup"])
        before = HostSnapshot.take()
    }
    try body()
    let differences = HostSnapshot.settled(matching: before)
    #expect(differences.isEmpty, "the host changed: \(differences.joined(separator: "; "))", sourceLocation: sourceLocation)
}

/// Lowering an OOM score needs CAP_SYS_RESOURCE, which the build machines' root lacks (its
/// bounding set drops it); the cgroup v2 VM run (`scripts/vm-test`) checks it as full root.
public let requiresRootWithSysResource = Testing.ConditionTrait.enabled(
    if: geteuid() == 0 && hasEffectiveCapability(24), "requires CAP_SYS_RESOURCE (absent on these machines; checked in scripts/vm-test)")

func hasEffectiveCapability(_ bit: Int) -> Bool {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
        let line = status.split(separator: "\n").first(where: { $0.hasPrefix("CapEff:") }),
        let mask = UInt64(line.split(separator: "\t").last ?? "", radix: 16)
    else { return false }
    return mask & (1 << UInt64(bit)) != 0
}

/// A normal user made for a test (`useradd`, with /etc/subuid and /etc/subgid ranges as
/// Debian's useradd gives), and removed after it with them.
public struct TestUser {
    public let name: String
    public let uid: UInt32
    public let runtimeDirectory: String

    public static func make(_ name: String? = nil) throws -> TestUser {
        let name = name ?? "gantry-learner-\(getpid())"
        let result = try CommandRunner.run("/usr/sbin/useradd", ["--no-create-home", "--shell", "/bin/bash", name])
        guard result.status == 0, let entry = getpwnam(name) else {
            throw TestUserError(message: "useradd \(name): \(result.error)")
        }
        let directory = NSTemporaryDirectory() + "gantry-\(name)-runtime"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        chown(directory, entry.pointee.pw_uid, entry.pointee.pw_gid)
        return TestUser(name: name, uid: entry.pointee.pw_uid, runtimeDirectory: directory)
    }

    /// Runs `gantry ARGUMENTS` as this user, with its own runtime directory (ledgers); in
    /// the cgroup v2 group `cgroup` (a path under /sys/fs/cgroup) when one is given, put
    /// there by root before the switch, as systemd starts a user's session in its own.
    public func gantry(_ arguments: [String], input: String? = nil, cgroup: String? = nil) throws -> CommandResult {
        let asUser =
            [
                "/usr/bin/setpriv", "--reuid=\(name)", "--regid=\(name)", "--init-groups", "--",
                "/usr/bin/env", "XDG_RUNTIME_DIR=\(runtimeDirectory)", "HOME=\(runtimeDirectory)",
                CommandRunner.gantryPath,
            ] + arguments
        guard let cgroup else { return try CommandRunner.run(asUser[0], Array(asUser.dropFirst()), input: input) }
        return try CommandRunner.run(
            "/bin/sh", ["-c", #"echo $$ > "/sys/fs/cgroup/$0/cgroup.procs" && exec "$@""#, cgroup] + asUser, input: input)
    }

    public func remove() {
        _ = try? CommandRunner.run("/usr/sbin/userdel", [name])
        try? FileManager.default.removeItem(atPath: runtimeDirectory)
    }
}

public struct TestUserError: Error, CustomStringConvertible {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}

/// Rootless labs: a user made for the test, with subordinate ids (newuidmap from `uidmap`).
public let requiresRootToMakeAUser = Testing.ConditionTrait.enabled(
    if: geteuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/useradd")
        && FileManager.default.isExecutableFile(atPath: "/usr/bin/newuidmap"),
    "requires root to make a user (useradd) and shadow's newuidmap (package uidmap)")

/// Runs where the host is cgroup v2 only, as root: the build machines are hybrid, so these
/// run in `scripts/vm-test`'s guest (a cgroup v2 kernel) and are skipped on the host.
public let requiresRootOnCgroupV2 = Testing.ConditionTrait.enabled(
    if: geteuid() == 0 && isCgroupV2Only() && FileManager.default.isExecutableFile(atPath: "/usr/sbin/useradd")
        && FileManager.default.isExecutableFile(atPath: "/usr/bin/newuidmap"),
    "requires root on a cgroup v2 only host (these machines are hybrid; scripts/vm-test runs it on a v2 kernel)")

/// /sys/fs/cgroup is itself the cgroup2 filesystem (its root's cgroup.controllers), not a
/// tmpfs of v1 hierarchies.
func isCgroupV2Only() -> Bool {
    FileManager.default.fileExists(atPath: "/sys/fs/cgroup/cgroup.controllers")
}
