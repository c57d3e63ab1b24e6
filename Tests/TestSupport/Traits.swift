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
    let limit = (try? String(contentsOfFile: "/proc/sys/user/max_user_namespaces", encoding: .utf8))
        .flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 0
    let debianSwitch = (try? String(contentsOfFile: "/proc/sys/kernel/unprivileged_userns_clone", encoding: .utf8))
        .map { $0.hasPrefix("1") } ?? true
    return limit > 0 && debianSwitch
}

/// Runs `body` and then checks the host is as it was before: the standard ending of every
/// test that builds a sandbox.
public func expectHostUnchanged(sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) rethrows {
    let before = HostSnapshot.take()
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
          let mask = UInt64(line.split(separator: "\t").last ?? "", radix: 16) else { return false }
    return mask & (1 << UInt64(bit)) != 0
}
