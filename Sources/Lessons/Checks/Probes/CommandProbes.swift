internal import Glibc
internal import Isolation
internal import Lab
internal import POSIXSupport

/// `command run="SCRIPT" [status=N] [output=TEXT|output~=RE]`: a probe command run in the lab
/// (not in the learner's shell), its status and what it printed; the escape hatch.
struct CommandProbe: Probe {
    static let summary = "a probe command run in the lab (not the learner's shell): its status and output"
    var script: String
    var status: [NumberCondition]
    var output: TextCondition?

    init(_ arguments: inout CheckArguments) throws(LessonError) {
        script = try arguments.requiredText("run").value
        status = try arguments.numbers("status")
        output = try arguments.text("output")
        try arguments.finish()
    }

    var expectation: Message {
        var text = Message("`\(script)`", ko: "`\(script)`")
        if let output { text = text + Message(" prints \(output.expected.en)", ko: " 출력이 \(output.expected.ko)") }
        if !status.isEmpty { text = text + Message(" exits \(status.expected.en)", ko: " 종료 상태 \(status.expected.ko)") }
        return text
    }

    func evaluate(_ context: ProbeContext) -> ProbeOutcome {
        let result: LabCommandResult
        do { result = try context.lab.probeCommand(script).value } catch {
            // EAGAIN from clone (or the lab's own count): the lab is at its task limit, which
            // is something the learner did (a fork bomb outside its group) and can undo.
            if error.cause == .tryAgain {
                return ProbeOutcome(
                    false,
                    Message(
                        "`\(script)` could not run in the lab: it is at its task limit (something keeps forking); stop it with `kill -9 -1` or :reset",
                        ko: "`\(script)`을(를) 랩에서 실행할 수 없습니다: 랩의 프로세스 수가 한도에 닿았습니다(무언가 계속 fork합니다). `kill -9 -1` 또는 :reset으로 멈추세요"))
            }
            return ProbeOutcome(false, Message("`\(script)` could not run in the lab: \(error)", ko: "`\(script)`을(를) 랩에서 실행할 수 없습니다: \(error)"))
        }
        let printed = result.output.trimmed
        var problems: [Message] = []
        if !status.isEmpty && !status.holds(Double(result.status.shellCode)) {
            let said = printed.isEmpty ? "" : ": " + (printed.count > 200 ? String(printed.prefix(200)) + "…" : printed)
            problems.append(Message("it exited \(result.status.shellCode)\(said)", ko: "종료 상태 \(result.status.shellCode)\(said)"))
        }
        if let output, !output.holds(printed) {
            problems.append(Message("it printed '\(printed)'", ko: "출력: '\(printed)'"))
        }
        return problems.isEmpty
            ? ProbeOutcome(true, Message("`\(script)` printed '\(printed)'", ko: "`\(script)` 출력: '\(printed)'"))
            : ProbeOutcome(false, Message("`\(script)`: ", ko: "`\(script)`: ") + Message.joined(problems))
    }
}

/// `seen output=LINE` or `seen output~=RE`: the learner has seen this in what a command of
/// the step printed — for a step whose point is what a command shows (the hostname, the
/// notes' `ip link` output), never for what the lab is.
struct SeenProbe: Probe {
    static let summary = "what a command of the step printed: a line equal to TEXT, or matching RE (for steps whose point is an output)"
    var output: TextCondition

    init(_ arguments: inout CheckArguments) throws(LessonError) {
        output = try arguments.requiredText("output", [.equal, .matches])
        try arguments.finish()
    }

    var looksAtOutput: Bool { true }

    var expectation: Message {
        output.op == .equal
            ? Message("you looked at: \(output.value)", ko: "출력에서 확인: \(output.value)")
            : Message("you looked at a line matching /\(output.value)/", ko: "출력에서 /\(output.value)/ 에 맞는 줄을 확인")
    }

    func evaluate(_ context: ProbeContext) -> ProbeOutcome {
        let lines = context.outputs.flatMap { $0.split(separator: "\n", omittingEmptySubsequences: false).map { String($0).trimmingTrailingWhitespace } }
        let hit = lines.contains { output.op == .equal ? $0 == output.value : output.holds($0) }
        return hit
            ? ProbeOutcome(true, Message("you saw \(output.expected.en)", ko: "\(output.expected.ko)을(를) 보았습니다"))
            : ProbeOutcome(false, Message("no command of this step has shown \(output.expected.en) yet", ko: "이 단계의 명령 출력에 아직 \(output.expected.ko)이(가) 없습니다"))
    }
}
