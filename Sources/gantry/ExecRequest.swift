import ArgumentParser
import Cgroups
internal import Glibc
import Isolation
import Lab
import Netlink
import POSIXSupport
internal import Terminal

/// One `gantry exec`, as its flags ask for it: what both `Exec` (ArgumentParser) and the
/// fast path (`ExecRequest(quickParsing:)`) produce, and what runs it.
struct ExecRequest: Equatable {
    var user = false, mount = false, pid = false, uts = false, ipc = false, net = false, cgroupNamespace = false, all = false
    var mapRoot = false
    var hostname: String?, root: String?, chroot: String?
    var bind: [String] = [], tmpfs: [String] = []
    var proc = false, dev = false, tty = false
    var env: [String] = []
    var cwd: String?
    var veth: [String] = []
    var cpus: Double?, cpuQuota: String?, cpuWeight: UInt64?, memory: String?, pids: Int64?
    var noInit = false, noNewPrivs = false
    var command: [String] = []

    /// What the engine is given: the spec, the limits and the veth pairs the flags make.
    struct Prepared {
        var spec: SandboxSpec
        var limits: ResourceLimits
        var pairs: [VethPair]
    }

    /// The request made ready to run, or the combination that cannot work, in the words a
    /// person is told.
    func prepared() throws -> Prepared {
        if root != nil && chroot != nil {
            throw ValidationError("--root and --chroot both change the root; choose one")
        }
        let spec = try makeSpec()
        do throws(SpecError) {
            try spec.validate()
        } catch {
            throw ValidationError(error.description)
        }
        let limits = try resourceLimits()
        let pairs = try vethPairs()
        if !pairs.isEmpty && !(net || all) {
            throw ValidationError("--veth puts one end inside the sandbox's own network namespace: add --net (or --all)")
        }
        return Prepared(spec: spec, limits: limits, pairs: pairs)
    }

    /// Runs the command in its sandbox and returns the exit status to leave with: the
    /// command's, or 125–127 when it could not be run (said on stderr).
    func run(_ prepared: Prepared) -> Int32 {
        var spec = prepared.spec
        let limits = prepared.limits, pairs = prepared.pairs
        var resources: ExecGroup?
        let foreground: Foreground
        let process: SandboxProcess
        do {
            if !limits.isEmpty {
                resources = try ExecGroup(limits: limits)
                // In its own cgroup namespace the sandbox sees its group as all of /sys/fs/cgroup.
                if spec.namespaces.isSuperset(of: [.cgroup, .mount]) { spec.mounts += resources!.group.viewMounts() }
            }
            foreground = try Foreground()
            let size = TerminalSize.current()
            let entry = try resources?.group.entryFiles()
            process = try withExtendedLifetime(entry) {
                try Sandbox.spawn(
                    spec, io: tty ? .terminal(rows: size.rows, columns: size.columns) : .inherit, cgroup: entry?.placement,
                    prepare: pairs.isEmpty ? nil : { pid in try VethPair.connect(pairs, toSandbox: pid) })
            }
        } catch {
            release(resources)
            VethPair.removeHostEnds(pairs)
            printError("gantry exec: " + message(for: error))
            return exitCode(for: error)
        }
        defer { release(resources) }
        do {
            let status = try foreground.wait(for: process)
            // The kernel frees the sandbox's network namespace, and the host ends with it,
            // a little after the last process: delete them now, so the names are free when
            // this returns (a second run with the same --veth must not find them taken).
            VethPair.removeHostEnds(pairs)
            // (Under its init the command's SIGKILL arrives as status 137.)
            if status.shellCode == 128 + SIGKILL, let memory, let kills = try? resources?.group.stats().oomKills, kills > 0 {
                printError("gantry exec: the kernel's OOM killer ended the command: it needed more memory than --memory \(memory) allows")
            }
            return status.shellCode
        } catch {
            printError("gantry exec: \(error)")
            return 125
        }
    }

    /// The limits the flags ask for; empty when none.
    func resourceLimits() throws -> ResourceLimits {
        var limits = ResourceLimits()
        if cpus != nil && cpuQuota != nil { throw ValidationError("--cpus and --cpu-quota both set the CPU limit; choose one") }
        if let cpus {
            guard cpus > 0, cpus <= 1024 else { throw ValidationError("--cpus \(cpus): give a positive number of CPUs, like 0.5") }
            limits.cpu = .cpus(cpus)
        }
        if let cpuQuota {
            let parts = cpuQuota.split(separator: "/").map { UInt64($0) }
            guard (1...2).contains(parts.count), parts.allSatisfy({ $0 != nil && $0! > 0 }) else {
                throw ValidationError("--cpu-quota '\(cpuQuota)': expected QUOTA or QUOTA/PERIOD in microseconds, like 50000/100000")
            }
            let period = parts.count == 2 ? parts[1]! : 100_000
            guard (1000...1_000_000).contains(period) else {
                throw ValidationError("--cpu-quota '\(cpuQuota)': the period must be 1000 to 1000000 µs")
            }
            limits.cpu = .init(quota: Int64(parts[0]!), period: period)
        }
        if let cpuWeight {
            guard (1...10_000).contains(cpuWeight) else { throw ValidationError("--cpu-weight \(cpuWeight): give 1 to 10000 (100 is the default)") }
            limits.cpuWeight = cpuWeight
        }
        if let memory {
            guard let bytes = ResourceLimits.parseBytes(memory), bytes != 0 else {
                throw ValidationError("--memory '\(memory)': expected a size like 64M, 512k, 1G or max")
            }
            // A number without a unit is bytes; too few for any program to start.
            if bytes > 0 && bytes < 1 << 20 {
                throw ValidationError("--memory '\(memory)' is \(bytes) bytes, too little for any program to start: give at least 1M (a unit: k, M, G)")
            }
            limits.memoryMax = bytes
        }
        if let pids {
            guard pids >= 1 else { throw ValidationError("--pids \(pids): give at least 1 (the command itself is one task)") }
            limits.pidsMax = pids
        }
        return limits
    }

    /// Translates the flags into the engine's spec; the spec's own validation reports the
    /// combinations that cannot work.
    func makeSpec() throws -> SandboxSpec {
        let uid = getuid(), gid = getgid()
        let rootCapable = geteuid() == 0
        var namespaces: Namespaces = []
        if user { namespaces.insert(.user) }
        if mount { namespaces.insert(.mount) }
        if pid { namespaces.insert(.pid) }
        if uts { namespaces.insert(.uts) }
        if ipc { namespaces.insert(.ipc) }
        if net { namespaces.insert(.net) }
        if cgroupNamespace { namespaces.insert(.cgroup) }
        if all { namespaces = .all }

        var mapping: UserMapping?
        if namespaces.contains(.user) {
            if mapRoot || (all && !rootCapable) {
                mapping = .root(uid: uid, gid: gid)
            } else {
                mapping = rootCapable ? .identity : .current(uid: uid, gid: gid)
            }
        } else if mapRoot {
            mapping = .root(uid: uid, gid: gid)  // refused by validation: --map-root needs --user
        }

        var mounts: [Mount] = []
        if proc || all { mounts.append(.proc(at: "/proc")) }
        if dev { mounts.append(.minimalDev(at: "/dev")) }
        for entry in bind { mounts.append(try Self.parseBind(entry)) }
        for target in tmpfs { mounts.append(.tmpfs(at: target)) }
        // Parents before children, so a bind into /dev lands on the new /dev, not under it.
        mounts = mounts.enumerated().sorted { first, second in
            let depth = (Self.depth(first.element.target), Self.depth(second.element.target))
            return depth.0 != depth.1 ? depth.0 < depth.1 : first.offset < second.offset
        }.map(\.element)

        var rootChange: RootChange?
        if let root { rootChange = .pivot(Self.absolute(root)) }
        if let chroot { rootChange = .chroot(Self.absolute(chroot)) }

        return SandboxSpec(
            command: command,
            environment: Self.environment(overriding: env),
            namespaces: namespaces,
            userMapping: mapping,
            hostname: hostname,
            root: rootChange,
            mounts: mounts,
            workingDirectory: cwd,
            noNewPrivileges: noNewPrivs,
            useInit: !noInit,
            loopbackUp: all && namespaces.contains(.net))
    }

    func vethPairs() throws -> [VethPair] {
        try veth.map { entry in
            do { return try VethPair(parsing: entry) } catch {
                throw ValidationError("--veth '\(entry)': \(error)")
            }
        }
    }

    static func parseBind(_ entry: String) throws -> Mount {
        var parts = entry.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        var readOnly = false
        if parts.count == 3, parts[2] == "ro" || parts[2] == "rw" {
            readOnly = parts.removeLast() == "ro"
        }
        guard (1...2).contains(parts.count), !parts[0].isEmpty else {
            throw ValidationError("--bind '\(entry)': expected SRC:DST or SRC:DST:ro")
        }
        let source = absolute(parts[0])
        let target = parts.count == 2 ? parts[1] : source
        guard target.hasPrefix("/") else {
            throw ValidationError("--bind '\(entry)': the destination must be an absolute path inside the sandbox")
        }
        return .bind(source: source, at: target, readOnly: readOnly)
    }

    /// The caller's environment with `overrides` (KEY=VALUE) replacing or adding entries.
    static func environment(overriding overrides: [String]) -> [String] {
        POSIX.environment(POSIX.currentEnvironment(), overriding: overrides)
    }

    static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        guard let directory = POSIX.currentDirectory() else { return path }
        return (directory == "/" ? "" : directory) + "/" + path
    }

    static func depth(_ path: String) -> Int { path.split(separator: "/").count }

    private func message(for error: any Error) -> String {
        guard let error = error as? IsolationError else { return "\(error)" }
        if error.isCommandNotExecutable {
            let name = command.first ?? ""
            return error.cause == .noSuchFile
                ? "\(name): command not found inside the sandbox (PATH=\(makeSpecPath()))"
                : "cannot run \(name): \(error)"
        }
        return "\(error)"
    }

    private func makeSpecPath() -> String {
        (try? makeSpec().searchPath) ?? ""
    }

    /// A group that could not be removed is left for `gantry cleanup`, which is said.
    private func release(_ resources: ExecGroup?) {
        do { try resources?.release() } catch { printError("gantry exec: \(error)") }
    }

    private func exitCode(for error: any Error) -> Int32 {
        guard let error = error as? IsolationError, error.isCommandNotExecutable else { return 125 }
        return error.cause == .noSuchFile ? 127 : 126
    }
}
