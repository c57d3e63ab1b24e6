internal import CGantry
internal import Cgroups
internal import Glibc
public import Isolation
public import Netlink
internal import POSIXSupport

/// What a probe saw, and a sentence saying so (the check's pass/fail text builds on it).
public struct Observation<Value: Sendable>: Sendable {
    public var value: Value
    public var description: String
}

/// A process of the lab, as the host and the lab see it.
public struct LabProcess: Sendable, Hashable {
    public var hostPid: Int32
    /// Its pid in each pid namespace from the lab's down (the first is the lab's own).
    public var labPids: [Int32]
    public var command: String
}

extension LabProcess {
    /// Its pid as the lab sees it, and its command: "pid 42 (sleep 300)".
    public var shown: String {
        "pid \(labPids.first.map(String.init) ?? "?") (\(command.isEmpty ? "?" : command))"
    }

    /// Whether its command line starts with `text`, the program taken by its base name:
    /// `bash` finds `/bin/bash --norc`, `sleep 300` finds `sleep 300` but not
    /// `unshare --fork sleep 300` (its launcher).
    public func matches(_ text: String) -> Bool {
        var words = command.split(separator: " ").map(String.init)
        guard let first = words.first else { return false }
        words[0] = String(first.split(separator: "/").last ?? Substring(first))
        return words.joined(separator: " ").hasPrefix(text) || command.hasPrefix(text)
    }
}

/// Probes read the lab from outside, through the kernel (setns, /proc/PID/ns, netlink,
/// cgroup files), never by trusting what the learner's shell printed.
extension Lab {
    // MARK: Processes and namespaces

    /// Every process in the lab (its cgroup subtree, or without a cgroup its pid namespace
    /// and those below it), oldest first. With a cgroup, its members are read from its
    /// `cgroup.procs` files (the host's whole /proc was a step's baseline's largest cost).
    public func processes() -> [LabProcess] {
        var result: [LabProcess] = []
        let pids: [Int32]
        if let cgroup {
            pids = cgroup.processesInSubtree()
        } else {
            let namespace = PidNamespaceTree(of: initProcess.pid)
            pids = Self.list("/proc").compactMap { Int32($0) }.filter { namespace.contains($0) }
        }
        for pid in Set(pids) {
            let name = String(pid)
            // A process that ended since the group was read is no longer in the lab.
            guard let status = Self.readText("/proc/\(name)/status") else { continue }
            let nspids =
                status.split(separator: "\n").first { $0.hasPrefix("NSpid:") }?
                .split(whereSeparator: \.isWhitespace).dropFirst().compactMap { Int32($0) } ?? []
            let command = (Self.readText("/proc/\(name)/cmdline") ?? "").split(separator: "\0").joined(separator: " ")
            result.append(LabProcess(hostPid: pid, labPids: Array(nspids.dropFirst()), command: command))
        }
        return result.sorted { $0.hostPid < $1.hostPid }
    }

    /// Processes whose command starts with `text` (`LabProcess.matches`), the keeper left out.
    public func processes(matching text: String) -> [LabProcess] {
        processes().filter { $0.hostPid != initProcess.pid && $0.matches(text) }
    }

    /// The namespace a process is in, as the kernel names it (`uts:[4026532270]`).
    public func namespace(_ kind: Namespaces, of hostPid: Int32) -> Observation<String?> {
        let name = kind.procName ?? "?"
        let value = POSIX.readLink("/proc/\(hostPid)/ns/\(name)")
        return Observation(value: value, description: "process \(hostPid) is in \(value ?? "no readable \(name) namespace")")
    }

    /// Whether a process has a namespace of its own, apart from the lab's.
    public func hasOwnNamespace(_ kind: Namespaces, _ hostPid: Int32) -> Observation<Bool> {
        let own = namespace(kind, of: hostPid).value, lab = namespace(kind, of: initProcess.pid).value
        let different = own != nil && own != lab
        let name = kind.procName ?? "?"
        return Observation(
            value: different,
            description: different
                ? "process \(hostPid) has its own \(name) namespace (\(own!)), not the lab's (\(lab ?? "?"))"
                : "process \(hostPid) is still in the lab's \(name) namespace")
    }

    // MARK: Hostnames

    /// The hostname in the UTS namespace of `hostPid` (the lab's by default): as root, read
    /// by a thread that joins only that namespace; without root (the namespace belongs to a
    /// user namespace this process has no privilege in) by a command that joins both.
    public func hostname(of hostPid: Int32? = nil) throws(LabError) -> Observation<String> {
        let pid = hostPid ?? initProcess.pid
        let name: String
        if geteuid() == 0, let read = Self.hostnameByThread(of: pid) {
            name = read
        } else {
            name = try collect { io throws(IsolationError) in
                try Sandbox.enter(.process(pid, geteuid() == 0 ? [.uts] : [.user, .uts]), command: ["/bin/hostname"], environment: [], io: io)
            }.trimmed
        }
        return Observation(value: name, description: "the hostname \(hostPid == nil ? "of the lab" : "seen by process \(pid)") is '\(name)'")
    }

    static func hostnameByThread(of pid: Int32) -> String? {
        let fd = open("/proc/\(pid)/ns/uts", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [CChar](repeating: 0, count: 256)
        guard gantry_hostname_in(fd, &buffer, buffer.count) == 0 else { return nil }
        return POSIX.string(buffer)
    }

    // MARK: Files and mounts

    /// Files are looked up as the lab resolves them (`ProcessRoot.open`): a symlink the
    /// learner made to a host path finds what the lab has there, or nothing.
    public func fileExists(_ path: String, inMountNamespaceOf hostPid: Int32? = nil) -> Observation<Bool> {
        let fd = ProcessRoot.open(path, of: hostPid ?? initProcess.pid, only: .locating)
        if fd >= 0 { close(fd) }
        let exists = fd >= 0
        return Observation(
            value: exists,
            description: "\(path) \(exists ? "exists" : "does not exist")"
                + (hostPid.map { " for process \($0)" } ?? " in the lab"))
    }

    public func fileContents(_ path: String, inMountNamespaceOf hostPid: Int32? = nil) -> Observation<String?> {
        let fd = ProcessRoot.open(path, of: hostPid ?? initProcess.pid)
        var text: String?
        if fd >= 0 {
            text = String(decoding: POSIX.readToEnd(fd), as: UTF8.self)
            close(fd)
        }
        return Observation(value: text, description: text == nil ? "\(path) cannot be read" : "\(path) holds \(text!.count) bytes")
    }

    // MARK: Network

    /// Named network namespaces in the lab (`ip netns list`).
    public func networkNamespaces() -> Observation<[String]> {
        let names = NetworkNamespace.names(in: hostPath("/run/netns"))
        return Observation(
            value: names,
            description: names.isEmpty
                ? "the lab has no named network namespaces"
                : "the lab's named network namespaces: \(names.joined(separator: ", "))")
    }

    /// The lab's user namespace, for probes that must join it first: an unprivileged Gantry
    /// has rights over the lab's namespaces only from inside it. Nil as root.
    var probeUserNamespace: String? { geteuid() == 0 ? nil : "/proc/\(initProcess.pid)/ns/user" }

    /// Where a network namespace of the lab is, from the host: nil is the lab's own.
    func networkNamespacePath(_ name: String?) -> String {
        name.map { hostPath("/run/netns/\($0)") } ?? "/proc/\(initProcess.pid)/ns/net"
    }

    public func links(inNetworkNamespace name: String? = nil) throws(LabError) -> Observation<[Link]> {
        do {
            let links = try RouteSocket(namespaceAt: networkNamespacePath(name), userNamespace: probeUserNamespace).links()
            return Observation(
                value: links,
                description: "links in \(name ?? "the lab"): "
                    + links.map { "\($0.name)\($0.isUp ? " UP" : " DOWN")" }.joined(separator: ", "))
        } catch {
            throw .probe("cannot read the links of \(name.map { "network namespace \($0)" } ?? "the lab"): \(error)")
        }
    }

    public func addresses(inNetworkNamespace name: String? = nil, link: String) throws(LabError) -> Observation<[InterfaceAddress]> {
        do {
            let addresses = try RouteSocket(namespaceAt: networkNamespacePath(name), userNamespace: probeUserNamespace).addresses(on: link).map(\.address)
            return Observation(
                value: addresses,
                description: "\(link) in \(name ?? "the lab") has "
                    + (addresses.isEmpty ? "no addresses" : addresses.map(\.description).joined(separator: ", ")))
        } catch {
            throw .probe("cannot read the addresses of \(link) in \(name ?? "the lab"): \(error)")
        }
    }

    /// ICMP echo from inside a network namespace of the lab.
    public func ping(
        _ address: IPAddress, fromNetworkNamespace name: String? = nil, count: Int = 1,
        timeoutMilliseconds: Int = 1000
    ) throws(LabError) -> Observation<Ping.Result> {
        do {
            let result = try Ping.echo(
                address, count: count, timeoutMilliseconds: timeoutMilliseconds,
                inNamespaceAt: networkNamespacePath(name), userNamespace: probeUserNamespace)
            return Observation(value: result, description: "from \(name ?? "the lab"): \(result)")
        } catch {
            throw .probe("cannot ping \(address) from \(name ?? "the lab"): \(error)")
        }
    }

    // MARK: Cgroups

    /// A group the learner made in the lab (`cgcreate -g cpu:limit_cpu_50`), by its name as
    /// the lab sees it.
    /// Nil for a lab without a cgroup of its own.
    public func labCgroup(_ name: String) -> LabCgroup? {
        guard let cgroup else { return nil }
        let trimmed = name.split(separator: "/").joined(separator: "/")
        return LabCgroup(name: trimmed, group: Cgroup(path: cgroup.path + "/" + trimmed, driver: cgroup.driver))
    }

    // MARK: Commands

    /// Whether the lab's processes fill its task limit (to within 1/32 of it): forks in it
    /// are being refused, whether or not one more gets through. One read of pids.current.
    public var isAtTaskLimit: Bool {
        guard let limit = configuration.limits.pidsMax, limit > 0, let cgroup,
            let current = cgroup.driver.pidsCurrent(of: cgroup.path)
        else { return false }
        return Int64(current) + Swift.max(2, limit / 32) >= limit
    }

    /// Runs a probe command in the lab (not in the learner's shell) and reports what it printed.
    /// A lab kept at its task limit (a fork bomb outside its group) refuses forks, yet one
    /// clone may slip in between two refused ones, more often on a loaded machine: such a
    /// lab fails the command as a refused clone does (EAGAIN), whether or not it would have
    /// run, so a session and its replay get the same answer.
    public func probeCommand(_ script: String, timeoutMilliseconds: Int = 30_000) throws(LabError) -> Observation<LabCommandResult> {
        if isAtTaskLimit {
            throw .sandbox(IsolationError(stage: .clone, cause: .tryAgain, subject: "`\(script)` in a lab at its task limit"))
        }
        let result = try run(script, timeoutMilliseconds: timeoutMilliseconds)
        return Observation(value: result, description: "`\(script)` \(result.status) and printed \(result.output.utf8.count) bytes")
    }

    // MARK: Helpers

    /// Starts a process with its output on a pipe and returns all it printed.
    private func collect(_ capture: (StandardIO) throws(IsolationError) -> SandboxProcess) throws(LabError) -> String {
        let (readEnd, writeEnd) = try LabError.call("pipe2") { () throws(Errno) in try POSIX.makePipe() }
        let process: SandboxProcess
        do { process = try capture(.descriptors(input: nil, output: writeEnd, error: writeEnd)) } catch {
            close(readEnd); close(writeEnd)
            throw .sandbox(error)
        }
        close(writeEnd)
        let data = POSIX.readToEnd(readEnd)
        close(readEnd)
        _ = try? process.wait()
        return String(decoding: data, as: UTF8.self)
    }

    static func readText(_ path: String) -> String? { POSIX.readFile(path) }

    static func list(_ directory: String) -> [String] { POSIX.list(directory) }
}

/// A cgroup inside a lab, read from the host's side of its directories.
public struct LabCgroup: Sendable {
    public let name: String
    let group: Cgroup

    public var exists: Observation<Bool> {
        let exists = group.directories.contains { access($0, F_OK) == 0 }
        return Observation(value: exists, description: "cgroup \(name) \(exists ? "exists" : "does not exist")")
    }

    /// The CPU limit as a fraction of one CPU (nil: no limit), from cpu.max or the cfs files.
    public var cpuLimit: Observation<Double?> {
        let limits = group.appliedLimits()
        return Observation(
            value: limits.cpu,
            description: "cgroup \(name) allows "
                + (limits.cpu.map { "\(Int(($0 * 100).rounded()))% of a CPU" } ?? "unlimited CPU") + " (\(limits.cpuRaw ?? "?"))")
    }

    /// The memory limit in bytes (nil: none), from memory.max or memory.limit_in_bytes.
    public var memoryLimit: Observation<Int64?> {
        let limits = group.appliedLimits()
        return Observation(
            value: limits.memoryMax,
            description: "cgroup \(name) memory limit: "
                + (limits.memoryMax.map { "\($0) bytes" } ?? "none") + " (\(limits.memoryRaw ?? Self.missing("memory")))")
    }

    /// The task limit (nil: none), from pids.max.
    public var pidsLimit: Observation<Int64?> {
        let limits = group.appliedLimits()
        return Observation(
            value: limits.pidsMax,
            description: "cgroup \(name) pids limit: "
                + (limits.pidsMax.map(String.init) ?? "none") + " (\(limits.pidsRaw ?? Self.missing("pids")))")
    }

    private static func missing(_ controller: String) -> String { "no such file: is the \(controller) controller on for this group?" }

    /// Host pids of the processes in the group, in any of its hierarchies (on v1,
    /// `cgclassify -g pids:G` puts a process in the pids one only).
    public var memberPids: Set<Int32> {
        var pids: Set<Int32> = []
        for directory in group.directories {
            let text = POSIX.readFile(directory + "/cgroup.procs") ?? ""
            for pid in text.split(whereSeparator: \.isWhitespace).compactMap({ Int32($0) }) { pids.insert(pid) }
        }
        return pids
    }

    /// Host pids of the processes in the group itself.
    public var members: Observation<[Int32]> {
        let pids = (try? group.processes()) ?? []
        return Observation(value: pids, description: "cgroup \(name) has \(pids.count) process(es)")
    }

    /// CPU the group used over `milliseconds`, as a fraction of one CPU. A ratio over a
    /// window, so the check holds on a busy machine too.
    public func measuredCPU(overMilliseconds milliseconds: Int = 1500) -> Observation<Double?> {
        guard let before = usageMicroseconds() else {
            return Observation(value: nil, description: "cgroup \(name) reports no CPU usage")
        }
        let clock = ContinuousClock()
        let start = clock.now
        usleep(useconds_t(milliseconds * 1000))
        let wall = Double(start.duration(to: clock.now).microseconds)
        guard let after = usageMicroseconds() else {
            return Observation(value: nil, description: "cgroup \(name) disappeared while measuring")
        }
        let share = Double(after - before) / wall
        return Observation(value: share, description: "cgroup \(name) used \(Int((share * 100).rounded()))% of a CPU over \(milliseconds) ms")
    }

    /// CPU used by the group: its own accounting where it has one; a v1 group made only in
    /// the cpu hierarchy (`cgcreate -g cpu:…` where cpuacct is mounted apart) has none, so
    /// then the CPU time of its member tasks (/proc/PID/stat utime + stime) is summed.
    func usageMicroseconds() -> UInt64? {
        if let usage = try? group.stats().cpuUsageMicroseconds { return usage }
        guard group.directories.contains(where: { access($0, F_OK) == 0 }) else { return nil }
        let ticks = sysconf(Int32(_SC_CLK_TCK))
        var total: UInt64 = 0
        for pid in (try? group.processes()) ?? [] {
            for task in Lab.list("/proc/\(pid)/task") where task.allSatisfy(\.isNumber) {
                guard let stat = ProcFS.stat("\(pid)/task/\(task)") else { continue }
                total += (stat.userTicks + stat.systemTicks) * 1_000_000 / UInt64(max(ticks, 1))
            }
        }
        return total
    }

    public var oomKills: Observation<UInt64?> {
        let kills = try? group.stats().oomKills
        return Observation(value: kills ?? nil, description: "cgroup \(name): \(kills.flatMap { $0 }.map(String.init) ?? "no") OOM kills")
    }

    public var pidsCurrent: Observation<UInt64?> {
        let current = try? group.stats().pidsCurrent
        return Observation(value: current ?? nil, description: "cgroup \(name) holds \(current.flatMap { $0 }.map(String.init) ?? "?") tasks")
    }
}
