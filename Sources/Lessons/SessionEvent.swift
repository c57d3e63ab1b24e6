public import Lab

/// What happens in a lesson session, as typed events: the engine (`LessonSession`) emits
/// them, the REPL renders them, the recorder writes every one into the transcript, replay
/// compares them, tests assert on the stream. Text for the learner is carried as `Message`
/// (both languages) or as facts the renderer words; only `output` is text as shown.
public enum SessionEvent: Sendable, Equatable {
    /// A lesson opened at a step (0-based), before its lab is built: the start of one
    /// transcript.
    case lessonOpened(LessonOpened)
    /// The lesson cannot run on this host (a capability is missing), or its lab could not be
    /// built or its shell started.
    case cannotRun(lesson: String, reason: String)
    case labFailed(String)
    /// A fresh lab is up, with its shell at the prompt.
    case labReady(LabReady)
    /// A fresh lab is being brought to the start of step `index` by the lesson's own commands.
    case preparing(index: Int, commands: Int)
    case preparationCommand(String)
    case preparationFailed(line: Int, message: String)
    /// A step shown to the learner (index 0-based).
    case stepOpened(index: Int, id: String, title: String)
    /// What the terminal showed, exactly (Gantry's own text, the lab's output, the prompt).
    case output(String)
    /// A line the learner typed, and where it went.
    case lineSent(text: String, target: LineTarget)
    /// The line with the values the lesson captured put in (`kill {{loop}}` → `kill 4242`).
    case substituted(String)
    /// Bytes forwarded to a program that holds the terminal; `redacted` when the program
    /// had turned echo off (a password), and then `text` is not what was typed.
    case keystrokes(text: String, redacted: Bool)
    /// The command a line started has ended.
    case commandEnded(status: Int32, milliseconds: Int)
    /// The shell asked for more of a command (`for …; do`) and none came: it was dropped.
    case continuationDropped
    /// The lab's own shell ended (`exit`); a new one was started, or could not be (`failure`).
    case shellRestarted(reason: String?, failure: String?)
    /// Commands counted as work on the step (a line in a running program counts too).
    case worked(step: String, commands: Int)
    /// A check that takes a window (CPU use) is being measured.
    case measuring
    /// One evaluation of a step's checks: each expectation, whether it held, what was seen.
    case checkEvaluated(CheckEvaluation)
    /// Something the learner did is wrong, said once: what, and how many hints are left.
    case wrongTurn(step: String, message: Message, hintsLeft: Int)
    /// A program the course notes use that a lab has no place for, and what to use instead.
    case missingProgram(name: String, pointer: Message)
    /// Hint `number` (1-based, as counted for the learner) of `count`; `hint` is its index in
    /// the step's hints, which are shown in the order that fits what is wrong.
    case hintShown(step: String, number: Int, count: Int, hint: Int)
    /// `:hint` with none left (`count` is how many the step has).
    case noMoreHints(step: String, count: Int)
    /// `:solve`: the step's reference commands, with this lab's captured values.
    case solutionShown(step: String, commands: [String])
    case reset(step: String)
    case skipped(step: String)
    /// A step completed: by its own checks (`why` is the first that held), or overtaken by
    /// a later one that holds.
    case stepDone(step: String, index: Int, overtaken: Bool, why: Message?)
    /// One command did the steps `from` through `to` (0-based) at once.
    case stepsOvertaken(from: Int, to: Int)
    /// The last step of the lesson is done.
    case lessonComplete(id: String)
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
        /// The step it opened at (0-based).
        public var index: Int
        public init(id: String, title: String, file: String, steps: [String], language: String, index: Int = 0) {
            self.id = id
            self.title = title
            self.file = file
            self.steps = steps
            self.language = language
            self.index = index
        }
    }

    public struct LabReady: Sendable, Equatable {
        public var milliseconds: Int
        public var hostname: String
        /// Host directories the lab sees read-only and unmapped (owned by nobody).
        public var unmapped: [String]
        /// Whether the lab has a cgroup (limits); rootless without delegation it has none.
        public var limited: Bool
        public init(milliseconds: Int, hostname: String, unmapped: [String], limited: Bool) {
            self.milliseconds = milliseconds
            self.hostname = hostname
            self.unmapped = unmapped
            self.limited = limited
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
        /// The next line of a command the shell said was not finished (`for …; do`).
        case continuation
    }

    /// Why the checks were evaluated.
    public enum CheckPurpose: String, Sendable, Equatable {
        /// After a command the learner ran (or lines entered in a running program).
        case command
        /// `:check`: every expectation, reported to the learner.
        case report
        /// `gantry test`, at the end of a step's reference commands.
        case test
    }

    public struct CheckEvaluation: Sendable, Equatable {
        public var step: String
        public var passed: Bool
        public var purpose: CheckPurpose
        /// Commands run in the step so far.
        public var commandsRun: Int
        public var expectations: [ExpectationResult]
        public init(step: String, passed: Bool, purpose: CheckPurpose, commandsRun: Int, expectations: [ExpectationResult]) {
            self.step = step
            self.passed = passed
            self.purpose = purpose
            self.commandsRun = commandsRun
            self.expectations = expectations
        }
    }

    public struct ExpectationResult: Sendable, Equatable {
        /// The check's line in the lesson file.
        public var line: Int
        public var expectation: Message
        public var passed: Bool
        public var seen: Message
        public init(line: Int, expectation: Message, passed: Bool, seen: Message) {
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

/// How a command gets the terminal while it runs: the REPL makes one per mode, `gantry test`
/// and replay their own.
public struct CommandIO {
    /// Descriptors to watch while the command runs (the keyboard, signals).
    public var watches: [LabShell.Watch] = []
    /// Called before the command runs and after it ends (raw mode on, off).
    public var willRun: () -> Void = {}
    public var didRun: () -> Void = {}
    /// Shows what the command prints, as it comes.
    public var stream: ((String) -> Void)?
    /// Everything the command printed, once it ended and before the step is checked (to show
    /// it, when it was not streamed, and to end a last line that had no newline).
    public var finished: (String) -> Void = { _ in }
    /// The next line of a command the shell says is not finished (`for …; do`); nil gives up.
    public var continuation: () -> String? = { nil }
    /// Called when the running command has been quiet for a moment.
    public var onQuiet: (() -> Void)?
    /// Gives up on the running command (the session was told to end).
    public var stopWhen: (() -> Bool)?
    /// Interrupts a command that runs longer (`gantry test`: 60 s); nil waits.
    public var timeoutMilliseconds: Int?
    /// Whether a line the shell says is unfinished stops the run to ask `continuation`
    /// (a person typing); off, a command with its continuation lines is sent whole.
    public var asksForContinuation = true
    /// Whether the terminal echoes while the command runs (a person types into programs).
    public var echoes = false

    public init() {}
}
