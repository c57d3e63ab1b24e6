internal import Glibc
internal import Isolation
public import Lab
internal import POSIXSupport

/// What a probe may look at: the lab (from outside), the values the lesson captured, the
/// learner's shell, and what the step's commands printed. One context per look at a step,
/// so what several checks share (the lab's processes, the busiest of them) is read once.
public final class ProbeContext {
    public let lab: Lab
    public let captures: [String: String]
    /// The host pid of the shell the learner is typing into (a nested one included).
    public let shell: Int32?
    /// What the step's commands printed, for `seen`.
    public let outputs: [String]
    /// How long a probe may wait: short after each command, longer for `:check` and tests.
    public let thorough: Bool

    public init(lab: Lab, captures: [String: String] = [:], shell: Int32? = nil, outputs: [String] = [], thorough: Bool = false) {
        self.lab = lab
        self.captures = captures
        self.shell = shell
        self.outputs = outputs
        self.thorough = thorough
    }

    private var cachedProcesses: [LabProcess]?
    /// The lab's processes, its keeper left out.
    public var processes: [LabProcess] {
        if let cachedProcesses { return cachedProcesses }
        let found = lab.processes().filter { $0.hostPid != lab.initProcess.pid }
        cachedProcesses = found
        return found
    }

    private var cachedBusiest: (LabProcess, Double)??
    /// The process using the most CPU now, and its share of one CPU, measured over 300 ms.
    public var busiest: (process: LabProcess, share: Double)? {
        if let cachedBusiest { return cachedBusiest }
        let found = Self.busiest(processes)
        cachedBusiest = .some(found)
        return found
    }

    static func ticks(_ pid: Int32) -> UInt64? {
        ProcFS.stat(String(pid)).map { $0.userTicks + $0.systemTicks }
    }

    static func busiest(_ processes: [LabProcess]) -> (LabProcess, Double)? {
        let clock = ContinuousClock()
        let start = clock.now
        let before = processes.map { ticks($0.hostPid) }
        usleep(300_000)
        let wall = Double(start.duration(to: clock.now).microseconds) / 1_000_000
        let hertz = Double(max(sysconf(Int32(_SC_CLK_TCK)), 1))
        var best: (LabProcess, Double)?
        for (index, process) in processes.enumerated() {
            guard let first = before[index], let second = ticks(process.hostPid), second >= first else { continue }
            let share = Double(second - first) / hertz / wall
            if share > (best?.1 ?? 0) { best = (process, share) }
        }
        return best
    }

    /// CPU share of one process over `milliseconds`.
    public func measuredShare(of process: LabProcess, milliseconds: Int) -> Double? {
        let clock = ContinuousClock()
        let start = clock.now
        guard let first = Self.ticks(process.hostPid) else { return nil }
        usleep(useconds_t(milliseconds * 1000))
        guard let second = Self.ticks(process.hostPid) else { return nil }
        let wall = Double(start.duration(to: clock.now).microseconds) / 1_000_000
        return Double(second &- first) / Double(max(sysconf(Int32(_SC_CLK_TCK)), 1)) / wall
    }
}

/// What a check found: held or not, and what was seen, in the learner's words.
public struct ProbeOutcome: Sendable {
    public var passed: Bool
    public var seen: Message
    /// Not merely "not yet": the lab shows a wrong turn (the shell put in the group instead
    /// of the loop, an address outside the network, the lab's own hostname changed). Worth
    /// telling at once; "not yet" is not.
    public var wrong = false

    public init(_ passed: Bool, _ seen: Message, wrong: Bool = false) {
        self.passed = passed
        self.seen = seen
        self.wrong = wrong && !passed
    }
}

/// One typed probe of lab state: its arguments parsed once, in its own type.
public protocol Probe: Sendable {
    /// What the check expects, in the learner's words ("testnet exists").
    var expectation: Message { get }
    /// It takes a window of time (measured CPU): it runs only once the rest of the step
    /// holds, and last.
    var measures: Bool { get }
    /// It looks at what the learner saw, not at the lab (`seen`): it cannot tell whether a
    /// later step was done ahead of time.
    var looksAtOutput: Bool { get }
    func evaluate(_ context: ProbeContext) -> ProbeOutcome
}

extension Probe {
    public var measures: Bool { false }
    public var looksAtOutput: Bool { false }
}

/// Which process a check is about.
public enum ProcessSelector: Sendable, Equatable {
    /// `{{name}}`: the process whose pid (as the lab sees it) the lesson captured, e.g. from
    /// the `[1] 4242` bash prints for a job started with `&`.
    case captured(String)
    /// `@busiest`: whatever uses the most CPU in the lab right now.
    case busiest
    /// `@shell`: the shell the learner is typing into (a nested one included).
    case shell
    /// `@any`: every process of the lab (for "some process…" or, with exists=no, "none…").
    case any
    /// Any other text: a process whose command line starts with it (`bash`, `"sleep 300"`),
    /// the program taken by its base name.
    case command(String)

    public struct ParseError: Error { public var message: String }

    init(parsing text: String) throws(ParseError) {
        if text.hasPrefix("{{") && text.hasSuffix("}}") {
            let name = String(text.dropFirst(2).dropLast(2))
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                throw ParseError(message: "'\(text)' is not a captured value: {{name}} with letters, digits and _")
            }
            self = .captured(name)
        } else if text == "@busiest" {
            self = .busiest
        } else if text == "@shell" {
            self = .shell
        } else if text == "@any" {
            self = .any
        } else if text.hasPrefix("@") {
            throw ParseError(message: "unknown process '\(text)' (known: @busiest, @shell, @any, {{name}}, or a command)")
        } else if text.isEmpty {
            throw ParseError(message: "an empty process: give a command, {{name}}, @busiest or @shell")
        } else {
            self = .command(text)
        }
    }

    /// "the loop ({{loop}})", "a `bash` process", "the busiest process", "your shell".
    public var named: Message {
        switch self {
        case .captured(let name): Message("the process you started as `\(name)`", ko: "`\(name)`(으)로 시작한 프로세스")
        case .busiest: Message("the busiest process", ko: "CPU를 가장 많이 쓰는 프로세스")
        case .shell: Message("your shell", ko: "지금 쓰는 셸")
        case .any: Message("a process", ko: "어떤 프로세스")
        case .command(let command): Message("a `\(command)` process", ko: "`\(command)` 프로세스")
        }
    }

    /// The processes it names in the lab (most recent last), or why there are none.
    public func resolve(_ context: ProbeContext) -> Result<[LabProcess], Unresolved> {
        switch self {
        case .captured(let name):
            guard let text = context.captures[name], let pid = Int32(text) else {
                return .failure(
                    Unresolved(
                        Message(
                            "no process {{\(name)}} has been started yet (its number is what bash prints after `&`, as `[1] 4242`)",
                            ko: "{{\(name)}} 프로세스가 아직 없습니다 (`&`로 실행하면 bash가 `[1] 4242`처럼 번호를 알려 줍니다)")))
            }
            let found = context.processes.filter { $0.labPids.first == pid }
            return found.isEmpty
                ? .failure(Unresolved(Message("process \(pid) ({{\(name)}}) is not running", ko: "프로세스 \(pid)({{\(name)}})는 실행 중이 아닙니다"), gone: true))
                : .success(found)
        case .busiest:
            guard let (process, share) = context.busiest, share >= 0.2 else {
                return .failure(
                    Unresolved(
                        Message(
                            "no process in the lab is busy (none uses even a fifth of a CPU)",
                            ko: "랩에서 CPU를 쓰는 프로세스가 없습니다 (5분의 1도 쓰지 않음)"), gone: true))
            }
            return .success([process])
        case .shell:
            guard let pid = context.shell, let process = context.processes.first(where: { $0.hostPid == pid }) else {
                return .failure(Unresolved(Message("your shell cannot be found", ko: "지금 쓰는 셸을 찾을 수 없습니다")))
            }
            return .success([process])
        case .any:
            return context.processes.isEmpty
                ? .failure(Unresolved(Message("the lab runs no process", ko: "랩에 프로세스가 없습니다"), gone: true))
                : .success(context.processes)
        case .command(let command):
            let found = context.processes.filter { $0.matches(command) }
            return found.isEmpty
                ? .failure(Unresolved(Message("no `\(command)` process is running in the lab", ko: "랩에 `\(command)` 프로세스가 없습니다"), gone: true))
                : .success(found)
        }
    }

    public struct Unresolved: Error, Sendable {
        public var message: Message
        /// There is simply no such process (as opposed to: it cannot be told which).
        public var gone = false
        init(_ message: Message, gone: Bool = false) {
            self.message = message
            self.gone = gone
        }
    }
}
