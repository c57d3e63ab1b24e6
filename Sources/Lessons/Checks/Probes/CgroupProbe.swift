internal import Cgroups
internal import Isolation
internal import Lab

/// `cgroup name=G [exists=no] [cpu=0.5] [memory-max=32M] [pids-max=20] [member=P]
/// [members=0] [measured-cpu>=0.35 measured-cpu<=0.6 over=1500] [oom-kills>=1]
/// [pids-current<=20]`: a group the learner made in the lab, on either cgroup version.
struct CgroupProbe: Probe {
    static let summary = "a cgroup the learner made: limits, members (a process, how many), measured CPU, OOM kills, tasks"
    var name: String
    var exists: Bool
    var cpu: [NumberCondition]
    var memoryMax: [NumberCondition]
    var pidsMax: [NumberCondition]
    var member: ProcessSelector?
    var members: [NumberCondition]
    var measuredCPU: [NumberCondition]
    var window: Int
    var oomKills: [NumberCondition]
    var pidsCurrent: [NumberCondition]

    init(_ arguments: inout CheckArguments) throws(LessonError) {
        name = try arguments.requiredText("name").value.split(separator: "/").joined(separator: "/")
        exists = try arguments.flag("exists") ?? true
        cpu = try arguments.numbers("cpu")
        memoryMax = try arguments.numbers("memory-max", size: true)
        pidsMax = try arguments.numbers("pids-max")
        member = try arguments.process("member")
        members = try arguments.numbers("members")
        measuredCPU = try arguments.numbers("measured-cpu")
        window = Int(try arguments.numbers("over").first?.value ?? 1500)
        oomKills = try arguments.numbers("oom-kills")
        pidsCurrent = try arguments.numbers("pids-current")
        try arguments.finish()
    }

    var measures: Bool { !measuredCPU.isEmpty }

    func percent(_ conditions: [NumberCondition]) -> Message {
        Message.joined(
            conditions.map { condition in
                var scaled = condition
                scaled.written = "\(Int((condition.value * 100).rounded()))%"
                return scaled.expected
            }, separator: Message(" and ", ko: ", "))
    }

    var expectation: Message {
        if !exists { return Message("there is no cgroup \(name)", ko: "cgroup \(name)이(가) 없음") }
        var parts: [Message] = []
        if !cpu.isEmpty { parts.append(Message("allows \(percent(cpu).en) of a CPU", ko: "CPU를 \(percent(cpu).ko) 허용")) }
        if !memoryMax.isEmpty { parts.append(Message("memory limit \(memoryMax.expected.en)", ko: "메모리 제한 \(memoryMax.expected.ko)")) }
        if !pidsMax.isEmpty { parts.append(Message("task limit \(pidsMax.expected.en)", ko: "태스크 제한 \(pidsMax.expected.ko)")) }
        if let member { parts.append(Message("holds \(member.named.en)", ko: "\(member.named.ko)를 담음")) }
        if !members.isEmpty { parts.append(Message("holds \(members.expected.en) process(es)", ko: "프로세스 \(members.expected.ko)개를 담음")) }
        if !measuredCPU.isEmpty {
            parts.append(Message("its processes use \(percent(measuredCPU).en) of a CPU", ko: "프로세스들이 CPU를 \(percent(measuredCPU).ko) 씀"))
        }
        if !oomKills.isEmpty { parts.append(Message("the OOM killer struck \(oomKills.expected.en) time(s)", ko: "OOM 킬러가 \(oomKills.expected.ko)번 동작")) }
        if !pidsCurrent.isEmpty { parts.append(Message("holds \(pidsCurrent.expected.en) tasks", ko: "태스크 \(pidsCurrent.expected.ko)개")) }
        let head = Message("cgroup \(name)", ko: "cgroup \(name)")
        return parts.isEmpty
            ? head + Message(" exists", ko: "이(가) 있음") : head + Message(": ", ko: ": ") + Message.joined(parts, separator: Message(", ", ko: ", "))
    }

    func evaluate(_ context: ProbeContext) -> ProbeOutcome {
        guard let group = context.lab.labCgroup(name) else {
            return ProbeOutcome(
                false,
                Message(
                    "this lab has no cgroup of its own (no cgroup subtree is delegated to your user; run as root, or in a systemd user session on cgroup v2)",
                    ko: "이 랩에는 자신의 cgroup이 없습니다 (사용자에게 위임된 cgroup이 없습니다. root로, 또는 cgroup v2의 systemd 사용자 세션에서 실행하세요)"))
        }
        let exists = group.exists.value
        if !self.exists {
            return ProbeOutcome(
                !exists,
                exists
                    ? Message(
                        "cgroup \(name) still exists (`cgdelete`, or `rmdir` its directory)", ko: "cgroup \(name)이(가) 아직 있습니다 (`cgdelete`, 또는 디렉터리를 `rmdir`)")
                    : Message("there is no cgroup \(name)", ko: "cgroup \(name)이(가) 없습니다"))
        }
        guard exists else {
            return ProbeOutcome(
                false,
                Message(
                    "there is no cgroup \(name): `cgcreate -g CONTROLLER:\(name)`, or `mkdir` it under /sys/fs/cgroup",
                    ko: "cgroup \(name)이(가) 없습니다: `cgcreate -g 컨트롤러:\(name)`, 또는 /sys/fs/cgroup 아래에 `mkdir`"))
        }
        var problems: [Message] = []
        var mistaken = false
        var seen: [Message] = []
        if !cpu.isEmpty {
            let limit = group.cpuLimit
            let fraction = limit.value ?? .infinity
            seen.append(Message(verbatim: limit.description))
            if !cpu.holds(fraction) {
                mistaken = mistaken || !fraction.isInfinite
                var problem = Message(
                    "\(name) allows \(fraction.isInfinite ? "unlimited CPU" : "\(Int((fraction * 100).rounded()))% of a CPU"), expected \(percent(cpu).en)",
                    ko: "\(name)은(는) CPU를 \(fraction.isInfinite ? "무제한" : "\(Int((fraction * 100).rounded()))%") 허용합니다. \(percent(cpu).ko)이어야 합니다")
                if let wanted = cpu.first(where: { $0.op == .equal }) {
                    let quota = Int((wanted.value * 100_000).rounded())
                    problem = problem + Message(" (quota / period: \(quota) per 100000 µs)", ko: " (quota / period: 100000µs마다 \(quota))")
                }
                problems.append(problem)
            }
        }
        if !memoryMax.isEmpty {
            let limit = group.memoryLimit
            seen.append(Message(verbatim: limit.description))
            let value = limit.value.map(Double.init) ?? .infinity
            if !memoryMax.holds(value) {
                mistaken = mistaken || limit.value != nil
                problems.append(
                    Message(
                        "\(name)'s memory limit is \(limit.value.map { ResourceLimits.formatBytes($0) } ?? "none"), expected \(memoryMax.expected.en)",
                        ko: "\(name)의 메모리 제한은 \(limit.value.map { ResourceLimits.formatBytes($0) } ?? "없음")입니다. \(memoryMax.expected.ko)이어야 합니다"))
            }
        }
        if !pidsMax.isEmpty {
            let limit = group.pidsLimit
            seen.append(Message(verbatim: limit.description))
            if !pidsMax.holds(limit.value.map(Double.init) ?? .infinity) {
                mistaken = mistaken || limit.value != nil
                problems.append(
                    Message(
                        "\(name)'s task limit is \(limit.value.map(String.init) ?? "max"), expected \(pidsMax.expected.en)",
                        ko: "\(name)의 태스크 제한은 \(limit.value.map(String.init) ?? "max")입니다. \(pidsMax.expected.ko)이어야 합니다"))
            }
        }
        let inside = group.memberPids
        let insideProcesses = context.processes.filter { inside.contains($0.hostPid) }
        if let member {
            switch member.resolve(context) {
            case .failure(let unresolved): problems.append(unresolved.message)
            case .success(let candidates):
                if let found = candidates.last(where: { inside.contains($0.hostPid) }) {
                    seen.append(Message("\(found.shown) is in it", ko: "\(found.shown)가 들어 있습니다"))
                } else {
                    let holds =
                        insideProcesses.isEmpty
                        ? Message("it holds nothing", ko: "그룹은 비어 있습니다")
                        : Message(
                            "it holds \(insideProcesses.map(\.shown).joined(separator: ", "))",
                            ko: "그룹에는 \(insideProcesses.map(\.shown).joined(separator: ", "))가 있습니다")
                    let wanted = candidates.last!
                    mistaken = mistaken || !insideProcesses.isEmpty
                    problems.append(
                        Message("\(wanted.shown) is not in \(name); ", ko: "\(wanted.shown)는 \(name)에 없습니다; ") + holds
                            + Message(
                                " — move it with `cgclassify -g CONTROLLER:\(name) \(wanted.labPids.first ?? 0)` (or write its pid to cgroup.procs)",
                                ko: " — `cgclassify -g 컨트롤러:\(name) \(wanted.labPids.first ?? 0)`로 옮기세요 (또는 pid를 cgroup.procs에 쓰기)"))
                }
            }
        }
        if !members.isEmpty && !members.holds(Double(insideProcesses.count)) {
            problems.append(
                Message("\(name) holds \(insideProcesses.count) process(es)", ko: "\(name)에 프로세스가 \(insideProcesses.count)개 있습니다")
                    + (insideProcesses.isEmpty
                        ? Message(verbatim: "")
                        : Message(": \(insideProcesses.map(\.shown).joined(separator: ", "))", ko: ": \(insideProcesses.map(\.shown).joined(separator: ", "))"))
            )
        }
        if !pidsCurrent.isEmpty {
            let current = group.pidsCurrent
            seen.append(Message(verbatim: current.description))
            if !pidsCurrent.holds(Double(current.value ?? 0)) {
                problems.append(
                    Message(
                        "\(name) holds \(current.value ?? 0) tasks, expected \(pidsCurrent.expected.en)",
                        ko: "\(name)에 태스크가 \(current.value ?? 0)개 있습니다. \(pidsCurrent.expected.ko)이어야 합니다"))
            }
        }
        if !oomKills.isEmpty {
            let kills = group.oomKills.value ?? 0
            seen.append(Message("\(kills) OOM kill(s)", ko: "OOM 킬 \(kills)번"))
            if !oomKills.holds(Double(kills)) {
                problems.append(
                    Message(
                        "the OOM killer struck \(kills) time(s) in \(name), expected \(oomKills.expected.en)"
                            + (kills == 0 ? ": the memory hog must run inside the group" : ""),
                        ko: "\(name)에서 OOM 킬러가 \(kills)번 동작했습니다. \(oomKills.expected.ko)이어야 합니다" + (kills == 0 ? ": 메모리를 쓰는 명령이 그룹 안에서 실행되어야 합니다" : "")))
            }
        }
        if !measuredCPU.isEmpty && problems.isEmpty {
            let measured = group.measuredCPU(overMilliseconds: window)
            let share = measured.value ?? 0
            seen.append(Message(verbatim: measured.description))
            if !measuredCPU.holds(share) {
                let shown = "\(Int((share * 100).rounded()))%"
                var problem = Message(
                    "\(name)'s processes used \(shown) of a CPU over \(window) ms, expected \(percent(measuredCPU).en)",
                    ko: "\(name)의 프로세스들이 \(window)ms 동안 CPU를 \(shown) 썼습니다. \(percent(measuredCPU).ko)이어야 합니다")
                if share < 0.05 {
                    problem =
                        problem + Message(": nothing busy is in it — the busy process must be in the group", ko: ": 바쁜 프로세스가 그룹에 없습니다 — 그 프로세스를 그룹에 넣어야 합니다")
                }
                problems.append(problem)
            }
        }
        if problems.isEmpty {
            return ProbeOutcome(true, seen.isEmpty ? Message("cgroup \(name) exists", ko: "cgroup \(name)이(가) 있습니다") : Message.joined(seen))
        }
        return ProbeOutcome(false, Message.joined(problems), wrong: mistaken)
    }
}
