internal import Isolation
internal import Lab

/// `namespace process=P kind=KIND own=yes|no` or `same-as=Q`: whether a process has a
/// namespace of its own kind, apart from the lab's, or shares one with another process.
struct NamespaceProbe: Probe {
    static let summary = "whether a process has a namespace of its own, or shares one with another process"
    static let kinds: [String: Namespaces] = [
        "user": .user, "mnt": .mount, "mount": .mount, "pid": .pid, "uts": .uts, "ipc": .ipc, "net": .net, "cgroup": .cgroup,
    ]
    var process: ProcessSelector
    var kindName: String
    var own: Bool
    var sameAs: ProcessSelector?

    init(_ arguments: inout CheckArguments) throws(LessonError) {
        guard let process = try arguments.process("process") else {
            throw LessonError(file: arguments.file, line: arguments.line, "'namespace' needs process=…")
        }
        self.process = process
        guard let kind = try arguments.choice("kind", Self.kinds.keys.sorted()), kind.op == .equal else {
            throw LessonError(file: arguments.file, line: arguments.line, "'namespace' needs kind=… (\(Self.kinds.keys.sorted().joined(separator: ", ")))")
        }
        kindName = kind.value
        own = try arguments.flag("own") ?? true
        sameAs = try arguments.process("same-as")
        try arguments.finish()
    }

    var expectation: Message {
        if let sameAs {
            return Message(
                "\(process.named.en) and \(sameAs.named.en) share a \(kindName) namespace",
                ko: "\(process.named.ko)와 \(sameAs.named.ko)가 같은 \(kindName) 네임스페이스에 있음")
        }
        return own
            ? Message("\(process.named.en) has a \(kindName) namespace of its own", ko: "\(process.named.ko)가 자신만의 \(kindName) 네임스페이스에 있음")
            : Message("\(process.named.en) shares the lab's \(kindName) namespace", ko: "\(process.named.ko)가 랩의 \(kindName) 네임스페이스를 그대로 씀")
    }

    func evaluate(_ context: ProbeContext) -> ProbeOutcome {
        let kind = Self.kinds[kindName]!
        guard case .success(let found) = process.resolve(context), let subject = found.last else {
            if case .failure(let unresolved) = process.resolve(context) { return ProbeOutcome(false, unresolved.message) }
            return ProbeOutcome(false, Message("no such process", ko: "그런 프로세스가 없습니다"))
        }
        if let sameAs {
            switch sameAs.resolve(context) {
            case .failure(let unresolved): return ProbeOutcome(false, unresolved.message)
            case .success(let others):
                let mine = context.lab.namespace(kind, of: subject.hostPid).value
                let same = others.contains { context.lab.namespace(kind, of: $0.hostPid).value == mine && mine != nil }
                return ProbeOutcome(
                    same,
                    same
                        ? Message(
                            "\(subject.shown) and \(sameAs.named.en) share \(mine ?? "?")", ko: "\(subject.shown)와 \(sameAs.named.ko)가 \(mine ?? "?")를 함께 씁니다")
                        : Message(
                            "\(subject.shown) and \(sameAs.named.en) are in different \(kindName) namespaces",
                            ko: "\(subject.shown)와 \(sameAs.named.ko)의 \(kindName) 네임스페이스가 다릅니다"))
            }
        }
        let candidates = found
        let owning = candidates.filter { context.lab.hasOwnNamespace(kind, $0.hostPid).value }
        if own {
            if let hit = owning.last {
                let name = context.lab.namespace(kind, of: hit.hostPid).value ?? "?"
                return ProbeOutcome(true, Message("\(hit.shown) is in \(name), not the lab's", ko: "\(hit.shown)는 랩의 것이 아닌 \(name)에 있습니다"))
            }
            return ProbeOutcome(
                false, Message("\(subject.shown) is still in the lab's \(kindName) namespace", ko: "\(subject.shown)는 아직 랩의 \(kindName) 네임스페이스에 있습니다"),
                wrong: true)
        }
        let sharing = candidates.filter { !context.lab.hasOwnNamespace(kind, $0.hostPid).value }
        return sharing.isEmpty
            ? ProbeOutcome(false, Message("\(subject.shown) has a \(kindName) namespace of its own", ko: "\(subject.shown)는 자신만의 \(kindName) 네임스페이스에 있습니다"))
            : ProbeOutcome(
                true, Message("\(sharing.last!.shown) shares the lab's \(kindName) namespace", ko: "\(sharing.last!.shown)는 랩의 \(kindName) 네임스페이스를 씁니다"))
    }
}
