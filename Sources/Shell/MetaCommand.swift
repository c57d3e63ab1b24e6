/// A line that starts with `:` is for Gantry, not the lab.
enum MetaCommand: Equatable {
    case help
    case lessons
    case open(String)
    case step(Int?)
    case show
    case hint
    case check
    case next
    case previous
    case skip
    case solve
    case reset
    case progress
    case language(String?)
    case quit

    struct Entry {
        var name: String
        var arguments: String
        var summary: String
        /// The summary in Korean, for `:lang ko`.
        var korean: String

        func summary(in language: String) -> String { language == "ko" ? korean : summary }
    }

    /// Every command, in the order `:help` lists them; completion offers the names.
    static let catalog: [Entry] = [
        Entry(name: "help", arguments: "", summary: "this list", korean: "이 목록"),
        Entry(name: "lessons", arguments: "", summary: "the lessons, with what you have done", korean: "레슨 목록과 한 일"),
        Entry(name: "open", arguments: "ID", summary: "open a lesson in a fresh lab, where you left it", korean: "레슨을 새 랩에서 열기 (하던 곳부터)"),
        Entry(name: "step", arguments: "[N]", summary: "go to step N (the lab stays as it is), or show this one", korean: "N단계로 가기 (랩은 그대로), 또는 지금 단계 보기"),
        Entry(name: "show", arguments: "", summary: "show this step's text again", korean: "이 단계의 글 다시 보기"),
        Entry(name: "hint", arguments: "", summary: "the next hint for this step", korean: "이 단계의 다음 힌트"),
        Entry(name: "check", arguments: "", summary: "say what this step still expects, and what was seen", korean: "이 단계가 아직 기다리는 것과 본 것"),
        Entry(name: "next", arguments: "", summary: "the next step, once this one is done", korean: "다음 단계 (이 단계를 마친 뒤)"),
        Entry(name: "prev", arguments: "", summary: "the step before", korean: "이전 단계"),
        Entry(name: "skip", arguments: "", summary: "pass this step without doing it (recorded)", korean: "하지 않고 넘어가기 (기록됨)"),
        Entry(name: "solve", arguments: "", summary: "show the reference commands for this step (recorded)", korean: "이 단계의 예시 명령 보기 (기록됨)"),
        Entry(name: "reset", arguments: "", summary: "a fresh lab, brought to the start of this step", korean: "새 랩으로, 이 단계의 시작 상태에서"),
        Entry(name: "progress", arguments: "", summary: "a table of lessons and steps: done, attempts, hints, time", korean: "레슨과 단계 표: 완료, 시도, 힌트, 시간"),
        Entry(name: "lang", arguments: "en|ko", summary: "the language of the lesson text", korean: "레슨 글의 언어"),
        Entry(name: "quit", arguments: "", summary: "end the session (the lab goes away; progress is kept)", korean: "세션 끝내기 (랩은 사라지고 진행은 남습니다)"),
    ]

    /// Parses `:name args`; the error says what was wrong and what exists.
    static func parse(_ line: String) -> Result<MetaCommand, MetaCommandError> {
        let words = line.dropFirst().split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard let name = words.first else { return .failure(MetaCommandError("':' alone does nothing; :help lists the commands")) }
        let arguments = Array(words.dropFirst())
        func none(_ command: MetaCommand) -> Result<MetaCommand, MetaCommandError> {
            arguments.isEmpty ? .success(command) : .failure(MetaCommandError(":\(name) takes no arguments"))
        }
        switch name {
        case "help", "h", "?": return none(.help)
        case "lessons": return none(.lessons)
        case "open":
            guard arguments.count == 1 else { return .failure(MetaCommandError(":open takes a lesson id, like :open uts (:lessons lists them)")) }
            return .success(.open(arguments[0]))
        case "step":
            if arguments.isEmpty { return .success(.step(nil)) }
            guard arguments.count == 1, let number = Int(arguments[0]), number >= 1 else {
                return .failure(MetaCommandError(":step takes a step number, like :step 2"))
            }
            return .success(.step(number))
        case "show": return none(.show)
        case "hint": return none(.hint)
        case "check": return none(.check)
        case "next", "n": return none(.next)
        case "prev", "previous", "p": return none(.previous)
        case "skip": return none(.skip)
        case "solve", "solution": return none(.solve)
        case "reset": return none(.reset)
        case "progress": return none(.progress)
        case "lang", "language":
            guard arguments.count <= 1 else { return .failure(MetaCommandError(":lang takes one language, en or ko")) }
            return .success(.language(arguments.first))
        case "quit", "q", "exit": return none(.quit)
        default:
            let names = catalog.map { ":" + $0.name }.joined(separator: " ")
            return .failure(MetaCommandError("unknown command :\(name) (known: \(names))"))
        }
    }
}

struct MetaCommandError: Error, Equatable, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
