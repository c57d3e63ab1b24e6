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
    }

    /// Every command, in the order `:help` lists them; completion offers the names.
    static let catalog: [Entry] = [
        Entry(name: "help", arguments: "", summary: "this list"),
        Entry(name: "lessons", arguments: "", summary: "the lessons, with what you have done"),
        Entry(name: "open", arguments: "ID", summary: "open a lesson in a fresh lab, where you left it"),
        Entry(name: "step", arguments: "[N]", summary: "go to step N (the lab stays as it is), or show this one"),
        Entry(name: "show", arguments: "", summary: "show this step's text again"),
        Entry(name: "hint", arguments: "", summary: "the next hint for this step"),
        Entry(name: "check", arguments: "", summary: "say what this step still expects, and what was seen"),
        Entry(name: "next", arguments: "", summary: "the next step, once this one is done"),
        Entry(name: "prev", arguments: "", summary: "the step before"),
        Entry(name: "skip", arguments: "", summary: "pass this step without doing it (recorded)"),
        Entry(name: "solve", arguments: "", summary: "show the reference commands for this step (recorded)"),
        Entry(name: "reset", arguments: "", summary: "a fresh lab, brought to the start of this step"),
        Entry(name: "progress", arguments: "", summary: "a table of lessons and steps: done, attempts, hints, time"),
        Entry(name: "lang", arguments: "en|ko", summary: "the language of the lesson text"),
        Entry(name: "quit", arguments: "", summary: "end the session (the lab goes away; progress is kept)"),
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
