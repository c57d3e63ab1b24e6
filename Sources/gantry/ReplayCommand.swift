import ArgumentParser
import Lab
import Lessons
import Transcripts

/// `gantry replay FILE [--verify]`: a recorded session re-run in a fresh lab.
struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Re-run a recorded session in a fresh lab, with the lesson it was made from.",
        discussion: """
            Every recorded line goes where it went (the lab's shell, the nested shell it was in), keys go to \
            the program that held the terminal at the times they were typed, hints, :solve, :reset, :skip and \
            step moves happen as recorded, and the same checks judge every step. With --verify the replay is \
            compared with the recording, step by step: each step's result, each check, each command's exit \
            status and output (pids, times and MAC addresses aside). Exit 0 when they agree, 1 otherwise.
            A broken or unsealed file, or one recorded with another version of the lesson, is refused.
            """)

    @Argument(help: ArgumentHelp("A transcript (.cast).", valueName: "file"))
    var file: String
    @Flag(help: "Compare the replay with the recording; exit 1 when they differ.")
    var verify = false
    @Flag(help: "Do not show the session as it runs.")
    var quiet = false
    @Flag(name: .customLong("allow-unsealed"), help: "Replay a session that did not end cleanly (what it holds).")
    var allowUnsealed = false
    @Option(help: ArgumentHelp("Replay against this lesson file, even if it is not the version recorded.", valueName: "file"))
    var lesson: String?
    @OptionGroup var lessons: LessonDirectoryOption

    func run() throws {
        let support = HostSupport.detect()
        guard support.canBuildLabs else {
            printError("gantry replay: no lab can be built on this host: `gantry doctor` says what is missing.")
            throw ExitCode(1)
        }
        let replayer: Replayer
        do {
            replayer = try ReplaySetup(lessons: lessons, lessonFile: lesson, allowUnsealed: allowUnsealed, support: support)
                .replayer(for: file)
        } catch {
            printError("gantry replay: \(error)")
            throw ExitCode(1)
        }
        let show: ((String) -> Void)? = quiet ? nil : { text in print(text, terminator: "") }
        guard replayer.run(show: show) else {
            printError("gantry replay: the lab could not be built; `gantry doctor` checks what labs need")
            throw ExitCode(1)
        }
        guard verify else { return }
        let verification = Verification(replayer)
        for line in verification.table { print(line) }
        if verification.agrees {
            print("The replay agrees with the recording.")
        } else {
            print("The replay differs from the recording.")
            throw ExitCode(1)
        }
    }
}

/// What every command that replays needs: the lessons, and a transcript read and checked.
struct ReplaySetup {
    var lessons: LessonDirectoryOption
    var lessonFile: String?
    var allowUnsealed: Bool
    var support: HostSupport

    func replayer(for file: String) throws -> Replayer {
        let transcript = try Transcript.read(file)
        var override: Lesson?
        if let lessonFile {
            let (loaded, errors) = LessonRunner.load([lessonFile])
            if let error = errors.first { throw ReplayRefusal("\(error)") }
            override = loaded.first
        }
        let (found, _) = lessons.load()
        return try Replayer(transcript: transcript, lessons: found, lessonOverride: override, allowUnsealed: allowUnsealed, support: support)
    }
}
