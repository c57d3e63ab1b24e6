import ArgumentParser
internal import FoundationEssentials
internal import Glibc
import Shell
import Transcripts

/// `gantry transcripts`: the recorded sessions, and `verify` of their chains.
struct TranscriptsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transcripts",
        abstract: "List the recorded sessions, newest first; `verify` checks files' hash chains.",
        subcommands: [List.self, Verify.self],
        defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "The recorded sessions: when, learner, lesson, steps done, hints, duration, state, path.")

        @Flag(help: "One JSON object per session, in an array.")
        var json = false
        @Option(help: ArgumentHelp("Where the transcripts are (default: $XDG_DATA_HOME/gantry/transcripts).", valueName: "dir"))
        var directory: String?

        func run() throws {
            let directory = directory ?? ShellPaths.fromEnvironment().dataDirectory + "/transcripts"
            var info = stat()
            if stat(directory, &info) == 0, info.st_mode & S_IFMT != S_IFDIR { throw ValidationError("\(directory) is not a directory") }
            var rows: [Row] = []
            for name in TranscriptsCommand.castFiles(in: directory) {
                let path = directory + "/" + name
                do { rows.append(Row(try Transcript.read(path))) } catch {
                    rows.append(Row(path: path, problem: "\(error)"))
                }
            }
            rows.sort { ($0.timestamp, $0.path) > ($1.timestamp, $1.path) }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(rows), as: UTF8.self))
                return
            }
            guard !rows.isEmpty else {
                print("No transcripts in \(directory). `gantry shell` records every session there.")
                return
            }
            for row in rows {
                let line =
                    "\(row.when)  \(row.learner)  \(row.lesson) \(row.stepsDone)/\(row.steps) steps, \(row.hints) hint(s), \(row.duration)  \(row.state)  \(row.path)"
                // What a file says is shown, never obeyed: control characters (an escape
                // sequence in a learner's name or a file name) become '?'.
                print(String(String.UnicodeScalarView(line.unicodeScalars.map { $0.value < 0x20 || (0x7f..<0xa0).contains($0.value) ? "?" : $0 })))
            }
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Check transcripts' hash chains (no lab): exit 1 and the line where one breaks.",
            discussion: """
                The chain shows a file is as Gantry wrote it: a changed, added or removed line is \
                found and named. It does not show that the session happened as recorded: anyone \
                can write a consistent chain. That only `gantry replay --verify` can show, by \
                running the recorded lines again in a fresh lab.
                """)

        @Argument(help: ArgumentHelp("Transcripts (.cast).", valueName: "file"))
        var files: [String]

        func run() throws {
            var failed = false
            for file in files {
                do {
                    let transcript = try Transcript.read(file)
                    switch transcript.integrity {
                    case .sealed: print("\(file): sealed; every line as written (\(transcript.events.count) events)")
                    case .unsealed: print("\(file): \(transcript.integrityDescription); every checkpoint holds")
                    case .broken(let line, let reason):
                        print("\(file):\(line): \(reason)")
                        failed = true
                    }
                } catch {
                    print("\(error)")
                    failed = true
                }
            }
            if failed { throw ExitCode(1) }
        }
    }

    static func castFiles(in directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { name in
            // Regular files only: a FIFO named *.cast would block the listing.
            var info = stat()
            return name.hasSuffix(".cast") && stat(directory + "/" + name, &info) == 0 && info.st_mode & S_IFMT == S_IFREG
        }.sorted()
    }

    /// One session, as the list shows it.
    struct Row: Encodable {
        var path: String
        var timestamp = 0
        var when = "?"
        var learner = "?"
        var lesson = "?"
        var steps = 0
        var stepsDone = 0
        var hints = 0
        var seconds = 0.0
        var state: String
        var end: String?

        init(_ transcript: Transcript) {
            path = transcript.path
            timestamp = transcript.header.timestamp
            when = Self.date(timestamp)
            learner = transcript.header.gantry.learner
            lesson = transcript.header.gantry.lesson.id
            steps = transcript.header.gantry.lesson.steps.count
            stepsDone = transcript.stepsDone.count
            hints = transcript.hints
            seconds = transcript.duration
            state = transcript.integrityDescription
            end = transcript.endReason
        }

        init(path: String, problem: String) {
            self.path = path
            state = "unreadable: \(problem)"
        }

        var duration: String {
            // A forged time can be anything a Double holds.
            let total = seconds.isFinite ? Int(min(max(seconds, 0), 1e9).rounded()) : 0
            return total < 60 ? "\(total)s" : "\(total / 60)m\(total % 60 < 10 ? "0" : "")\(total % 60)s"
        }

        static func date(_ timestamp: Int) -> String {
            let date = Date(timeIntervalSince1970: TimeInterval(min(max(timestamp, 0), 253_402_300_799)))
            return date.formatted(.iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: false).timeSeparator(.colon))
        }
    }
}
