import ArgumentParser
import Transcripts

/// `gantry play FILE`: a recorded session, in this terminal.
struct PlayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "play",
        abstract: "Play a recorded session in this terminal, at the pace it was recorded.",
        discussion: "Ctrl-C stops and leaves the terminal as it was. `asciinema play FILE` plays the same file.")

    @Argument(help: ArgumentHelp("A transcript (.cast).", valueName: "file"))
    var file: String
    @Option(help: ArgumentHelp("Play this many times faster (2 = twice as fast).", valueName: "x"))
    var speed = 1.0
    @Option(name: .customLong("idle-limit"), help: ArgumentHelp("Shorten every pause to at most this many seconds.", valueName: "s"))
    var idleLimit: Double?
    @Option(help: ArgumentHelp("Start at step N (1-based).", valueName: "n"))
    var step: Int?
    @Flag(help: "Stop at the start of each step until a key is pressed (q quits).")
    var pause = false

    func validate() throws {
        guard speed > 0 else { throw ValidationError("--speed must be above 0") }
        if let idleLimit, idleLimit <= 0 { throw ValidationError("--idle-limit must be above 0") }
        if let step, step < 1 { throw ValidationError("--step counts from 1") }
    }

    func run() throws {
        let transcript: Transcript
        do { transcript = try Transcript.read(file) } catch {
            printError("gantry play: \(error)")
            throw ExitCode(1)
        }
        if case .broken = transcript.integrity { printError("gantry play: warning: \(file) is \(transcript.integrityDescription)") }
        var player = Player()
        player.speed = speed
        player.idleLimit = idleLimit
        player.fromStep = step
        player.pauseAtSteps = pause
        let outcome: Player.Outcome
        do { outcome = try player.play(transcript) } catch {
            printError("gantry play: \(error)")
            throw ExitCode(1)
        }
        switch outcome {
        case .finished: break
        case .interrupted: throw ExitCode(130)
        case .noSuchStep:
            printError("gantry play: \(file) has no step \(step ?? 0) (its markers: \(transcript.events.filter { $0.code == "m" }.count))")
            throw ExitCode(1)
        }
    }
}
