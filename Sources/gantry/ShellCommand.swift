import ArgumentParser
import Cgroups
internal import Glibc
import Isolation
import Lab
import Ledger
import Lessons
internal import POSIXSupport
import Shell
internal import Terminal
import Transcripts

/// `gantry` / `gantry shell [LESSON]`: the REPL a learner works in.
struct ShellCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shell",
        abstract: "Follow a lesson in a disposable lab, checked as you go (what `gantry` alone runs).",
        discussion: """
            Every line you type runs in the lab's shell; after each command the step's \
            expectations are checked, and a ✓ moves you on. Lines starting with ':' are \
            Gantry's: :help lists them (:hint, :check, :solve, :reset, :progress, :lang ko, :quit). \
            Without LESSON, the lesson you worked on last is resumed where you left it.

            With standard input not a terminal (gantry shell uts < commands.txt), lines are \
            read plainly, the same checks run, and the exit status is 1 if a step you worked \
            on did not pass.

            History is kept in $XDG_STATE_HOME/gantry/history, progress in \
            $XDG_DATA_HOME/gantry/progress (defaults ~/.local/state and ~/.local/share).
            """)

    @Argument(help: ArgumentHelp("The lesson to open (an id from `gantry lessons`).", valueName: "lesson"))
    var lesson: String?
    @Option(help: ArgumentHelp("Open at step N (1-based); the lab is brought to its start.", valueName: "n"))
    var step: Int?
    @OptionGroup var lessons: LessonDirectoryOption
    @Option(help: ArgumentHelp("Record into this file (default: $XDG_DATA_HOME/gantry/transcripts/, a file per lesson visit).", valueName: "file"))
    var transcript: String?
    @Flag(name: .customLong("no-record"), help: "Do not record this session.")
    var noRecord = false
    @Option(help: ArgumentHelp("The learner's name in the transcript (default: $USER).", valueName: "name"))
    var learner: String?

    func validate() throws {
        if noRecord && transcript != nil { throw ValidationError("--transcript and --no-record contradict each other") }
        if let step, step < 1 { throw ValidationError("--step counts from 1") }
        if step != nil && lesson == nil { throw ValidationError("--step needs a LESSON") }
    }

    func run() throws {
        let status = try Self.open(request)
        if status != 0 { throw ExitCode(status) }
    }

    /// What the options ask for, as plain values.
    var request: Request {
        Request(lesson: lesson, step: step, lessonsDirectory: lessons.given, transcript: transcript, noRecord: noRecord, learner: learner)
    }

    /// A shell session as asked for: `open` runs it.
    struct Request: Equatable {
        var lesson: String?
        var step: Int?
        var lessonsDirectory: String?
        var transcript: String?
        var noRecord = false
        var learner: String?

        /// The forms a learner types most (`gantry`, `gantry shell uts`, with `--lessons DIR`
        /// or `--no-record`), read without ArgumentParser, whose first parse reflects over
        /// every command (~3 ms of the REPL's start); anything else is nil and parsed as usual.
        /// A test holds these to what ArgumentParser makes of them.
        init?(quickParsing arguments: [String]) {
            var rest = arguments[...]
            if rest.first == "shell" {
                rest = rest.dropFirst()
            } else if !rest.isEmpty {
                return nil
            }
            while let word = rest.popFirst() {
                switch word {
                case "--no-record":
                    guard !noRecord else { return nil }
                    noRecord = true
                case "--lessons":
                    guard lessonsDirectory == nil, let value = rest.popFirst(), !value.hasPrefix("-") else { return nil }
                    lessonsDirectory = value
                default:
                    guard lesson == nil, !word.hasPrefix("-") else { return nil }
                    lesson = word
                }
            }
        }

        init(lesson: String?, step: Int?, lessonsDirectory: String?, transcript: String?, noRecord: Bool, learner: String?) {
            (self.lesson, self.step, self.lessonsDirectory) = (lesson, step, lessonsDirectory)
            (self.transcript, self.noRecord, self.learner) = (transcript, noRecord, learner)
        }
    }

    /// Runs the session; its exit status. A lesson that is not there is a ValidationError,
    /// a host that cannot build labs ExitCode(1).
    static func open(_ request: Request) throws -> Int32 {
        let directory = request.lessonsDirectory ?? LessonLocator.defaultDirectory()
        // What the host supports is found by starting a probe sandbox, which mostly waits on
        // the kernel: on a thread of its own, while this one parses the course.
        let probing = Background { HostSupport.detect(remembering: Ledger.defaultDirectory()) }
        let (found, errors) = LessonRunner.load(LessonRunner.lessonFiles([directory]))
        let support = probing.value
        for error in errors { printError("\(error)") }
        if let lesson = request.lesson, !found.contains(where: { $0.id == lesson }) {
            throw ValidationError("no lesson '\(lesson)' in \(directory) (there are: \(found.map(\.id).sorted().joined(separator: ", ")))")
        }
        guard support.canBuildLabs else {
            printError("No lab can be built on this host: `gantry doctor` says what is missing and how to fix it.")
            throw ExitCode(1)
        }
        let interactive = REPL.hasTerminal
        let options = ShellSession.Options(
            lessonsDirectory: directory, lessonID: request.lesson, step: request.step,
            paths: ShellPaths.fromEnvironment(), interactive: interactive)
        let session = ShellSession(
            options: options, lessons: found, support: support,
            width: TextStyle.width(forColumns: Int(TerminalSize.current().columns)))
        let recorder = request.noRecord ? nil : makeRecorder(request, paths: options.paths, support: support)
        if let recorder { session.addObserver(recorder) }
        let status = REPL.run(session)
        for file in recorder?.files ?? [] { printError("Transcript: \(file)") }
        return status
    }

    private static func makeRecorder(_ request: Request, paths: ShellPaths, support: HostSupport) -> Recorder {
        var name = utsname()
        uname(&name)
        let kernel = withUnsafeBytes(of: name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let layout = (try? CgroupManager.host().driver.layout.mode.rawValue) ?? "none"
        let host = TranscriptHeader.HostFacts(
            kernel: kernel, cgroups: layout, root: geteuid() == 0, capabilities: support.findings.filter(\.available).map(\.capability))
        let settings = Recorder.Settings(
            directory: paths.dataDirectory + "/transcripts", file: request.transcript,
            learner: request.learner ?? getenv("USER").map { String(cString: $0) } ?? "uid \(getuid())", host: host, gantryVersion: Gantry.version,
            terminal: getenv("TERM").map { String(cString: $0) })
        return Recorder(
            settings: settings,
            size: {
                let size = TerminalSize.current()
                return (Int(size.columns), Int(size.rows))
            },
            tell: { printError($0) })
    }
}
