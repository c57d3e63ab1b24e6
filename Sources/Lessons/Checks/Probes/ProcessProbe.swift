internal import Glibc
internal import Isolation
internal import Lab
internal import POSIXSupport

/// `process command=P [exists=no] [pid1=yes] [measured-cpu>=0.8 over=1500] [root=/root/box]
/// [capability=cap_net_admin] [bounding!=cap_sys_admin]`: a process, by command, captured
/// pid ({{loop}}), @busiest or @shell.
struct ProcessProbe: Probe {
    static let summary = "a process (by command, {{captured}} pid, @busiest, @shell): exists, pid 1, CPU use, root, capabilities"
    var process: ProcessSelector
    var exists: Bool
    var pid1: Bool?
    var cpu: [NumberCondition]
    var window: Int
    var root: TextCondition?
    var capability: TextCondition?
    var bounding: TextCondition?
    /// Only processes in a namespace of their own of this kind (`own=uts`).
    var own: String?

    init(_ arguments: inout CheckArguments) throws(LessonError) {
        guard let process = try arguments.process("command") else {
            throw LessonError(file: arguments.file, line: arguments.line, "'process' needs command=… (a command, {{name}}, @busiest or @shell)")
        }
        self.process = process
        exists = try arguments.flag("exists") ?? true
        pid1 = try arguments.flag("pid1")
        cpu = try arguments.numbers("measured-cpu")
        window = Int(try arguments.numbers("over").first?.value ?? 1000)
        root = try arguments.text("root", Operator.equality)
        capability = try arguments.text("capability", Operator.equality).map { TextCondition(op: $0.op, value: $0.value.lowercased()) }
        bounding = try arguments.text("bounding", Operator.equality).map { TextCondition(op: $0.op, value: $0.value.lowercased()) }
        own = try arguments.choice("own", NamespaceProbe.kinds.keys.sorted())?.value
        for condition in [capability, bounding].compactMap({ $0 }) where Capabilities.number(condition.value) == nil {
            throw LessonError(file: arguments.file, line: arguments.line, "unknown capability '\(condition.value)' (like cap_sys_admin, cap_net_raw)")
        }
        try arguments.finish()
    }

    var measures: Bool { !cpu.isEmpty }

    var expectation: Message {
        var who = process.named
        if let own { who = who + Message(" in a \(own) namespace of its own", ko: "(자신만의 \(own) 네임스페이스)") }
        if !exists { return Message("no \(who.en.replacingFirst("a ", "")) is running", ko: "\(who.ko)가 실행 중이 아님") }
        var parts: [Message] = []
        if let pid1 {
            parts.append(pid1 ? Message("is pid 1 of a pid namespace of its own", ko: "자신만의 PID 네임스페이스의 1번") : Message("is not pid 1", ko: "1번이 아님"))
        }
        if !cpu.isEmpty { parts.append(Message("uses \(percent(cpu).en) of a CPU", ko: "CPU를 \(percent(cpu).ko) 씀")) }
        if let root { parts.append(Message("has \(root.value) as its root", ko: "루트가 \(root.value)")) }
        if let capability {
            parts.append(
                Message(
                    capability.op == .equal ? "has \(capability.value)" : "lacks \(capability.value)",
                    ko: capability.op == .equal ? "\(capability.value)이(가) 있음" : "\(capability.value)이(가) 없음"))
        }
        if let bounding {
            parts.append(
                Message(
                    bounding.op == .equal ? "may gain \(bounding.value)" : "can never gain \(bounding.value)",
                    ko: bounding.op == .equal ? "\(bounding.value)을(를) 얻을 수 있음" : "\(bounding.value)을(를) 얻을 수 없음"))
        }
        if parts.isEmpty { return Message("\(who.en) is running", ko: "\(who.ko)가 실행 중") }
        return Message("\(who.en) ", ko: "\(who.ko): ") + Message.joined(parts, separator: Message(", ", ko: ", "))
    }

    func percent(_ conditions: [NumberCondition]) -> Message {
        Message.joined(
            conditions.map { condition in
                var scaled = condition
                scaled.written = "\(Int((condition.value * 100).rounded()))%"
                return scaled.expected
            }, separator: Message(" and ", ko: ", "))
    }

    func evaluate(_ context: ProbeContext) -> ProbeOutcome {
        var candidates: [LabProcess]
        switch process.resolve(context) {
        case .failure(let unresolved):
            if !exists && unresolved.gone { return ProbeOutcome(true, unresolved.message) }
            return ProbeOutcome(false, unresolved.message)
        case .success(let found): candidates = found
        }
        if let own, let kind = NamespaceProbe.kinds[own] {
            candidates = candidates.filter { context.lab.hasOwnNamespace(kind, $0.hostPid).value }
            if candidates.isEmpty {
                return ProbeOutcome(
                    !exists,
                    Message(
                        "no \(process.named.en.replacingFirst("a ", "")) is in a \(own) namespace of its own",
                        ko: "자신만의 \(own) 네임스페이스에 있는 \(process.named.ko)가 없습니다"))
            }
        }
        if !exists {
            return ProbeOutcome(
                false,
                Message(
                    "\(candidates.map(\.shown).joined(separator: ", ")) is still running: `kill` it (its number, or `kill %1` for the shell's job 1)",
                    ko: "\(candidates.map(\.shown).joined(separator: ", "))가 아직 실행 중입니다: `kill`로 끝내세요 (번호로, 또는 셸의 1번 작업이면 `kill %1`)"))
        }
        var problems: [Message] = []
        var mistaken = false
        var subject = candidates.last!
        if let pid1 {
            let ones = candidates.filter { ($0.labPids.last == 1) == pid1 }
            if let one = ones.last {
                subject = one
            } else {
                mistaken = true
                problems.append(
                    Message(
                        "\(subject.shown) is pid \(subject.labPids.last ?? 0) in its pid namespace" + (pid1 ? ": start it with `unshare --pid --fork`" : ""),
                        ko: "\(subject.shown)는 자기 PID 네임스페이스에서 \(subject.labPids.last ?? 0)번입니다" + (pid1 ? ": `unshare --pid --fork`로 시작하세요" : "")))
            }
        }
        if let root {
            let holds = sameRoot(subject, root.value, context) == (root.op == .equal)
            if !holds { problems.append(Message("\(subject.shown)'s root is not \(root.value)", ko: "\(subject.shown)의 루트는 \(root.value)가 아닙니다")) }
        }
        for (condition, set, name) in [(capability, 0, "effective"), (bounding, 1, "bounding")] {
            guard let condition, let number = Capabilities.number(condition.value) else { continue }
            guard let sets = ProcFS.capabilities(String(subject.hostPid)) else { continue }
            let has = ((set == 0 ? sets.effective : sets.bounding) >> UInt64(number)) & 1 == 1
            if has != (condition.op == .equal) {
                problems.append(
                    Message(
                        "\(subject.shown) \(has ? "has" : "lacks") \(condition.value) (\(name) set)",
                        ko: "\(subject.shown)의 \(name) 집합에 \(condition.value)이(가) \(has ? "있습니다" : "없습니다")"))
            }
        }
        if !cpu.isEmpty {
            let share = context.measuredShare(of: subject, milliseconds: window) ?? 0
            let shown = "\(Int((share * 100).rounded()))%"
            if !cpu.holds(share) {
                problems.append(
                    Message(
                        "\(subject.shown) used \(shown) of a CPU over \(window) ms, expected \(percent(cpu).en)",
                        ko: "\(subject.shown)는 \(window)ms 동안 CPU를 \(shown) 썼습니다. \(percent(cpu).ko)이어야 합니다"))
            } else if problems.isEmpty {
                return ProbeOutcome(true, Message("\(subject.shown) used \(shown) of a CPU", ko: "\(subject.shown)는 CPU를 \(shown) 썼습니다"))
            }
        }
        if problems.isEmpty {
            return ProbeOutcome(
                true,
                Message("\(subject.shown) runs", ko: "\(subject.shown)가 실행 중입니다")
                    + (pid1 == true ? Message(", pid 1 of its own pid namespace", ko: ", 자기 PID 네임스페이스의 1번") : Message(verbatim: "")))
        }
        return ProbeOutcome(false, Message.joined(problems), wrong: mistaken)
    }

    /// Whether the process's root directory is `path` as the lab resolves it.
    func sameRoot(_ process: LabProcess, _ path: String, _ context: ProbeContext) -> Bool {
        let expected = ProcessRoot.open(path, of: context.lab.initProcess.pid, only: .locating)
        guard expected >= 0 else { return false }
        defer { close(expected) }
        var mine = stat(), theirs = stat()
        guard fstat(expected, &mine) == 0, stat("/proc/\(process.hostPid)/root", &theirs) == 0 else { return false }
        return mine.st_dev == theirs.st_dev && mine.st_ino == theirs.st_ino
    }
}

/// Capability names as capabilities(7) spells them, by number.
enum Capabilities {
    static let names = [
        "cap_chown", "cap_dac_override", "cap_dac_read_search", "cap_fowner", "cap_fsetid", "cap_kill",
        "cap_setgid", "cap_setuid", "cap_setpcap", "cap_linux_immutable", "cap_net_bind_service",
        "cap_net_broadcast", "cap_net_admin", "cap_net_raw", "cap_ipc_lock", "cap_ipc_owner", "cap_sys_module",
        "cap_sys_rawio", "cap_sys_chroot", "cap_sys_ptrace", "cap_sys_pacct", "cap_sys_admin", "cap_sys_boot",
        "cap_sys_nice", "cap_sys_resource", "cap_sys_time", "cap_sys_tty_config", "cap_mknod", "cap_lease",
        "cap_audit_write", "cap_audit_control", "cap_setfcap", "cap_mac_override", "cap_mac_admin", "cap_syslog",
        "cap_wake_alarm", "cap_block_suspend", "cap_audit_read", "cap_perfmon", "cap_bpf", "cap_checkpoint_restore",
    ]

    static func number(_ name: String) -> Int? {
        let spelled = name.hasPrefix("cap_") ? name : "cap_" + name
        return names.firstIndex(of: spelled)
    }
}

extension String {
    /// Without a leading `old` ("a `bash` process" → "`bash` process"), `new` in its place.
    func replacingFirst(_ old: String, _ new: String) -> String {
        hasPrefix(old) ? new + dropFirst(old.count) : self
    }
}
