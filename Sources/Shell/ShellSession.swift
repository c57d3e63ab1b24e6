internal import Glibc
public import Lab
public import Lessons
internal import POSIXSupport
internal import Terminal

/// One learner's session at a terminal: the session engine (`LessonSession`) that runs the
/// lesson, and what the learner sees of it and keeps. The REPL loop (`REPL`) feeds it lines;
/// meta-commands become engine calls, other lines run in the lab; the engine's events are
/// rendered here (`ShellSession+Rendering`) and kept in the progress file.
///
/// Single-threaded: it lives on the thread that runs the REPL.
public final class ShellSession {
    public struct Options: Sendable {
        public var lessonsDirectory: String
        /// The lesson to open; nil resumes the last one (or starts the course).
        public var lessonID: String?
        /// The step to open at (1-based); nil resumes where the learner left off.
        public var step: Int?
        public var paths: ShellPaths
        /// A person at a terminal (line editing, colour, the terminal handed to programs).
        public var interactive: Bool

        public init(lessonsDirectory: String, lessonID: String?, step: Int?, paths: ShellPaths, interactive: Bool) {
            self.lessonsDirectory = lessonsDirectory
            self.lessonID = lessonID
            self.step = step
            self.paths = paths
            self.interactive = interactive
        }
    }

    let options: Options
    let lessons: [Lesson]
    /// The engine; more observers (the recorder) join with `addObserver`.
    public let engine: LessonSession
    var style: TextStyle
    let store: ProgressStore
    var progress: Progress
    /// False when an unreadable progress file could not be moved aside: never write over it.
    var canSave = true
    /// The progress as the file holds it: what is unchanged is not written again.
    var saved: Progress?
    /// Non-interactive runs exit non-zero when a step a learner worked on did not pass.
    public internal(set) var failedSteps: [String] = []
    var lastActivity = ContinuousClock.now
    /// The terminal is in raw mode (a program runs): lines end in CR LF.
    var rawOutput = false
    /// A signal (SIGTERM, SIGHUP, or SIGINT without a terminal) asked the session to end.
    public internal(set) var quitRequested: Int32 = 0
    /// Why the session ends, for the last event (set by the REPL).
    public var endReason = "quit"
    /// `:quit` was typed (rather than the input ending).
    var quitTyped = false

    public init(options: Options, lessons: [Lesson], support: HostSupport, width: Int) {
        self.options = options
        self.lessons = Lesson.courseOrder(lessons)
        engine = LessonSession(support: support)
        style = options.interactive ? TextStyle.forStandardOutput(width: width) : TextStyle(colors: false, width: width)
        store = ProgressStore(file: options.paths.progressFile)
        progress = Progress()
        engine.observers = [Renderer(self)]
        if options.interactive { engine.terminalSize = { TerminalSize.current() } }
    }

    /// Hears the engine for the session without keeping it alive (the engine is the
    /// session's).
    final class Renderer: SessionObserver {
        weak var session: ShellSession?
        init(_ session: ShellSession) { self.session = session }
        func observe(_ event: SessionEvent) { session?.render(event) }
    }

    /// `observer` hears each event before the screen shows it: what the learner sees is
    /// already on disk (a `kill -9` right after a ✓ still finds the step done in the file).
    public func addObserver(_ observer: any SessionObserver) {
        engine.observers.insert(observer, at: engine.observers.count - 1)
    }

    var support: HostSupport { engine.support }
    var shell: LabShell? { engine.shell }

    // MARK: Output

    /// Everything the terminal shows passes here (and through `Screen.write`), so the
    /// observers see it as the learner did.
    func show(_ text: String) {
        Screen.write(text)
        engine.emit(.output(text))
    }

    /// A line (or lines) of Gantry's own, each fitted to the terminal's width at word
    /// boundaries (`wrapped`); without a terminal, as they are (a file has no edge).
    func say(_ text: String = "") {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if options.interactive { lines = lines.flatMap { wrapped($0, width: style.width) } }
        let shown = lines.joined(separator: "\n") + "\n"
        show(rawOutput ? shown.replacing("\n", with: "\r\n") : shown)
    }

    /// The terminal changed size: Gantry's text follows.
    func resized(columns: Int) { style.width = TextStyle.width(forColumns: columns) }

    func sayLines(_ lines: [String]) { for line in lines { say(line) } }

    /// Gantry's own words in the learner's language: English, or Korean with `:lang ko`.
    func words(_ english: String, _ korean: String) -> String { progress.language == "ko" ? korean : english }

    // MARK: Starting and ending

    /// Loads progress and opens the lesson to work on; false when nothing can be opened.
    public func start() -> Bool {
        let loaded = store.load()
        progress = loaded.progress
        saved = loaded.notice == nil ? loaded.progress : nil
        engine.language = progress.language
        if let notice = loaded.notice {
            say(style.bad("The progress file could not be read: ") + notice)
            canSave = loaded.canSave
        }
        guard !lessons.isEmpty else {
            say(style.bad("No lessons in \(options.lessonsDirectory).") + " Give the directory with --lessons DIR.")
            return false
        }
        let id = options.lessonID ?? progress.currentLesson ?? lessons[0].id
        let lesson = lessons.first { $0.id == id }
        if lesson == nil { say(style.bad("No lesson '\(id)'.") + " Lessons: " + lessons.map(\.id).joined(separator: ", ")) }
        if let lesson, open(lesson, step: options.step) { return true }
        // Resuming (no lesson named): the first lesson this host can run, rather than nothing.
        guard options.lessonID == nil, let fallback = lessons.first(where: { support.missingRequirements($0) == nil }),
            fallback.id != lesson?.id
        else { return false }
        say("Opening '\(fallback.id)' instead.")
        return open(fallback, step: nil)
    }

    /// Opens `lesson` at `step` (1-based), or where the learner left it.
    func open(_ lesson: Lesson, step requested: Int?) -> Bool {
        let record = progress.lessons[lesson.id]
        var index = (requested ?? record?.step ?? 1) - 1
        if requested == nil && index >= lesson.steps.count { index = 0 }  // finished: start over
        return engine.open(lesson, at: index) || (engine.lesson != nil && engine.lab != nil)
    }

    /// Tears the lab down and saves progress.
    public func end() {
        let lesson = engine.lesson
        engine.end(reason: endReason)
        guard let lesson else { return }
        let record = progress.lessons[lesson.id]
        let done = progress.stepsDone(in: lesson)
        let next = record.flatMap { $0.step <= lesson.steps.count ? $0.step : nil }
        say(
            style.dim(
                words(
                    "Lab removed. Progress saved: \(lesson.id) \(done)/\(lesson.steps.count) steps done"
                        + (next.map { ", next time at step \($0)" } ?? "") + ".",
                    "랩을 지웠습니다. 진행을 저장했습니다: \(lesson.id) \(lesson.steps.count)단계 중 \(done)단계 완료" + (next.map { ", 다음에는 \($0)단계부터" } ?? "") + ".")
            ))
    }

    /// Writes the progress file if the progress changed since it was last written: each
    /// write is two fsyncs, and most events (a line whose seconds round to none, a lesson's
    /// opening then its step's) change nothing.
    func save() {
        guard canSave, progress != saved else { return }
        do {
            try store.save(progress)
            saved = progress
        } catch { say(style.bad("Progress not saved: ") + "\(error)") }
    }

    /// Adds the time since the last thing the learner did to the current step (a gap of
    /// more than five minutes counts as five: the learner was away).
    func account() {
        let now = ContinuousClock.now
        let seconds = min(lastActivity.duration(to: now).components.seconds, 300)
        lastActivity = now
        // A finished lesson is finished: no more time on its last step.
        guard let lesson = engine.lesson, let step = engine.step, !engine.lessonFinished else { return }
        progress[lesson.id, step.id].seconds += Int(seconds)
    }

    // MARK: Lines

    public enum Next { case more, quit }

    /// One line from the learner: a meta-command, or a command for the lab.
    func handle(_ line: String, io: CommandIO) -> Next {
        if line.hasPrefix(":") {
            engine.emit(.lineSent(text: line, target: .gantry))
            switch MetaCommand.parse(line) {
            case .success(let command): return perform(command)
            case .failure(let error):
                say(style.bad(error.description))
                return .more
            }
        }
        if line.trimmed.isEmpty { return .more }
        guard engine.shell != nil else {
            say(style.bad("There is no lab.") + " :open a lesson, or :reset.")
            return .more
        }
        var io = io
        let shown = io.finished
        io.finished = { [unowned self] output in
            shown(output)
            if !output.isEmpty && !output.hasSuffix("\n") { show(style.dim("⏎") + "\n") }
        }
        engine.run(line, io: io)
        return .more
    }

    /// Without a terminal, at the end of input: the step being worked on, if it did not pass.
    func unfinishedStepReport() -> String? {
        guard let lesson = engine.lesson, let unfinished = engine.unfinishedStep() else { return nil }
        let language = progress.language
        let reason = unfinished.failed.map { "\($0.description.text(language)): \(unfinished.message?.text(language) ?? "")" } ?? "not done"
        return
            "Step \(unfinished.index + 1) of \(lesson.id) ('\(unfinished.step.title(in: language))') did not pass: \(reason) (\(lesson.file):\(unfinished.failed?.line ?? unfinished.step.line))"
    }

    // MARK: The prompt

    /// `[uts 2/3] root@con01:/# `, with the last status when it was not 0. `readline` marks
    /// escape sequences with \001 … \002 so it can measure the prompt.
    func prompt(forReadline: Bool) -> String {
        func paint(_ code: String, _ text: String) -> String { style.sgr(code, text, forReadline: forReadline) }
        var where_ = "gantry"
        if let lesson = engine.lesson, let step = engine.step {
            let done = progress[lesson.id, step.id].done
            where_ = "\(lesson.id) \(engine.index + 1)/\(lesson.steps.count)" + (done ? " ✓" : "")
        }
        var text = paint("36", "[\(where_)]") + " "
        if engine.lastStatus != 0 { text += paint("31", "✗\(engine.lastStatus)") + " " }
        text += engine.shellPrompt.isEmpty ? "$ " : engine.shellPrompt
        if !text.hasSuffix(" ") { text += " " }
        return text
    }
}
