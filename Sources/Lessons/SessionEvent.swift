/// What happens in a lesson session, as typed events: the REPL renders what it says, the
/// recorder writes every one into the transcript, tests assert on the stream. The start of
/// the session engine's interface (DESIGN.md, "Layers"): whoever runs a lesson emits these.
public enum SessionEvent: Sendable, Equatable {
    /// A lesson opened in a fresh lab: the start of one transcript.
    case lessonOpened(LessonOpened)
    /// A step shown to the learner (index 0-based).
    case stepOpened(index: Int, id: String, title: String)
    /// What the terminal showed, exactly (Gantry's own text, the lab's output, the prompt).
    case output(String)
    /// A line the learner typed, and where it went.
    case lineSent(text: String, target: LineTarget)
    /// Bytes forwarded to a program that holds the terminal; `redacted` when the program
    /// had turned echo off (a password), and then `text` is not what was typed.
    case keystrokes(text: String, redacted: Bool)
    /// The command a line started has ended.
    case commandEnded(status: Int32, milliseconds: Int)
    /// One evaluation of a step's checks: each expectation, whether it held, what was seen.
    case checkEvaluated(step: String, passed: Bool, expectations: [ExpectationResult])
    case hintShown(step: String, number: Int)
    case solutionShown(step: String)
    case reset(step: String)
    case skipped(step: String)
    /// A step completed: by its own checks, or overtaken by a later one that holds.
    case stepDone(step: String, overtaken: Bool)
    /// The terminal changed size.
    case resized(columns: Int, rows: Int)
    /// The session (or this lesson's part of it) ended, and why: quit, end of input, a
    /// signal, another lesson opened, the lab failed.
    case ended(reason: String)

    public struct LessonOpened: Sendable, Equatable {
        public var id: String
        public var title: String
        public var file: String
        public var steps: [String]
        public var language: String
        public init(id: String, title: String, file: String, steps: [String], language: String) {
            self.id = id
            self.title = title
            self.file = file
            self.steps = steps
            self.language = language
        }
    }

    public enum LineTarget: Sendable, Equatable {
        /// The lab's own shell.
        case labShell
        /// A shell started inside it (`unshare -u /bin/bash`), at this depth (2 = one in).
        case nestedShell(depth: Int)
        /// A program that holds the terminal (`top`, `python3`).
        case program
        /// Gantry's own meta-command (`:hint`).
        case gantry
    }

    public struct ExpectationResult: Sendable, Equatable {
        public var line: Int
        public var expectation: String
        public var passed: Bool
        public var seen: String
        public init(line: Int, expectation: String, passed: Bool, seen: String) {
            self.line = line
            self.expectation = expectation
            self.passed = passed
            self.seen = seen
        }
    }
}

/// Who hears a session's events (the REPL's renderer, the recorder, a test).
public protocol SessionObserver: AnyObject {
    func observe(_ event: SessionEvent)
}
