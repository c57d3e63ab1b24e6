import ArgumentParser
internal import Glibc

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

    /// What the flags ask for, as the plain value the fast path parses too.
    var request: ExecRequest {
        ExecRequest(
            user: user, mount: mount, pid: pid, uts: uts, ipc: ipc, net: net, cgroupNamespace: cgroupNamespace, all: all,
            mapRoot: mapRoot, hostname: hostname, root: root, chroot: chroot, bind: bind, tmpfs: tmpfs, proc: proc, dev: dev,
            tty: tty, env: env, cwd: cwd, veth: veth, cpus: cpus, cpuQuota: cpuQuota, cpuWeight: cpuWeight, memory: memory,
            pids: pids, noInit: noInit, noNewPrivs: noNewPrivs, command: command)
    }

    mutating func validate() throws {
        // Passthrough capture takes a leading --help as the command; a person means help.
        if let first = command.first, first == "--help" || first == "-h" {
            throw CleanExit.helpRequest(self)
        }
        if command.first == "--" { command.removeFirst() }
        _ = try request.prepared()
    }

    func run() throws {
        // Straight out with the command's status: throwing ExitCode through ArgumentParser
        // builds its error message machinery (reflection) on the way out.
        Glibc.exit(request.run(try request.prepared()))
    }
}
