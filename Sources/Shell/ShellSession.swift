internal import Glibc
internal import Isolation
public import Lab
public import Lessons
internal import POSIXSupport
internal import Terminal

/// One learner's session: a lesson open at a step, the lab it runs in, the shell in that
/// lab, and the progress file. The REPL loop (`REPL`) feeds it lines; it runs them in the lab
/// or as meta-commands, checks the step after each command, and says what happened.
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

    /// The lesson being followed, and the learner's place in it.
    struct Place {
        var lesson: Lesson
        var index: Int
        var tracker: StepTracker
        var hintsShown = 0
        /// Completed during this visit (the last step of a lesson stays current after).
        var completed = false
        /// Later steps whose lab state already held when this one opened, which therefore
        /// cannot show that the learner went ahead.
        var overtaking = Overtaking()
        /// The lines of this step's checks that held when it opened: one that fails later
        /// was broken by the learner, which is worth saying at once.
        var heldAtStart: Set<Int> = []
        /// What the learner was last told was wrong: said once, not after every command.
        var lastTold: Message?
        var step: Step { lesson.steps[index] }
    }

    let options: Options
    let lessons: [Lesson]
    let runner: LessonRunner
    var style: TextStyle
    let store: ProgressStore
    var progress: Progress
    /// False when an unreadable progress file could not be moved aside: never write over it.
    var canSave = true
    var place: Place?
    /// Placeholders captured from the learner's outputs in this lesson ({{loop}}).
    var matcher = OutputMatcher()
    var lab: Lab?
    var shell: LabShell?
    /// The waiting shell's own prompt (`root@dockeredu:~#`), shown inside Gantry's.
    var shellPrompt = ""
    var lastStatus: Int32 = 0
    /// Non-interactive runs exit non-zero when a step a learner worked on did not pass.
    public internal(set) var failedSteps: [String] = []
    var lastActivity = ContinuousClock.now
    /// The terminal is in raw mode (a program runs): lines end in CR LF.
    var rawOutput = false
    /// A signal (SIGTERM, SIGHUP, or SIGINT without a terminal) asked the session to end.
    public internal(set) var quitRequested: Int32 = 0
    /// Who hears what happens (the recorder); the REPL itself renders directly for now.
    public var observers: [any SessionObserver] = []
    /// Why the session ends, for the last event (set by the REPL).
    public var endReason = "quit"
    /// `:quit` was typed (rather than the input ending).
    var quitTyped = false

    public init(options: Options, lessons: [Lesson], support: HostSupport, width: Int) {
        self.options = options
        self.lessons = Lesson.courseOrder(lessons)
        runner = LessonRunner(support: support)
        style = options.interactive ? TextStyle.forStandardOutput(width: width) : TextStyle(colors: false, width: width)
        store = ProgressStore(file: options.paths.progressFile)
        progress = Progress()
    }

    // MARK: Output

    func emit(_ event: SessionEvent) {
        for observer in observers { observer.observe(event) }
    }

    /// Everything the terminal shows passes here (and through `Screen.write`), so the
    /// observers see it as the learner did.
    func show(_ text: String) {
        Screen.write(text)
        if !observers.isEmpty { emit(.output(text)) }
    }

    func say(_ text: String = "") {
        show(rawOutput ? (text + "\n").replacing("\n", with: "\r\n") : text + "\n")
    }

    func sayLines(_ lines: [String]) { for line in lines { say(line) } }

    /// Gantry's own words in the learner's language: English, or Korean with `:lang ko`.
    func words(_ english: String, _ korean: String) -> String { progress.language == "ko" ? korean : english }

    // MARK: Starting and ending

    /// Loads progress and opens the lesson to work on; false when nothing can be opened.
    public func start() -> Bool {
        let loaded = store.load()
        progress = loaded.progress
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
        guard options.lessonID == nil, let fallback = lessons.first(where: { runner.missingRequirements($0) == nil }),
            fallback.id != lesson?.id
        else { return false }
        say("Opening '\(fallback.id)' instead.")
        return open(fallback, step: nil)
    }

    /// Tears the lab down and saves progress.
    public func end() {
        account()
        save()
        defer { emit(.ended(reason: endReason)) }
        shell = nil
        lab?.destroy()
        lab = nil
        if let place {
            let record = progress.lessons[place.lesson.id]
            let done = progress.stepsDone(in: place.lesson)
            let next = record.flatMap { $0.step <= place.lesson.steps.count ? $0.step : nil }
            say(
                style.dim(
                    words(
                        "Lab removed. Progress saved: \(place.lesson.id) \(done)/\(place.lesson.steps.count) steps done"
                            + (next.map { ", next time at step \($0)" } ?? "") + ".",
                        "랩을 지웠습니다. 진행을 저장했습니다: \(place.lesson.id) \(place.lesson.steps.count)단계 중 \(done)단계 완료" + (next.map { ", 다음에는 \($0)단계부터" } ?? "") + ".")
                ))
        }
    }

    func save() {
        guard canSave else { return }
        do { try store.save(progress) } catch { say(style.bad("Progress not saved: ") + "\(error)") }
    }

    /// Adds the time since the last thing the learner did to the current step (a gap of
    /// more than five minutes counts as five: the learner was away).
    func account() {
        let now = ContinuousClock.now
        let seconds = min(lastActivity.duration(to: now).components.seconds, 300)
        lastActivity = now
        // A finished lesson is finished: no more time on its last step.
        guard let place, !(place.completed && place.index == place.lesson.steps.count - 1) else { return }
        progress[place.lesson.id, place.step.id].seconds += Int(seconds)
    }

    // MARK: Lessons and labs

    /// Opens `lesson` in a fresh lab at `step` (1-based), or where the learner left it.
    func open(_ lesson: Lesson, step requested: Int?) -> Bool {
        account()
        if let missing = runner.missingRequirements(lesson) {
            say(style.bad("'\(lesson.id)' cannot run here: ") + missing + ".")
            say("`gantry doctor` says what this host can do; :lessons lists the others.")
            return place != nil
        }
        let record = progress.lessons[lesson.id]
        var index = (requested ?? record?.step ?? 1) - 1
        if requested == nil && index >= lesson.steps.count { index = 0 }  // finished: start over
        index = max(0, min(index, lesson.steps.count - 1))
        place = Place(lesson: lesson, index: index, tracker: StepTracker(step: lesson.steps[index], applies: runner.applies))
        emit(
            .lessonOpened(
                .init(
                    id: lesson.id, title: lesson.title(in: progress.language), file: lesson.file, steps: lesson.steps.map(\.id),
                    language: progress.language)))
        matcher = OutputMatcher()
        progress.currentLesson = lesson.id
        progress.lessons[lesson.id, default: Progress.LessonRecord()].step = index + 1
        save()
        say(style.heading(lesson.title(in: progress.language)))
        if index == 0 {
            let introduction = progress.language == "en" ? lesson.introduction : lesson.introductionTranslations[progress.language] ?? lesson.introduction
            sayLines(MarkdownRenderer(style: style).render(introduction.filter { !$0.hasPrefix("# ") }))
            say()
        }
        guard buildLab(for: lesson, preparingStep: index) else { return false }
        takeBaseline()
        showStep()
        return true
    }

    /// What of the later steps already holds, before the learner works on this one.
    func takeBaseline() {
        guard let lab, var place else { return }
        place.overtaking.takeBaseline(place.lesson, from: place.index, applies: runner.applies, lab: lab, captures: matcher.captures)
        let start = place.tracker.verdict(lab: lab, captures: matcher.captures, shell: shell?.foregroundProcess, look: .snapshot)
        place.heldAtStart = Set(start.expectations.filter { $0.passed && !$0.measurement }.map(\.line))
        self.place = place
    }

    /// The expected outputs that capture values (`[1] {{loop:int}}`), from every step.
    var capturingOutputs: [[ExpectedLine]] {
        guard let place else { return [] }
        return place.lesson.steps.flatMap { step in step.console.filter { runner.applies($0.capability) }.flatMap(\.commands).map(\.expected) }
    }

    /// A fresh lab for `lesson`, brought to the start of step `index` (0-based).
    func buildLab(for lesson: Lesson, preparingStep index: Int) -> Bool {
        shell = nil
        lab?.destroy()
        lab = nil
        let clock = ContinuousClock()
        let started = clock.now
        do {
            let lab = try Lab.create(lesson.labConfiguration)
            self.lab = lab
            try startShell(in: lab)
        } catch {
            say(style.bad("Could not build the lab: ") + "\(error)")
            say("`gantry doctor` checks what labs need; `gantry cleanup` removes what a crashed session left.")
            return false
        }
        let milliseconds = started.duration(to: clock.now).milliseconds
        say(
            style.dim(
                words(
                    "Lab ready in \(milliseconds) ms: hostname \(lesson.labConfiguration.hostname), its own namespaces, cgroup and /; nothing you do here touches this machine.",
                    "랩 준비 완료 (\(milliseconds)ms): 호스트 이름 \(lesson.labConfiguration.hostname), 자신만의 네임스페이스, cgroup, / — 여기서 하는 일은 이 머신에 닿지 않습니다.")))
        if let lab, !lab.unmappedDirectories.isEmpty {
            say(
                style.note(words("Read-only here: ", "여기서는 읽기 전용: ")) + lab.unmappedDirectories.joined(separator: " ")
                    + words(
                        " (this host's filesystem cannot be idmapped: the lab sees these files owned by nobody).",
                        " (이 호스트의 파일시스템은 idmap할 수 없어, 랩에서는 이 파일들의 주인이 nobody로 보입니다)."))
        }
        if lab?.cgroup == nil {
            say(
                style.note(words("No limits: ", "제한 없음: "))
                    + words(
                        "no cgroup is delegated to your user, so this lab has no memory or process limits and cgroup lessons cannot run.",
                        "사용자에게 위임된 cgroup이 없어, 이 랩에는 메모리·프로세스 제한이 없고 cgroup 레슨은 실행할 수 없습니다."))
        }
        if index > 0 { prepare(step: index) }
        return true
    }

    /// The learner's shell in `lab`: the size of Gantry's terminal, a prompt like any
    /// machine's (the hostname matters in these lessons), and a continuation marker so
    /// `for …; do` can be finished at Gantry's prompt.
    func startShell(in lab: Lab) throws(LabError) {
        let size = options.interactive ? TerminalSize.current() : (rows: 24, columns: 80)
        let shell = try LabShell(lab: lab, rows: size.rows, columns: size.columns)
        _ = try shell.run(#"PS1='\u@\h:\w\$ '; PS2='"# + LabShell.continuationPrompt + "'")
        shellPrompt = try shell.readPrompt()
        lastStatus = 0
        self.shell = shell
    }

    /// Runs what brings a fresh lab to the start of step `index`, and says so.
    func prepare(step index: Int) {
        guard let place, let shell else { return }
        let count = runner.preparation(for: place.lesson, step: index).count
        guard count > 0 else { return }
        say(
            style.dim(
                words(
                    "Bringing the lab to the start of step \(index + 1): \(count) command\(count == 1 ? "" : "s") from the lesson…",
                    "랩을 \(index + 1)단계의 시작 상태로 맞춥니다: 레슨의 명령 \(count)개…")))
        let failures = runner.prepare(place.lesson, step: index, shell: shell, matcher: &matcher) { command in
            self.say(self.style.dim("  $ " + command))
        }
        for failure in failures { say(style.bad("  \(failure.message)") + " (\(place.lesson.file):\(failure.line))") }
        shellPrompt = (try? shell.readPrompt()) ?? ""
        lastStatus = shell.lastStatus
    }

    /// The step's title and text, in the learner's language.
    func showStep() {
        guard let place else { return }
        let step = place.step
        let count = place.lesson.steps.count
        emit(.stepOpened(index: place.index, id: step.id, title: step.title(in: progress.language)))
        say()
        say(
            style.bold(progress.language == "ko" ? "\(place.index + 1)/\(count)단계: " : "Step \(place.index + 1)/\(count): ")
                + style.heading(step.title(in: progress.language)))
        if progress.language != "en" && step.translations[progress.language] == nil {
            say(style.dim("(no \(progress.language) text for this step; in English)"))
        }
        sayLines(MarkdownRenderer(style: style).render(step.prose(in: progress.language)))
        say(
            style.dim(
                progress.language == "ko"
                    ? ":hint 힌트 · :check 아직 남은 것 · :help 도움말"
                    : ":hint for a hint · :check to see what is still missing · :help for more"))
    }

    /// Moves to step `index` (0-based) without touching the lab.
    func move(to index: Int, quietly: Bool = false) {
        guard var place else { return }
        account()
        place.index = index
        place.tracker = StepTracker(step: place.lesson.steps[index], applies: runner.applies)
        place.completed = false
        place.hintsShown = 0
        place.lastTold = nil  // what was wrong in the last step is not this one's
        self.place = place
        progress.lessons[place.lesson.id, default: Progress.LessonRecord()].step = index + 1
        save()
        takeBaseline()
        if !quietly { showStep() }
    }

    /// Output that arrived while the learner is at Gantry's prompt (a background job), and
    /// whether a shell finished a command meanwhile (type-ahead): then the prompt is new.
    func idleOutput() -> (String, Bool) {
        guard let shell else { return ("", false) }
        do {
            let (text, finished) = try shell.readAvailable()
            if finished {
                shellPrompt = try shell.readPrompt()
                lastStatus = shell.lastStatus
            }
            return (text, finished)
        } catch {
            restartShell(after: error)
            return ("", true)
        }
    }

    /// Without a terminal, at the end of input: the step being worked on, if it did not pass.
    func unfinishedStepReport() -> String? {
        guard let place, let lab, place.tracker.commandsRun > 0, !place.completed else { return nil }
        let verdict = place.tracker.verdict(lab: lab, captures: matcher.captures, shell: shell?.foregroundProcess, look: .report)
        let language = progress.language
        let failed = wrongTurn(verdict, in: place, tries: 0) ?? verdict.failed.first
        // The wrong turn the learner was told of names the mistake better than the state
        // the lab was left in after it (the loop killed since, say).
        let message = place.lastTold ?? failed?.message
        let reason = failed.map { "\($0.description.text(language)): \(message?.text(language) ?? "")" } ?? "not done"
        return
            "Step \(place.index + 1) of \(place.lesson.id) ('\(place.step.title(in: language))') did not pass: \(reason) (\(place.lesson.file):\(failed?.line ?? place.step.line))"
    }

    // MARK: The prompt

    /// `[uts 2/3] root@con01:/# `, with the last status when it was not 0. `readline` marks
    /// escape sequences with \001 … \002 so it can measure the prompt.
    func prompt(forReadline: Bool) -> String {
        func paint(_ code: String, _ text: String) -> String { style.sgr(code, text, forReadline: forReadline) }
        var where_ = "gantry"
        if let place {
            let done = progress[place.lesson.id, place.step.id].done
            where_ = "\(place.lesson.id) \(place.index + 1)/\(place.lesson.steps.count)" + (done ? " ✓" : "")
        }
        var text = paint("36", "[\(where_)]") + " "
        if lastStatus != 0 { text += paint("31", "✗\(lastStatus)") + " " }
        text += shellPrompt.isEmpty ? "$ " : shellPrompt
        if !text.hasSuffix(" ") { text += " " }
        return text
    }
}
