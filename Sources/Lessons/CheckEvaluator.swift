public import Lab
internal import Cgroups
internal import Isolation
internal import Netlink
internal import Glibc

/// Evaluates checks against a lab, from outside, and says in a sentence what was seen.
public struct CheckEvaluator {
    public struct Outcome: Sendable, Equatable {
        public var passed: Bool
        public var message: String
    }

    let lab: Lab

    public init(lab: Lab) { self.lab = lab }

    public func evaluate(_ check: Check) -> Outcome {
        do {
            switch check.probe {
            case "hostname": return try hostname(check)
            case "namespace": return namespace(check)
            case "process": return process(check)
            case "file": return file(check)
            case "mount": return mount(check)
            case "netns": return netns(check)
            case "link": return try link(check)
            case "ping": return try ping(check)
            case "cgroup": return cgroup(check)
            case "command": return try command(check)
            default: return Outcome(passed: false, message: "unknown probe \(check.probe)")
            }
        } catch {
            return Outcome(passed: false, message: "\(check.text): \(error)")
        }
    }

    // MARK: Probes

    /// Lab processes whose command line contains `text`, optionally only those with a
    /// namespace of their own of `kind` (`namespace=own`).
    func processes(_ text: String, ownNamespace kind: Namespaces? = nil) -> [LabProcess] {
        lab.processes(matching: text).filter { process in
            kind.map { lab.hasOwnNamespace($0, process.hostPid).value } ?? true
        }
    }

    func hostname(_ check: Check) throws -> Outcome {
        let expected = check.value("is") ?? ""
        guard let command = check.value("process") else {
            let seen = try lab.hostname().value
            return Outcome(passed: seen == expected, message: "the lab's hostname is '\(seen)'" + (seen == expected ? "" : ", expected '\(expected)'"))
        }
        let own = check.value("namespace") == "own"
        let candidates = processes(command, ownNamespace: own ? .uts : nil)
        if candidates.isEmpty {
            return Outcome(passed: false, message: own
                ? "no '\(command)' process has a UTS namespace of its own (was it started with unshare -u?)"
                : "no '\(command)' process is running in the lab")
        }
        var seen: [String] = []
        for candidate in candidates {
            let name = try lab.hostname(of: candidate.hostPid).value
            if name == expected { return Outcome(passed: true, message: "'\(command)' (pid \(candidate.labPids.first ?? candidate.hostPid)) sees hostname '\(name)'") }
            seen.append(name)
        }
        return Outcome(passed: false, message: "'\(command)' sees hostname \(seen.map { "'\($0)'" }.joined(separator: ", ")), expected '\(expected)'")
    }

    func namespace(_ check: Check) -> Outcome {
        let command = check.value("process") ?? ""
        guard let kind = Self.namespaceKinds[check.value("kind") ?? ""] else {
            return Outcome(passed: false, message: "kind must be one of \(Self.namespaceKinds.keys.sorted().joined(separator: ", "))")
        }
        guard let process = processes(command).last else {
            return Outcome(passed: false, message: "no '\(command)' process is running in the lab")
        }
        if let other = check.value("same-as") {
            guard let second = processes(other).last else { return Outcome(passed: false, message: "no '\(other)' process is running in the lab") }
            let a = lab.namespace(kind, of: process.hostPid).value, b = lab.namespace(kind, of: second.hostPid).value
            let same = a != nil && a == b
            return Outcome(passed: same, message: "'\(command)' and '\(other)' are in \(same ? "the same" : "different") \(check.value("kind")!) namespaces")
        }
        let wantOwn = check.value("own") != "no"
        let observation = lab.hasOwnNamespace(kind, process.hostPid)
        return Outcome(passed: observation.value == wantOwn, message: observation.description)
    }

    static let namespaceKinds: [String: Namespaces] = [
        "user": .user, "mnt": .mount, "mount": .mount, "pid": .pid, "uts": .uts, "ipc": .ipc, "net": .net, "cgroup": .cgroup,
    ]

    func process(_ check: Check) -> Outcome {
        let command = check.value("command") ?? ""
        let found = processes(command)
        if check.value("exists") == "no" {
            return Outcome(passed: found.isEmpty, message: found.isEmpty ? "no '\(command)' process runs" : "'\(command)' is still running")
        }
        guard let process = found.last else { return Outcome(passed: false, message: "no '\(command)' process is running in the lab") }
        if let pid1 = check.value("pid1") {
            let isOne = process.labPids.last == 1
            return Outcome(passed: isOne == (pid1 == "yes"),
                           message: "'\(command)' is pid \(process.labPids.last ?? 0) in its own pid namespace")
        }
        return Outcome(passed: true, message: "'\(command)' runs (pid \(process.labPids.first ?? process.hostPid) in the lab)")
    }

    func mountNamespaceProcess(_ check: Check) -> (Int32?, Outcome?) {
        guard let command = check.value("process") else { return (nil, nil) }
        guard let process = processes(command).last else {
            return (nil, Outcome(passed: false, message: "no '\(command)' process is running in the lab"))
        }
        return (process.hostPid, nil)
    }

    func file(_ check: Check) -> Outcome {
        let path = check.value("path") ?? ""
        let (pid, failure) = mountNamespaceProcess(check)
        if let failure { return failure }
        let exists = lab.fileExists(path, inMountNamespaceOf: pid)
        if let want = check.value("exists") {
            return Outcome(passed: exists.value == (want == "yes"), message: exists.description)
        }
        if let needle = check.value("contains") {
            let text = lab.fileContents(path, inMountNamespaceOf: pid).value ?? ""
            let found = text.contains(needle)
            return Outcome(passed: found, message: "\(path) \(found ? "contains" : "does not contain") '\(needle)'")
        }
        return Outcome(passed: exists.value, message: exists.description)
    }

    func mount(_ check: Check) -> Outcome {
        let path = check.value("path") ?? ""
        let (pid, failure) = mountNamespaceProcess(check)
        if let failure { return failure }
        let mounts = lab.mounts(of: pid).value.filter { $0.path == path }
        let type = check.value("type")
        let matching = mounts.filter { type == nil || $0.type == type }
        let want = check.value("exists") != "no"
        let seen = mounts.map(\.type).joined(separator: ", ")
        return Outcome(passed: matching.isEmpty != want,
                       message: mounts.isEmpty ? "nothing is mounted at \(path)" : "\(path) has \(seen) mounted")
    }

    func netns(_ check: Check) -> Outcome {
        let name = check.value("name") ?? ""
        let names = lab.networkNamespaces().value
        let want = check.value("exists") != "no"
        return Outcome(passed: names.contains(name) == want,
                       message: names.isEmpty ? "the lab has no named network namespaces" : "the lab's network namespaces: \(names.joined(separator: ", "))")
    }

    func link(_ check: Check) throws -> Outcome {
        let name = check.value("name") ?? ""
        let netns = check.value("netns")
        if let netns, !lab.networkNamespaces().value.contains(netns) {
            return Outcome(passed: false, message: "there is no network namespace '\(netns)' (ip netns add \(netns))")
        }
        let links = try lab.links(inNetworkNamespace: netns).value
        let place = netns.map { "network namespace \($0)" } ?? "the lab"
        guard let link = links.first(where: { $0.name == name }) else {
            let want = check.value("exists") == "no"
            return Outcome(passed: want, message: "\(place) has no link \(name) (it has \(links.map(\.name).joined(separator: ", ")))")
        }
        if check.value("exists") == "no" { return Outcome(passed: false, message: "\(name) still exists in \(place)") }
        var problems: [String] = []
        var seen = ["\(name) in \(place): \(link.isUp ? "UP" : "DOWN")"]
        if let state = check.value("state"), (state == "up") != link.isUp { problems.append("expected it \(state)") }
        if let kind = check.value("kind") {
            seen.append("kind \(link.kind ?? "none")")
            if link.kind != kind { problems.append("expected kind \(kind)") }
        }
        if let wanted = check.value("address") {
            let addresses = try lab.addresses(inNetworkNamespace: netns, link: name).value.map(\.description)
            seen.append(addresses.isEmpty ? "no address" : "addresses \(addresses.joined(separator: ", "))")
            if !addresses.contains(wanted) { problems.append("expected address \(wanted)") }
        }
        if let master = check.value("master") {
            let masterName = links.first { $0.index == link.master }?.name
            seen.append("master \(masterName ?? "none")")
            if masterName != master { problems.append("expected master \(master)") }
        }
        if let peer = check.value("peer-netns") {
            let elsewhere = link.peerNamespaceID != nil
            seen.append("peer \(elsewhere ? "in another namespace" : "in the same namespace")")
            if elsewhere != (peer == "other") { problems.append("expected the peer in \(peer == "other" ? "another" : "the same") namespace") }
        }
        let text = seen.joined(separator: ", ")
        return Outcome(passed: problems.isEmpty, message: problems.isEmpty ? text : text + " — " + problems.joined(separator: "; "))
    }

    func ping(_ check: Check) throws -> Outcome {
        guard let target = check.value("to"), let address = IPAddress(target) else {
            return Outcome(passed: false, message: "'\(check.value("to") ?? "")' is not an IP address")
        }
        let from = check.value("from").flatMap { $0 == "lab" ? nil : $0 }
        if let from, !lab.networkNamespaces().value.contains(from) {
            return Outcome(passed: false, message: "there is no network namespace '\(from)' to ping from")
        }
        let count = check.value("count").flatMap { Int($0) } ?? 1
        let result = try lab.ping(address, fromNetworkNamespace: from, count: count).value
        let want = check.value("reachable") != "no"
        return Outcome(passed: result.reachable == want, message: "from \(from ?? "the lab"): \(result)")
    }

    func cgroup(_ check: Check) -> Outcome {
        let name = check.value("name") ?? ""
        guard let group = lab.labCgroup(name) else {
            return Outcome(passed: false, message: "this lab has no cgroup of its own (no cgroup subtree is delegated to your user; run as root, or in a systemd user session on cgroup v2)")
        }
        let exists = group.exists
        if check.value("exists") == "no" { return Outcome(passed: !exists.value, message: exists.description) }
        guard exists.value else { return Outcome(passed: false, message: exists.description + " (cgcreate, or mkdir under /sys/fs/cgroup)") }
        var problems: [String] = []
        var seen: [String] = []
        if let argument = check.argument("cpu") {
            let limit = group.cpuLimit
            seen.append(limit.description)
            if !compare(limit.value ?? Double.infinity, argument) { problems.append("expected cpu \(argument.op.rawValue) \(argument.value)") }
        }
        if let argument = check.argument("memory-max") {
            let limit = group.memoryLimit
            seen.append(limit.description)
            let expected = ResourceLimits.parseBytes(argument.value)
            let matches = limit.value == expected || (expected == -1 && limit.value == nil)
            if matches == (argument.op == .notEqual) { problems.append("expected memory-max \(argument.op.rawValue) \(argument.value)") }
        }
        if let argument = check.argument("pids-max") {
            let limit = group.pidsLimit
            seen.append(limit.description)
            if !compare(limit.value.map(Double.init) ?? Double.infinity, argument) { problems.append("expected pids-max \(argument.op.rawValue) \(argument.value)") }
        }
        if let member = check.value("member") {
            let members = Set(group.members.value)
            let found = processes(member).contains { members.contains($0.hostPid) }
            seen.append(found ? "'\(member)' is in it" : "'\(member)' is not in it (cgclassify, or write its pid to cgroup.procs)")
            if !found { problems.append("expected '\(member)' in \(name)") }
        }
        if let argument = check.argument("pids-current") {
            let current = group.pidsCurrent
            seen.append(current.description)
            if !compare(Double(current.value ?? 0), argument) { problems.append("expected pids.current \(argument.op.rawValue) \(argument.value)") }
        }
        if let argument = check.argument("oom-kills") {
            let kills = group.oomKills
            seen.append(kills.description)
            if !compare(Double(kills.value ?? 0), argument) { problems.append("expected OOM kills \(argument.op.rawValue) \(argument.value)") }
        }
        if let argument = check.argument("measured-cpu") {
            let window = check.value("over").flatMap { Int($0.replacingOccurrences("ms", "")) } ?? 1500
            let measured = group.measuredCPU(overMilliseconds: window)
            seen.append(measured.description)
            if !compare(measured.value ?? Double.infinity, argument) { problems.append("expected measured CPU \(argument.op.rawValue) \(argument.value)") }
        }
        let text = seen.isEmpty ? exists.description : seen.joined(separator: "; ")
        return Outcome(passed: problems.isEmpty, message: problems.isEmpty ? text : text + " — " + problems.joined(separator: "; "))
    }

    func command(_ check: Check) throws -> Outcome {
        let script = check.value("run") ?? ""
        let result = try lab.probeCommand(script).value
        var problems: [String] = []
        if let status = check.value("status"), Int32(status) != result.status.shellCode {
            problems.append("expected status \(status), got \(result.status.shellCode)")
        }
        if let argument = check.argument("output") {
            let output = result.output.trimmingTrailingSpaces
            let ok: Bool
            switch argument.op {
            case .matches: ok = (try? Regex(argument.value)).map { output.contains($0) } ?? false
            case .notEqual: ok = output != argument.value
            default: ok = output == argument.value
            }
            if !ok { problems.append("output was '\(output)'") }
        }
        return Outcome(passed: problems.isEmpty, message: "`\(script)` " + (problems.isEmpty ? "behaved as expected" : problems.joined(separator: "; ")))
    }

    /// `actual OP expected`; `=` on fractions allows a rounding error.
    func compare(_ actual: Double, _ argument: Check.Argument) -> Bool {
        guard let expected = Double(argument.value) else { return false }
        switch argument.op {
        case .atMost: return actual <= expected
        case .atLeast: return actual >= expected
        case .notEqual: return abs(actual - expected) > 1e-9
        default: return abs(actual - expected) < 0.001
        }
    }
}
