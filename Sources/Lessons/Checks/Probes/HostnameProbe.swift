internal import Isolation
internal import Lab

/// `hostname is=NAME [process=P] [namespace=own]`: the lab's hostname, or the one a process
/// sees (with `namespace=own`, only processes in a UTS namespace of their own count).
struct HostnameProbe: Probe {
    static let summary = "the hostname of the lab, or seen by a process (namespace=own: in a UTS namespace of its own)"
    var name: TextCondition
    var process: ProcessSelector?
    var ownNamespace: Bool

    init(_ arguments: inout CheckArguments) throws(LessonError) {
        name = try arguments.requiredText("is", Operator.textual)
        process = try arguments.process("process")
        ownNamespace = try arguments.choice("namespace", ["own", "lab"]).map { ($0.value == "own") == ($0.op == .equal) } ?? false
        try arguments.finish()
    }

    var expectation: Message {
        guard let process else {
            return Message("the lab's hostname is \(name.expected.en)", ko: "랩의 호스트 이름이 \(name.expected.ko)")
        }
        let who = process.named
        return ownNamespace
            ? Message(
                "\(who.en), in a UTS namespace of its own, sees hostname \(name.expected.en)",
                ko: "자신만의 UTS 네임스페이스에 있는 \(who.ko)가 호스트 이름 \(name.expected.ko)을(를) 봄")
            : Message("\(who.en) sees hostname \(name.expected.en)", ko: "\(who.ko)가 호스트 이름 \(name.expected.ko)을(를) 봄")
    }

    func evaluate(_ context: ProbeContext) -> ProbeOutcome {
        guard let process else {
            guard let seen = try? context.lab.hostname().value else {
                return ProbeOutcome(false, Message("the lab's hostname cannot be read", ko: "랩의 호스트 이름을 읽을 수 없습니다"))
            }
            let holds = name.holds(seen)
            var message = Message("the lab's hostname is '\(seen)'", ko: "랩의 호스트 이름은 '\(seen)'입니다")
            if !holds && name.op == .equal {
                message =
                    message
                    + Message(
                        ", expected '\(name.value)' — it was changed outside a new UTS namespace; `hostname \(name.value)` puts it back",
                        ko: ", '\(name.value)'이어야 합니다 — 새 UTS 네임스페이스 밖에서 바뀌었습니다. `hostname \(name.value)`로 되돌리세요")
            }
            // The lab's own name, changed: a hostname set outside a new UTS namespace.
            return ProbeOutcome(holds, message, wrong: name.op == .equal)
        }
        var candidates: [LabProcess]
        switch process.resolve(context) {
        case .failure(let unresolved): return ProbeOutcome(false, unresolved.message)
        case .success(let found): candidates = found
        }
        if ownNamespace {
            candidates = candidates.filter { context.lab.hasOwnNamespace(.uts, $0.hostPid).value }
            if candidates.isEmpty {
                let who =
                    process == .any
                    ? Message("no process has a UTS namespace of its own", ko: "자신만의 UTS 네임스페이스를 가진 프로세스가 없습니다")
                    : Message("\(process.named.en) is still in the lab's UTS namespace", ko: "\(process.named.ko)가 아직 랩의 UTS 네임스페이스에 있습니다")
                return ProbeOutcome(
                    false,
                    who
                        + Message(
                            ": start a shell with `unshare -u` (as `unshare -u /bin/bash`), then set the name inside it",
                            ko: ": `unshare -u`로 셸을 시작한 뒤(`unshare -u /bin/bash`) 그 안에서 이름을 바꾸세요"))
            }
        }
        var seen: [String] = []
        for candidate in candidates.reversed() {
            guard let hostname = try? context.lab.hostname(of: candidate.hostPid).value else { continue }
            if name.holds(hostname) {
                return ProbeOutcome(
                    true,
                    Message(
                        "\(candidate.shown) sees hostname '\(hostname)'",
                        ko: "\(candidate.shown)는 호스트 이름 '\(hostname)'을(를) 봅니다"))
            }
            seen.append("'\(hostname)' (\(candidate.shown))")
        }
        let list = seen.joined(separator: ", ")
        return ProbeOutcome(
            false,
            Message(
                "it sees \(list), expected \(name.expected.en)" + (name.op == .equal ? ": run `hostname \(name.value)` in it" : ""),
                ko: "\(list)을(를) 봅니다. \(name.expected.ko)이어야 합니다" + (name.op == .equal ? ": 그 안에서 `hostname \(name.value)`을 실행하세요" : "")))
    }
}
