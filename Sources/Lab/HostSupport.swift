internal import Cgroups
internal import Glibc
internal import Isolation
internal import POSIXSupport

/// What this host can do for labs, found by trying where trying is cheap. `gantry doctor`
/// prints it; a lesson's `requires:` names these capabilities.
public struct HostSupport: Sendable {
    public struct Finding: Sendable {
        /// A capability name lessons can require (`userns`, `cgroup.cpu`, `tool.ip`, …).
        public var capability: String
        public var available: Bool
        /// What was found.
        public var detail: String
        /// What to do when it is missing.
        public var fix: String?
    }

    public var findings: [Finding]

    public func has(_ capability: String) -> Bool {
        findings.contains { $0.capability == capability && $0.available }
    }

    /// A lab needs its namespaces; its limits need a cgroup (root's, or a delegated subtree),
    /// without which it runs unlimited and cgroup lessons are skipped.
    public var canBuildLabs: Bool { has("namespaces") && has("userns") }

    /// Every capability `detect` can report: what a lesson may name in `requires:` or as a
    /// block variant (```console cgroup.v2). Lint and `doctor` share this list.
    public static var knownCapabilities: [String] {
        [
            "root", "userns", "namespaces", "netns", "overlay", "idmap", "cgroup", "cgroup.cpu", "cgroup.memory", "cgroup.pids",
            "cgroup.v1", "cgroup.v2",
        ] + tools.map { "tool." + $0.name }
    }

    /// Tools the course's lessons run, with the Debian package that brings each.
    public static let tools: [(name: String, package: String)] = [
        ("ip", "iproute2"), ("ping", "iputils-ping"), ("unshare", "util-linux"), ("chroot", "coreutils"),
        ("ldd", "libc-bin"), ("lsns", "util-linux"), ("cgcreate", "cgroup-tools"), ("cgset", "cgroup-tools"),
        ("cgclassify", "cgroup-tools"), ("stress-ng", "stress-ng"), ("bash", "bash"), ("ethtool", "ethtool"),
        ("ps", "procps"), ("top", "procps"), ("python3", "python3"),
    ]

    /// `thorough` also tries what only `doctor` needs to know (idmapping each host
    /// directory, which takes a throwaway user namespace): a lab finds out for itself.
    /// With `remembering`, a directory of this user's (the ledgers'), a probe sandbox that
    /// worked is remembered there until something it depends on changes (see
    /// `SandboxProbeMemory`): the spawn was the longest part of the REPL's start after the
    /// lab itself. `doctor` always tries afresh.
    public static func detect(thorough: Bool = false, remembering directory: String? = nil) -> HostSupport {
        var findings: [Finding] = []
        let root = geteuid() == 0
        findings.append(
            Finding(
                capability: "root", available: root,
                detail: root
                    ? "running as root: each lab's root is a block of unprivileged host ids, its mounts locked"
                    : "running as uid \(getuid()): a lab's root is you, its other ids your subordinate ones",
                fix: root ? nil : "labs as root lock their mounts and have cgroup limits: run gantry with sudo"))

        // One sandbox with everything a lab needs (every namespace, an overlay in its user
        // namespace) answers all three on a host that has them; only where it fails are the
        // parts tried one by one, to say which is missing. (Three spawns were ~10% of the
        // REPL's start.)
        let mapping: UserMapping = root ? .identity : .root(uid: getuid(), gid: getgid())
        let overlayStaging: [Mount] = [
            .tmpfs(at: "/tmp"), .directory(at: "/tmp/u"), .directory(at: "/tmp/w"), .directory(at: "/tmp/m"),
            .overlay(lower: ["/usr"], upper: "/tmp/u", work: "/tmp/w", at: "/tmp/m"),
        ]
        let namespacesSpec = SandboxSpec(
            command: ["/bin/true"], namespaces: .all, userMapping: mapping, mounts: [.proc(at: "/proc")], loopbackUp: true)
        var everything = namespacesSpec
        everything.stagingMounts = overlayStaging
        let memory = directory.flatMap { thorough ? nil : SandboxProbeMemory(directory: $0) }
        let allWork = memory?.remembersSuccess == true || trySpawn(everything) == nil
        if allWork { memory?.rememberSuccess() }

        let userns = allWork ? nil : trySpawn(SandboxSpec(command: ["/bin/true"], namespaces: [.user], userMapping: mapping))
        findings.append(
            Finding(
                capability: "userns", available: userns == nil,
                detail: userns.map { "user namespaces refused: \($0)" } ?? "user namespaces work",
                fix: "sysctl -w kernel.unprivileged_userns_clone=1 (Debian) or user.max_user_namespaces=15000"))

        let all = allWork ? nil : trySpawn(namespacesSpec)
        findings.append(
            Finding(
                capability: "namespaces", available: all == nil,
                detail: all.map { "all seven namespaces: \($0)" } ?? "mount, pid, uts, ipc, net and cgroup namespaces work",
                fix: "a kernel built with CONFIG_NAMESPACES and its parts"))
        findings.append(Finding(capability: "netns", available: all == nil, detail: all == nil ? "network namespaces work" : "no network namespaces", fix: nil))

        var overlaySpec = SandboxSpec(command: ["/bin/true"], namespaces: [.user, .mount], userMapping: mapping)
        overlaySpec.stagingMounts = overlayStaging
        let overlay = allWork ? nil : trySpawn(overlaySpec)
        findings.append(
            Finding(
                capability: "overlay", available: overlay == nil,
                detail: overlay.map { "overlayfs in a user namespace refused (\($0)); labs fall back to read-only binds" }
                    ?? "overlayfs works in a user namespace: labs are writable everywhere",
                fix: "Linux 5.11 or later (modprobe overlay)"))

        if root && thorough { findings.append(idmapFinding()) }

        do {
            let manager = try CgroupManager.host()
            // Without root, only a subtree systemd delegated to the user (cgroup v2) is ours.
            let delegated = root ? nil : try? manager.delegatedSubtree()
            let usable = root || delegated != nil
            findings.append(
                Finding(
                    capability: "cgroup", available: usable,
                    detail: manager.layout.description
                        + (root
                            ? ""
                            : delegated.map { "; delegated to you: \($0)" }
                                ?? "; none delegated to you: labs run without limits"),
                    fix: usable ? nil : "run as root, or in a systemd user session on cgroup v2 (Delegate=yes)"))
            let offered = delegated.flatMap { try? manager.driver.fileSystem.read((manager.layout.unifiedPath ?? "") + "/" + $0 + "/cgroup.controllers") }
                .map { Set($0.split(whereSeparator: \.isWhitespace).map(String.init)) }
            for controller in ["cpu", "memory", "pids"] {
                let version = manager.layout.version(of: controller)
                let available = version != nil && (root || offered?.contains(controller) == true)
                findings.append(
                    Finding(
                        capability: "cgroup.\(controller)", available: available,
                        detail: version.map { "\(controller) controller on cgroup v\($0)" + (available ? "" : ", not yours to use") }
                            ?? "no \(controller) controller",
                        fix: version == nil
                            ? "enable the \(controller) controller (cgroup_enable=\(controller) on the kernel command line)"
                            : "cgroup limits need root or a delegated subtree with \(controller)"))
            }
            // Which commands a cgroup lesson shows: the v2 files, or the v1 ones (cgcreate…).
            let version = manager.layout.mode == .unified ? "cgroup.v2" : "cgroup.v1"
            findings.append(
                Finding(
                    capability: version, available: true,
                    detail: "lessons show the \(version == "cgroup.v2" ? "cgroup v2" : "cgroup v1") form of cgroup commands", fix: nil))
        } catch {
            findings.append(Finding(capability: "cgroup", available: false, detail: "\(error)", fix: "mount cgroup2 at /sys/fs/cgroup"))
        }

        for tool in tools {
            let path = which(tool.name)
            findings.append(
                Finding(
                    capability: "tool.\(tool.name)", available: path != nil,
                    detail: path.map { "\(tool.name) at \($0)" } ?? "\(tool.name) not found",
                    fix: "apt-get install \(tool.package)"))
        }
        return HostSupport(findings: findings)
    }

    /// Whether the host's directories can be idmapped, as each lab's lower layers are: where
    /// not, the lab sees their files owned by nobody and cannot change them.
    static func idmapFinding() -> Finding {
        let name = "idmap"
        do {
            // A user namespace to map through: a sleeping child's.
            let holder = try Sandbox.spawn(
                SandboxSpec(
                    command: ["/bin/sleep", "10"], namespaces: [.user],
                    userMapping: UserMapping(
                        uids: [IDRange(inside: 0, outside: 0x7000_0000, count: 1)],
                        gids: [IDRange(inside: 0, outside: 0x7000_0000, count: 1)])),
                io: .descriptors(input: nil, output: nil, error: nil))
            defer { try? holder.signal(SIGKILL); _ = try? holder.wait() }
            var refused: [String] = []
            for directory in Lab.hostRootEntries().compactMap({ entry -> String? in
                if case .directory(let name, _, _, _) = entry, !LabFilesystem.freshOrder.contains(name) { return "/" + name }
                return nil
            }) {
                do { close(try MountTree.readOnly(directory, idmappedThrough: "/proc/\(holder.pid)/ns/user")) } catch {
                    if error.stage == .idmap { refused.append(directory) }
                }
            }
            return Finding(
                capability: name, available: refused.isEmpty,
                detail: refused.isEmpty
                    ? "the host's directories can be idmapped: the lab's root owns, inside, what root owns"
                    : "cannot be idmapped (a lab sees their files owned by nobody and cannot change them): " + refused.joined(separator: " "),
                fix: "keep these directories on a filesystem that supports idmapped mounts (ext4, xfs, btrfs, tmpfs; Linux 5.12+)")
        } catch {
            return Finding(capability: name, available: false, detail: "could not try: \(error)", fix: "Linux 5.12 or later")
        }
    }

    /// Spawns and waits; nil when it ran and exited 0, else why not.
    static func trySpawn(_ spec: SandboxSpec) -> String? {
        do {
            let process = try Sandbox.spawn(spec, io: .descriptors(input: nil, output: nil, error: nil))
            let status = try process.wait()
            return status == .exited(0) ? nil : "\(status)"
        } catch {
            return "\(error)"
        }
    }

    static func which(_ name: String) -> String? {
        let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/sbin:/usr/bin:/sbin:/bin"
        for directory in (path + ":/usr/sbin:/sbin").split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }
}

/// That the probe sandbox (every namespace, an overlay in its user namespace) worked, kept
/// in a file with what the answer depends on: the boot, the user, the binary, the sysctls
/// that allow or limit namespaces, the overlay module. Any of them different, and the probe
/// runs again. Only success is kept: a host where it failed is tried, part by part, each
/// time, so that the learner hears what is missing now.
struct SandboxProbeMemory {
    let file: String
    let key: String

    init?(directory: String) {
        var parts = ["gantry sandbox probe 1", "uid \(getuid()) euid \(geteuid()) gid \(getgid())"]
        guard let boot = POSIX.readFile("/proc/sys/kernel/random/boot_id") else { return nil }
        parts.append("boot " + boot.trimmed)
        var binary = stat()
        guard stat("/proc/self/exe", &binary) == 0 else { return nil }
        parts.append("binary \(binary.st_dev) \(binary.st_ino) \(binary.st_size) \(binary.st_mtim.tv_sec).\(binary.st_mtim.tv_nsec)")
        for knob in Self.knobs { parts.append(knob + " " + (POSIX.readFile(knob)?.trimmed ?? "-")) }
        parts.append("overlay module " + (access("/sys/module/overlay", F_OK) == 0 ? "loaded" : "absent"))
        file = directory + "/sandbox-probe-\(getuid())"
        key = parts.joined(separator: "\n") + "\n"
    }

    static let knobs = [
        "/proc/sys/user/max_user_namespaces", "/proc/sys/user/max_mnt_namespaces", "/proc/sys/user/max_pid_namespaces",
        "/proc/sys/user/max_net_namespaces", "/proc/sys/user/max_uts_namespaces", "/proc/sys/user/max_ipc_namespaces",
        "/proc/sys/user/max_cgroup_namespaces", "/proc/sys/kernel/unprivileged_userns_clone",
        "/proc/sys/kernel/apparmor_restrict_unprivileged_userns",
    ]

    var remembersSuccess: Bool { POSIX.readFile(file) == key }

    /// Best effort: a directory that cannot be written only means the probe runs next time.
    func rememberSuccess() {
        guard !remembersSuccess else { return }
        try? POSIX.makeDirectories(POSIX.parentDirectory(of: file), mode: 0o700)
        try? POSIX.writeAtomically(file, key, mode: 0o600)
    }
}
