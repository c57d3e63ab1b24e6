import ArgumentParser
import Cgroups
internal import Glibc
import Isolation
import Lab
import Netlink
import POSIXSupport
internal import Terminal

/// `gantry exec`: one command in fresh namespaces, the way `unshare` and `bwrap` do it.
struct Exec: ParsableCommand {
    static let configuration = CommandConfiguration(
        // Spelled out: otherwise ArgumentParser derives it from the type's name at run time,
        // which costs more start-up time than the whole sandbox setup (see scripts/bench).
        commandName: "exec",
        abstract: "Run one command in fresh namespaces (like unshare or bwrap).",
        discussion: """
            Examples:
              gantry exec --all -- /bin/sh -c 'echo $$; hostname'
              gantry exec --uts --hostname con01 -- hostname
              gantry exec --user --map-root --mount --root ./newroot --proc --dev -- /bin/bash

            The exit status is the command's (128+N when a signal N ended it); 125 when the \
            sandbox could not be made, 126 when the command is not executable, 127 when it \
            is not found inside the sandbox.
            """
    )

    @Flag(help: "New user namespace (identity map as root; your own ids otherwise).")
    var user = false
    @Flag(help: "New mount namespace; / is made rslave first so nothing propagates out.")
    var mount = false
    @Flag(help: "New pid namespace; a tiny init is pid 1 and reaps (see --no-init).")
    var pid = false
    @Flag(help: "New UTS namespace (hostname).")
    var uts = false
    @Flag(help: "New IPC namespace (System V IPC, POSIX message queues).")
    var ipc = false
    @Flag(help: "New network namespace (only lo, down unless --all).")
    var net = false
    @Flag(name: .customLong("cgroupns"), help: "New cgroup namespace.")
    var cgroupNamespace = false
    @Flag(help: "All seven namespaces, root inside, a fresh /proc and lo up.")
    var all = false

    @Flag(name: .customLong("map-root"), help: "Map your uid and gid to root inside (needs --user).")
    var mapRoot = false
    @Option(help: ArgumentHelp("Hostname inside (needs --uts).", valueName: "name"))
    var hostname: String?
    @Option(help: ArgumentHelp("pivot_root into DIR (needs --mount); the old root is detached.", valueName: "dir"))
    var root: String?
    @Option(help: ArgumentHelp("chroot into DIR, as `chroot newroot` does.", valueName: "dir"))
    var chroot: String?
    @Option(
        name: .customLong("bind"),
        help: ArgumentHelp(
            "Bind-mount SRC at DST (inside the new root); add :ro for read-only.",
            valueName: "src:dst[:ro]"))
    var bindGiven: [String] = []
    /// With the values `main` lifted (`RepeatedOptions`).
    var bind: [String] { RepeatedOptions.lifted["--bind", default: []] + bindGiven }
    @Option(name: .customLong("tmpfs"), help: ArgumentHelp("Mount a fresh tmpfs at DST.", valueName: "dst"))
    var tmpfsGiven: [String] = []
    /// With the values `main` lifted (`RepeatedOptions`).
    var tmpfs: [String] { RepeatedOptions.lifted["--tmpfs", default: []] + tmpfsGiven }
    @Flag(help: "Mount a fresh /proc for the new pid namespace.")
    var proc = false
    @Flag(help: "Mount a minimal /dev (null, zero, full, random, urandom, tty, pts, shm).")
    var dev = false
    @Flag(help: "Give the command a new terminal (inside the sandbox's /dev/pts with --dev).")
    var tty = false
    @Option(name: .customLong("env"), help: ArgumentHelp("Set an environment variable inside (repeatable).", valueName: "key=value"))
    var envGiven: [String] = []
    /// With the values `main` lifted (`RepeatedOptions`).
    var env: [String] { RepeatedOptions.lifted["--env", default: []] + envGiven }
    @Option(help: ArgumentHelp("Working directory inside.", valueName: "dir"))
    var cwd: String?
    @Option(
        name: .customLong("veth"),
        help: ArgumentHelp(
            "A veth pair: HOSTIF on this side (with an address if given), SANDBOXIF inside (needs --net); both up, deleted before gantry exec returns.",
            valueName: "hostif[=addr/prefix]:sandboxif=addr/prefix"))
    var vethGiven: [String] = []
    /// With the values `main` lifted (`RepeatedOptions`).
    var veth: [String] { RepeatedOptions.lifted["--veth", default: []] + vethGiven }
    @Option(help: ArgumentHelp("Limit CPU to this many CPUs' worth of time (0.5 = half of one).", valueName: "n"))
    var cpus: Double?
    @Option(
        name: .customLong("cpu-quota"),
        help: ArgumentHelp(
            "Limit CPU to QUOTA µs every PERIOD µs (default period 100000), as cpu.cfs_quota_us / cpu.max.",
            valueName: "quota[/period]"))
    var cpuQuota: String?
    @Option(name: .customLong("cpu-weight"), help: ArgumentHelp("Relative CPU weight, 1-10000 (default 100; v1 shares = weight×1024/100).", valueName: "n"))
    var cpuWeight: UInt64?
    @Option(help: ArgumentHelp("Limit memory (e.g. 64M, 1G); beyond it the kernel OOM-kills inside.", valueName: "size"))
    var memory: String?
    @Option(help: ArgumentHelp("Limit the number of tasks (processes and threads).", valueName: "n"))
    var pids: Int64?
    @Flag(name: .customLong("no-init"), help: "With --pid, make the command itself pid 1.")
    var noInit = false
    @Flag(name: .customLong("no-new-privs"), help: "Set no_new_privs: setuid binaries gain nothing.")
    var noNewPrivs = false

    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments (after --).")
    var command: [String] = []

    mutating func validate() throws {
        // Passthrough capture takes a leading --help as the command; a person means help.
        if let first = command.first, first == "--help" || first == "-h" {
            throw CleanExit.helpRequest(self)
        }
        if command.first == "--" { command.removeFirst() }
        if root != nil && chroot != nil {
            throw ValidationError("--root and --chroot both change the root; choose one")
        }
        do {
            try makeSpec().validate()
        } catch let error as SpecError {
            throw ValidationError(error.description)
        }
        _ = try resourceLimits()
        let pairs = try vethPairs()
        if !pairs.isEmpty && !(net || all) {
            throw ValidationError("--veth puts one end inside the sandbox's own network namespace: add --net (or --all)")
        }
    }

    func run() throws {
        var spec = try makeSpec()
        let limits = try resourceLimits()
        var resources: ExecGroup?
        let foreground: Foreground
        let process: SandboxProcess
        let pairs = try vethPairs()
        do {
            if !limits.isEmpty {
                resources = try ExecGroup(limits: limits)
                // In its own cgroup namespace the sandbox sees its group as all of /sys/fs/cgroup.
                if spec.namespaces.isSuperset(of: [.cgroup, .mount]) { spec.mounts += resources!.group.viewMounts() }
            }
            foreground = try Foreground()
            let size = TerminalSize.current()
            let cgroupDirectory = resources?.group.directoryDescriptor()
            defer { if let cgroupDirectory { close(cgroupDirectory) } }
            process = try Sandbox.spawn(
                spec, io: tty ? .terminal(rows: size.rows, columns: size.columns) : .inherit, cgroup: cgroupDirectory,
                prepare: { pid in
                    if cgroupDirectory == nil, let resources { try resources.group.add(pid) }
                    if !pairs.isEmpty { try VethPair.connect(pairs, toSandbox: pid) }
                })
        } catch {
            release(resources)
            VethPair.removeHostEnds(pairs)
            printError("gantry exec: " + message(for: error))
            throw ExitCode(exitCode(for: error))
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
            throw ExitCode(status.shellCode)
        } catch let error as IsolationError {
            printError("gantry exec: \(error)")
            throw ExitCode(125)
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
