import Foundation
import Lab
import Lessons
import TestSupport
import Testing
import Transcripts

/// The REPL driven through a real PTY, as a learner would use it: the course's commands
/// typed, nested shells entered and left, hints asked for, sessions ended and resumed.
@Suite(.serialized) struct ShellCommandTests {
    static let lessons = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("lessons").path

    /// A learner's home for one test: fresh XDG state and data directories.
    final class Learner {
        let home: String
        init() throws {
            home = NSTemporaryDirectory() + "gantry-learner-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        }
        deinit { try? FileManager.default.removeItem(atPath: home) }

        var environment: [String: String] {
            ["XDG_STATE_HOME": home + "/state", "XDG_DATA_HOME": home + "/data", "TERM": "xterm-256color", "LANG": "C.UTF-8"]
        }
        var progress: String { (try? String(contentsOfFile: home + "/data/gantry/progress", encoding: .utf8)) ?? "" }
        var history: String { (try? String(contentsOfFile: home + "/state/gantry/history", encoding: .utf8)) ?? "" }
        /// The recorded transcripts' text, oldest first (their names begin with the time).
        var transcripts: [String] {
            let directory = home + "/data/gantry/transcripts"
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".cast") }.sorted()
            return names.compactMap { try? String(contentsOfFile: directory + "/" + $0, encoding: .utf8) }
        }

        func shell(_ arguments: [String] = []) throws -> TerminalSession {
            try TerminalSession(
                CommandRunner.gantryPath, ["shell", "--lessons", ShellCommandTests.lessons] + arguments,
                environment: environment)
        }

        func gantry(_ arguments: [String], input: String? = nil) throws -> CommandResult {
            try CommandRunner.gantry(arguments, input: input, environment: environment)
        }
    }

    /// Types a command at Gantry's prompt and waits for what it should print.
    func enter(_ terminal: TerminalSession, _ command: String, expecting text: String) throws {
        try terminal.waitFor("# ")
        terminal.type(command + "\r")
        try terminal.waitFor(text)
    }

    @Test(requiresRootAndUserNamespaces) func utsLessonCompletedByTypingTheCourseCommands() throws {
        let learner = try Learner()
        try expectHostUnchanged {
            let terminal = try learner.shell(["uts"])
            try terminal.waitFor("Step 1/3")
            try enter(terminal, "hostname", expecting: "✓ Step 1 done")
            try terminal.waitFor("Step 2/3")
            try enter(terminal, "unshare -u /bin/bash", expecting: "[uts 2/3]")
            // The lab is as the step teaches once the inner shell has its name.
            try enter(terminal, "hostname con01", expecting: "✓ Step 2 done: pid")
            try terminal.waitFor("sees hostname 'con01'")
            try terminal.waitFor("Step 3/3")
            try enter(terminal, "hostname", expecting: "con01")
            try enter(terminal, "exit", expecting: "exit")
            try enter(terminal, "hostname", expecting: "dockeredu")
            try terminal.waitFor("✓ Step 3 done")
            try terminal.waitFor("complete")
            try enter(terminal, ":quit", expecting: "Progress saved")
            #expect(terminal.waitForExit() == 0)
        }
        #expect(learner.progress.contains("step\tuts\tunshare\tdone=yes"))
        #expect(learner.progress.contains("lesson\tuts\tstep=4"))
    }

    @Test(requiresRootAndUserNamespaces) func netnsVethLessonCompletedByTypingTheCourseCommands() throws {
        let learner = try Learner()
        try expectHostUnchanged {
            let terminal = try learner.shell(["netns-veth"])
            try enter(terminal, "ip netns add testnet", expecting: "✓ Step 1 done")
            try enter(terminal, "ip netns exec testnet ip -o link | cut -d' ' -f2,9", expecting: "lo: DOWN")
            // Inside the namespace with a shell of its own, as the notes do it.
            try enter(terminal, "ip netns exec testnet bash", expecting: "[netns-veth 2/5]")
            try enter(terminal, "ip link set lo up", expecting: "✓ Step 2 done")
            try enter(terminal, "exit", expecting: "[netns-veth 3/5]")
            try enter(terminal, "ip link add veth0 type veth peer name veth1", expecting: "[netns-veth 3/5]")
            try enter(terminal, "ip link set veth1 netns testnet", expecting: "✓ Step 3 done")
            try enter(terminal, "ip -o link show veth1", expecting: "does not exist")
            for command in [
                "ip link set veth0 up", "ip address add 172.16.0.1/24 dev veth0",
                "ip netns exec testnet ip link set veth1 up",
            ] {
                try enter(terminal, command, expecting: "[netns-veth 4/5]")
            }
            try enter(terminal, "ip netns exec testnet ip address add 172.16.0.2/24 dev veth1", expecting: "✓ Step 4 done")
            // What the learner sees is what the notes show, and both ends answer: done.
            try enter(terminal, "ping -c 2 -W 2 172.16.0.2 | grep -o '2 received'", expecting: "✓ Step 5 done")
            try terminal.waitFor("complete")
            try enter(terminal, "ip netns exec testnet ping -c 2 -W 2 172.16.0.1 | grep -o '2 received'", expecting: "2 received")
            try enter(terminal, ":quit", expecting: "Progress saved")
            #expect(terminal.waitForExit() == 0)
        }
    }

    @Test(requiresRootAndUserNamespaces) func aWrongCommandIsToldWhatIsWrongAndGetsAHint() throws {
        let learner = try Learner()
        try expectHostUnchanged {
            let terminal = try learner.shell(["uts", "--step", "2"])
            // Without unshare -u: the lab's own hostname changes, not a new namespace's.
            // Told at once: the lab's own name changed, and how to put it back.
            try enter(terminal, "hostname con01", expecting: "✗ Not yet: the lab's hostname is 'con01', expected 'dockeredu'")
            try terminal.waitFor("`hostname dockeredu` puts it back")
            try enter(terminal, "hostname", expecting: "con01")
            try enter(terminal, ":hint", expecting: "Hint 1/2:")
            try terminal.waitFor("Start the new shell with unshare -u /bin/bash")
            try enter(terminal, ":check", expecting: "✗ the lab's hostname is dockeredu: the lab's hostname is 'con01', expected 'dockeredu'")
            // The reference commands, on request (recorded), and a fresh lab for this step.
            try enter(terminal, ":solve", expecting: "$ unshare -u /bin/bash")
            try enter(terminal, ":reset", expecting: "Lab ready")
            try enter(terminal, "cat /proc/sys/kernel/hostname", expecting: "\ndockeredu\n")
            try enter(terminal, ":quit", expecting: "Progress saved")
            #expect(terminal.waitForExit() == 0)
        }
        #expect(learner.progress.contains("step\tuts\tunshare\tdone=no\tattempts=3\thints=1\tsolved=yes"))
    }

    @Test(requiresRootAndUserNamespaces) func historyAndProgressSurviveARestart() throws {
        let learner = try Learner()
        try expectHostUnchanged {
            let first = try learner.shell(["uts"])
            try enter(first, "echo remembered-$((6 * 7))", expecting: "remembered-42")
            try enter(first, "hostname", expecting: "✓ Step 1 done")
            try enter(first, ":quit", expecting: "next time at step 2")
            #expect(first.waitForExit() == 0)

            // No lesson named: the last one is resumed, at the step after the one done.
            let second = try learner.shell()
            try second.waitFor("Bringing the lab to the start of step 2")
            try second.waitFor("[uts 2/3]")
            second.type("\u{1b}[A\u{1b}[A\u{1b}[A\r")  // ↑ ↑ ↑ Enter: three lines back
            try second.waitFor("remembered-42")
            try enter(second, ":quit", expecting: "Progress saved")
            #expect(second.waitForExit() == 0)
        }
        #expect(learner.history.contains("echo remembered-$((6 * 7))"))
        let table = try learner.gantry(["progress", "--lessons", Self.lessons])
        #expect(table.status == 0)
        #expect(table.output.contains("1. Look at the machine's name") && table.output.contains("✓ done"))
    }

    @Test(requiresRootAndUserNamespaces) func koreanTextRendersAndEditsByCharacter() throws {
        let learner = try Learner()
        try expectHostUnchanged {
            let terminal = try learner.shell(["uts", "--step", "2"])
            try enter(terminal, ":lang ko", expecting: "자신만의 UTS 네임스페이스에서 새 셸을 시작합니다")
            // Backspace removes one whole Hangul syllable (three bytes), not one byte.
            try terminal.waitFor("# ")
            terminal.type("echo 안녕하세요\u{7f}\u{7f}!\r")
            try terminal.waitFor("안녕하!")
            // Gantry's own words follow the language too.
            try enter(terminal, ":quit", expecting: "진행을 저장했습니다")
            #expect(terminal.waitForExit() == 0)
        }
        #expect(learner.progress.contains("language\tko"))
    }

    @Test(requiresRootAndUserNamespaces) func runningProgramsGetTheTerminal() throws {
        let learner = try Learner()
        try expectHostUnchanged {
            let terminal = try learner.shell(["uts"])
            // The window size reaches the lab; a line-reading program gets what is typed.
            try enter(terminal, "stty size", expecting: "40 120")
            // A resized window is passed on (SIGWINCH at Gantry's prompt).
            terminal.resize(rows: 30, columns: 100)
            try enter(terminal, "stty size", expecting: "30 100")
            try enter(terminal, "read -p 'name? ' answer; echo \"got $answer\"", expecting: "name? ")
            terminal.type("gantry\r")
            try terminal.waitFor("got gantry")
            // A full-screen program reads keys in raw mode: `q` reaches top, not Gantry.
            try enter(terminal, "top -d 1", expecting: "load average")
            terminal.type("q")
            try terminal.waitFor("[uts 1/3]")
            // Ctrl-C stops the command, not Gantry; the prompt shows its status.
            // (`started` comes from the foreground job itself, so Ctrl-C cannot reach the
            // shell between two commands of a list.)
            try enter(terminal, "bash -c 'echo started; exec sleep 1000'", expecting: "\nstarted")
            terminal.type("\u{03}")
            try terminal.waitFor("✗130")
            // A second Ctrl-C at the prompt says how to leave, and leaves nothing behind.
            // (Signals do not queue: the second is typed once the first has been seen.)
            terminal.type("\u{03}")
            try terminal.waitFor("^C")
            terminal.type("\u{03}")
            try terminal.waitFor("Ctrl-D or :quit ends the session")
            // A command continued on a second line, as at bash's PS2.
            try enter(terminal, "for word in one two; do", expecting: "> ")
            terminal.type("echo \"word $word\"; done\r")
            try terminal.waitFor("word two")
            try terminal.waitFor("# ")
            terminal.type("\u{04}")  // Ctrl-D at the top: the session ends
            try terminal.waitFor("Progress saved")
            #expect(terminal.waitForExit() == 0)
        }
    }

    @Test(requiresRootAndUserNamespaces) func withoutATerminalTheExitStatusSaysWhetherTheStepsPassed() throws {
        let learner = try Learner()
        try expectHostUnchanged {
            let passing = try learner.gantry(
                ["shell", "--lessons", Self.lessons, "uts"],
                input: "hostname\nunshare -u /bin/bash\nhostname con01\nhostname\nexit\nhostname\n")
            #expect(passing.status == 0, "\(passing.output)\(passing.error)")
            #expect(passing.output.contains("✓ Step 3 done"))
            #expect(!passing.output.contains("\u{1b}["), "no colour without a terminal")

            let failing = try learner.gantry(
                ["shell", "--lessons", Self.lessons, "uts"],
                input: "hostname\nhostname con01\nhostname\n")
            #expect(failing.status == 1)
            #expect(failing.output.contains("Step 2 of uts ('Start a shell in a new UTS namespace') did not pass"))
        }
    }

    @Test func resetAsksFirstAndRefusesWithoutATerminal() throws {
        let learner = try Learner()
        try FileManager.default.createDirectory(atPath: learner.home + "/data/gantry", withIntermediateDirectories: true)
        try "gantry-progress\t1\ncurrent\tuts\nlanguage\ten\nlesson\tuts\tstep=2\n"
            .write(toFile: learner.home + "/data/gantry/progress", atomically: true, encoding: .utf8)
        let refused = try learner.gantry(["reset", "uts"])
        #expect(refused.status != 0)
        #expect(refused.error.contains("add --yes"))
        #expect(learner.progress.contains("lesson\tuts"))
        let reset = try learner.gantry(["reset", "uts", "--yes"])
        #expect(reset.status == 0)
        #expect(!learner.progress.contains("lesson\tuts"))
    }

    @Test func anUnreadableProgressFileIsKeptAsideNotOverwritten() throws {
        let learner = try Learner()
        let directory = learner.home + "/data/gantry"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try "gantry-progress\t1\nlesson\tuts\tstep=two\n".write(toFile: directory + "/progress", atomically: true, encoding: .utf8)
        let result = try learner.gantry(["progress", "--lessons", Self.lessons])
        #expect(result.error.contains("progress:2: expected step=N, found 'step=two'"))
        let kept = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasPrefix("progress.unreadable-") }
        #expect(kept.count == 1)
    }
}

/// Every shipped lesson can be completed in the REPL by typing its own commands: the rule
/// that says a step is done agrees with the lesson, step by step, on this host.
@Suite(.serialized) struct EveryLessonInTheShellTests {
    static let runnable: [String] = {
        let runner = LessonRunner(support: HostSupport.detect())
        let (lessons, _) = LessonRunner.load(LessonRunner.lessonFiles([ShellCommandTests.lessons]))
        return Lesson.courseOrder(lessons).filter { runner.support.missingRequirements($0) == nil }.map(\.id)
    }()

    /// The REPL, `gantry test` and the transcript hear one session engine: typed into the
    /// REPL (recorded) and run by `gantry test`, a lesson's commands make the same stream of
    /// steps, lines, exit statuses and steps done; and `replay --verify` of the recording
    /// finds no difference.
    @Test(requiresRootAndUserNamespaces, arguments: runnable)
    func typingTheLessonsCommandsCompletesIt(id: String) throws {
        let runner = LessonRunner(support: HostSupport.detect())
        let (lessons, _) = LessonRunner.load(LessonRunner.lessonFiles([ShellCommandTests.lessons]))
        let lesson = try #require(lessons.first { $0.id == id })
        let typed = lesson.steps.flatMap { step in runner.support.referenceCommands(of: step).map(\.command) }
        let learner = try ShellCommandTests.Learner()
        let file = learner.home + "/\(id).cast"
        let heard = Heard()
        try expectHostUnchanged {
            let result = try learner.gantry(
                ["shell", "--lessons", ShellCommandTests.lessons, id, "--transcript", file],
                input: typed.joined(separator: "\n") + "\n")
            #expect(result.status == 0, "\(result.output)\(result.error)")
            #expect(result.output.contains("Lesson '\(lesson.title)' complete"), "\(result.output)")
            #expect(runner.run(lesson, observers: [heard]).outcome == .passed)
            // And the recording, re-run in a fresh lab, agrees with itself.
            let replayed = try learner.gantry(["replay", "--verify", "--quiet", "--lessons", ShellCommandTests.lessons, file])
            #expect(replayed.status == 0, "\(replayed.output)\(replayed.error)")
        }
        let recorded = Heard.summary(of: try Transcript.read(file).records)
        #expect(recorded == heard.summary, "the REPL's transcript and `gantry test` heard different sessions")
        #expect(recorded.contains("complete") && recorded.filter { $0.hasPrefix("done ") }.count == lesson.steps.count, "\(recorded)")
    }

    /// What a session did, in the terms both the events and a transcript's records have.
    final class Heard: SessionObserver {
        var summary: [String] = []

        func observe(_ event: SessionEvent) {
            switch event {
            case .stepOpened(_, let id, _): summary.append("step \(id)")
            case .lineSent(let text, .continuation): summary[summary.count - 1] += "\n" + text
            case .lineSent(let text, let target): summary.append("line \(target == .gantry ? ":" : "")\(text)")
            case .commandEnded(let status, _): summary.append("status \(status)")
            case .stepDone(let step, _, let overtaken, _): summary.append("done \(step)\(overtaken ? " overtaken" : "")")
            case .lessonComplete: summary.append("complete")
            default: break
            }
        }

        static func summary(of records: [GantryRecord]) -> [String] {
            var summary: [String] = []
            for record in records {
                switch record.kind {
                case .step: summary.append("step \(record.step ?? "")")
                case .line where record.target == "continuation": summary[summary.count - 1] += "\n" + (record.text ?? "")
                case .line: summary.append("line \(record.target == "gantry" ? ":" : "")\(record.text ?? "")")
                case .status: summary.append("status \(record.status ?? -1)")
                case .done: summary.append("done \(record.step ?? "")\(record.overtaken == true ? " overtaken" : "")")
                case .complete: summary.append("complete")
                default: break
                }
            }
            return summary
        }
    }
}
