import ArgumentParser
import Export
import Glibc
import Grading
import Lab
import Lessons
import POSIXSupport
import Transcripts

/// `gantry export FILE --format markdown|html`: a recorded session as notes or a web page.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Turn a recorded session into course notes (Markdown) or a web page with the session's player (HTML).",
        discussion: """
            Markdown: front matter a static-site blog reads, then per step the commands really typed with their \
            real output, the check's verdict and the hints used. HTML: one self-contained file (no network) with \
            asciinema-player playing the session, the steps as chapters beside it, and the score. The player's \
            files come from PyPI's mkdocs-asciinema-player, which scripts/setup installs ($GANTRY_PLAYER names \
            another directory holding asciinema-player.min.js and asciinema-player.css).
            """)

    @Argument(help: ArgumentHelp("A transcript (.cast).", valueName: "file"))
    var file: String
    @Option(help: ArgumentHelp("markdown or html.", valueName: "format"))
    var format = "markdown"
    @Option(name: .shortAndLong, help: ArgumentHelp("Write here instead of standard output.", valueName: "file"))
    var output: String?
    @Option(help: ArgumentHelp("Language of the lesson's text: en or ko (default: the session's).", valueName: "lang"))
    var lang: String?
    @OptionGroup var lessons: LessonDirectoryOption

    func validate() throws {
        guard ["markdown", "html"].contains(format) else { throw ValidationError("no format '\(format)' (markdown or html)") }
        if let lang, !["en", "ko"].contains(lang) { throw ValidationError("no language '\(lang)' (en or ko)") }
    }

    func run() throws {
        let transcript: Transcript
        do { transcript = try Transcript.read(file) } catch {
            printError("gantry export: \(error)")
            throw ExitCode(1)
        }
        if case .broken = transcript.integrity {
            printError("gantry export: \(file) is \(transcript.integrityDescription); it is not exported")
            throw ExitCode(1)
        }
        let (found, _) = lessons.load()
        let id = transcript.header.gantry.lesson.id
        guard let lesson = found.first(where: { $0.id == id }) else {
            printError("gantry export: no lesson '\(id)' in \(lessons.directory) (--lessons DIR names where it is)")
            throw ExitCode(1)
        }
        let grade: TranscriptGrade? =
            switch Grader(lessons: found, verify: false, support: nil).grade(file) {
            case .graded(let grade): grade
            case .skipped: nil
            }
        let notes = SessionNotes(transcript: transcript, lesson: lesson, grade: grade, language: lang ?? transcript.header.gantry.lesson.language)
        let text: String
        if format == "html" {
            guard
                let player = PlayerAssets.locate(
                    environment: getenv("GANTRY_PLAYER").map { String(cString: $0) }, executable: CommandLine.arguments[0])
            else {
                printError("gantry export: asciinema-player not found: scripts/setup installs it (PyPI: mkdocs-asciinema-player), or set GANTRY_PLAYER")
                throw ExitCode(1)
            }
            text = HTMLExport.write(notes, cast: POSIX.readFile(file) ?? "", player: player)
        } else {
            text = MarkdownExport.write(notes)
        }
        try writeResult(text, to: output, command: "export")
    }
}
