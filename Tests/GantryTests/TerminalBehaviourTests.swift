import Foundation
import Lab
import Terminal
import TestSupport
import Testing

/// The REPL in a real terminal (a PTY), as a learner meets it: job notices, Ctrl-D in a
/// nested shell, programs that read what is typed (python3, cat, read), shells without
/// Gantry's markers (busybox sh in a chroot) in the REPL, in plain mode and in `gantry
/// test`, and SIGTERM while such a program runs.
@Suite(.serialized) struct TerminalBehaviourTests {
    typealias Learner = ShellCommandTests.Learner

    /// Types a command at the next prompt and waits for what it should print.
    func enter(_ terminal: TerminalSession, _ command: String, expecting text: String) throws {
        try terminal.waitFor("# ")
        try type(terminal, command, expecting: text)
    }

    /// Types a command at a prompt already seen.
    func type(_ terminal: TerminalSession, _ command: String, expecting text: String) throws {
        terminal.type(command + "\r")
        try terminal.waitFor(text)
    }

    /// A lesson whose second step is worked inside busybox sh in a chroot: a shell that
    /// prints no markers, so Gantry cannot tell when a line is done.
    static func busyboxLesson() throws -> String {
        let directory = NSTemporaryDirectory() + "gantry-busybox-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let lesson = """
            ---
            id: busybox
            title: "busybox sh in a chroot"
            requires: [userns, namespaces]
            ---

            # busybox sh in a chroot

            ## A root with busybox {#root}

            ```console
            $ mkdir -p /root/bb/bin && cp /bin/busybox /root/bb/bin/ && ln -sf busybox /root/bb/bin/sh
            ```

            ```check
            file path=/root/bb/bin/busybox type=file
            ```

            ## Write from inside {#inside}

            ```console
            $ chroot /root/bb /bin/sh
            $ echo hello > /greeting
            $ exit
            ```

            ```check
            file path=/root/bb/greeting contains=hello
            ```

            """
        try lesson.write(toFile: directory + "/busybox.md", atomically: true, encoding: .utf8)
        return directory
    }

    @Test(requiresRootAndUserNamespaces) func jobNoticesAreOutputAndThePromptStaysAPrompt() throws {
        let learner = try Learner()
        try expectHostUnchanged {
            let terminal = try learner.shell(["uts"])
            try enter(terminal, "unshare -u /bin/bash", expecting: "[uts 1/3]")
            try enter(terminal, "sleep 0.1 &", expecting: "[1] ")
            // The job ends while the next command runs; bash says so after it, before its
            // prompt (and Gantry puts its own prompt on a line of its own).
            try enter(terminal, "sleep 1", expecting: "sleep 1\n")
            let shown = try terminal.waitFor("root@dockeredu:~# ")
            #expect(shown.contains("[1]+  Done                    sleep 0.1\n"), "\(shown)")
            #expect(!shown.contains("sleep 0.1root@"), "\(shown)")
            try type(terminal, "echo after", expecting: "after")
            try enter(terminal, "exit", expecting: "[uts")
            try enter(terminal, ":quit", expecting: "Progress saved")
            #expect(terminal.waitForExit() == 0)
        }
        let transcript = try #require(learner.transcripts.last)
        #expect(transcript.contains("Done                    sleep 0.1"), "the notice is recorded as output")
    }

    @Test(requiresRootAndUserNamespaces) func ctrlDInANestedShellSaysExitOnceAndLeavesNoBlankLines() throws {
        let learner = try Learner()
        try expectHostUnchanged {
            let terminal = try learner.shell(["uts"])
            try enter(terminal, "unshare -u /bin/bash", expecting: "[uts 1/3]")
            try terminal.waitFor("# ")
            terminal.type("\u{04}")
            let left = try terminal.waitFor("root@dockeredu:~# ")
            #expect(left.components(separatedBy: "exit").count == 2, "`exit` said once: \(left)")
            terminal.type("echo b\r")
            let echoed = try terminal.waitFor("root@dockeredu:~# ")
            #expect(echoed.hasPrefix("echo b\nb\n"), "no blank line before the output: \(echoed.debugDescription)")
            terminal.type("echo c\r")
            #expect(try terminal.waitFor("root@dockeredu:~# ").hasPrefix("echo c\nc\n"))
            try type(terminal, ":quit", expecting: "Progress saved")
            #expect(terminal.waitForExit() == 0)
        }
    }

    @Test(requiresRootAndUserNamespaces) func programsShowWhatIsTypedIntoThem() throws {
        let learner = try Learner()
        try expectHostUnchanged {
            let terminal = try learner.shell(["uts"])
            // python3 edits lines with readline, which draws them only if the terminal
            // echoed when it started the line.
            try enter(terminal, "python3 -q", expecting: ">>> ")
            terminal.type("40 + 2\r")
            #expect(try terminal.waitFor(">>> ").contains("40 + 2\n42\n"))
            terminal.type("6 * 7\r")
            #expect(try terminal.waitFor(">>> ").contains("6 * 7\n42\n"))
            terminal.type("exit()\r")
            // In a nested shell too, and that shell still does not echo Gantry's lines.
            try enter(terminal, "unshare -u /bin/bash", expecting: "[uts 1/3]")
            try enter(terminal, "python3 -q", expecting: ">>> ")
            terminal.type("3 * 3\r")
            #expect(try terminal.waitFor(">>> ").contains("3 * 3\n9\n"))
            terminal.type("exit()\r")
            try terminal.waitFor("# ")
            terminal.type("echo nested\r")
            #expect(try terminal.waitFor("root@dockeredu:~# ").hasPrefix("echo nested\nnested\n"), "the line is not echoed twice")
            try type(terminal, "exit", expecting: "[uts")
            // Full-screen programs draw themselves and take their keys.
            try enter(terminal, "vi /root/typed.txt", expecting: "[New]")
            terminal.type("ihello from vi\u{1b}")
            try terminal.waitFor("hello from vi")
            terminal.type(":wq\r")
            try terminal.waitFor("written")
            try enter(terminal, "cat /root/typed.txt", expecting: "hello from vi\n")
            try enter(terminal, "less /etc/hostname", expecting: "(END)")
            terminal.type("q")
            try enter(terminal, "top -d 1", expecting: "Tasks:")
            terminal.type("q")
            // cat echoes through the terminal; read -s keeps a secret.
            try enter(terminal, "cat", expecting: "cat")
            terminal.type("typed-into-cat\r")
            try terminal.waitFor("typed-into-cat\ntyped-into-cat")
            terminal.type("\u{04}")
            // Typed once the command runs (before that the keys are Gantry's to echo).
            try enter(terminal, "p=Pass; read -s -p \"${p}word: \" secret; echo got ${#secret}", expecting: "Password: ")
            terminal.type("hunter2\r")
            let secret = try terminal.waitFor("got 7")
            #expect(!secret.contains("hunter2"), "\(secret)")
            try enter(terminal, ":quit", expecting: "Progress saved")
            #expect(terminal.waitForExit() == 0)
        }
        let transcript = try #require(learner.transcripts.last)
        #expect(!transcript.contains("hunter2"), "a secret is recorded as its length only")
    }

    @Test(requiresRootAndUserNamespaces) func aShellWithoutMarkersIsTypedIntoByGantryTest() throws {
        let directory = try Self.busyboxLesson()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try expectHostUnchanged {
            let result = try CommandRunner.gantry(["test", directory + "/busybox.md"])
            #expect(result.status == 0, "\(result.output)\(result.error)")
            #expect(result.output.contains("PASS busybox (2 steps"), "\(result.output)")
            #expect(!result.output.contains("did not finish"), "no line waited for a minute: \(result.output)")
        }
    }

    @Test(requiresRootAndUserNamespaces) func aShellWithoutMarkersIsTypedIntoInPlainMode() throws {
        let directory = try Self.busyboxLesson()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let learner = try Learner()
        try expectHostUnchanged {
            let input = """
                mkdir -p /root/bb/bin && cp /bin/busybox /root/bb/bin/ && ln -sf busybox /root/bb/bin/sh
                chroot /root/bb /bin/sh
                echo hello > /greeting
                busybox cat /greeting
                exit
                echo back

                """
            let result = try CommandRunner.gantry(["shell", "--lessons", directory, "busybox"], input: input, environment: learner.environment)
            #expect(result.status == 0, "\(result.output)\(result.error)")
            #expect(result.output.contains("Lesson 'busybox sh in a chroot' complete"), "\(result.output)")
            // The lines typed into busybox are where the terminal showed them.
            #expect(result.output.contains("busybox cat /greeting\nhello\n"), "\(result.output)")
            #expect(result.output.contains("echo back\nback\n"), "\(result.output)")
        }
        #expect(learner.progress.contains("step\tbusybox\tinside\tdone=yes"))
    }

    /// A program reading a pipe is not waiting for what the learner types: the next line is
    /// the next command, not input for it (nor is `ping` waiting on its socket).
    @Test(requiresRootAndUserNamespaces) func aProgramReadingAPipeIsNotTypedInto() throws {
        let learner = try Learner()
        try expectHostUnchanged {
            let input = "cat < <(sleep 1.5; echo from-the-pipe)\necho next-line\n"
            let result = try CommandRunner.gantry(["shell", "--lessons", ShellCommandTests.lessons, "uts"], input: input, environment: learner.environment)
            #expect(result.output.contains("from-the-pipe\n"), "\(result.output)")
            #expect(result.output.contains("# echo next-line\nnext-line\n"), "the line ran as a command of its own: \(result.output)")
        }
        let transcript = try #require(learner.transcripts.last)
        #expect(!transcript.contains(#""kind\":\"keys"#), "nothing was typed into cat")
    }

    @Test(requiresRootAndUserNamespaces) func sigtermEndsTheSessionWhileAShellWithoutMarkersRuns() throws {
        let directory = try Self.busyboxLesson()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let learner = try Learner()
        try expectHostUnchanged {
            let terminal = try TerminalSession(
                CommandRunner.gantryPath, ["shell", "--lessons", directory, "busybox"], environment: learner.environment)
            try enter(terminal, "mkdir -p /root/bb/bin && cp /bin/busybox /root/bb/bin/ && ln -sf busybox /root/bb/bin/sh", expecting: "✓ Step 1 done")
            try enter(terminal, "chroot /root/bb /bin/sh", expecting: "built-in shell")
            try terminal.waitFor("/ # ")
            terminal.type("echo inside\r")
            try terminal.waitFor("inside\n")
            // busybox sh ignores the Ctrl-C Gantry sends first; the session ends anyway.
            kill(terminal.pid, SIGTERM)
            #expect(terminal.waitForExit() == 128 + SIGTERM)
            #expect(terminal.screen.contains("Progress saved"))
        }
        #expect(learner.progress.contains("step\tbusybox\troot\tdone=yes"))
        let transcript = try #require(learner.transcripts.last)
        #expect(transcript.contains("signal SIGTERM"), "the transcript says why it ended")
    }
}

/// Gantry's own text in the terminal: lines that fit the width at word boundaries, at the
/// width the terminal has now (resized mid-session), tables within 80 columns, and Tab
/// listing what a shell lists.
@Suite(.serialized) struct TerminalLayoutTests {
    typealias Learner = ShellCommandTests.Learner

    /// The lines Gantry printed between two points of the screen, widest first.
    static func widest(_ text: String) -> Int { text.split(separator: "\n").map { displayWidth(String($0)) }.max() ?? 0 }

    @Test(requiresRootAndUserNamespaces) func linesFitTheTerminalAndFollowAResize() throws {
        let learner = try Learner()
        try expectHostUnchanged {
            let terminal = try TerminalSession(
                CommandRunner.gantryPath, ["shell", "--lessons", ShellCommandTests.lessons, "uts"], environment: learner.environment,
                rows: 40, columns: 80)
            let start = try terminal.waitFor("root@dockeredu:~# ")
            #expect(Self.widest(start) <= 80, "\(start)")
            #expect(start.replacing("\n", with: " ").contains("nothing you do here touches this machine"), "broken at spaces only: \(start)")
            terminal.resize(rows: 30, columns: 60)
            // (readline draws its prompt again at the new width: the step comes after that.)
            terminal.type(":show\r")
            try terminal.waitFor("Step 1/3")
            let shown = try terminal.waitFor("root@dockeredu:~# ")
            #expect(Self.widest(shown) <= 60, "after the resize: \(shown)")
            #expect(shown.replacing("\n", with: " ").contains("for a hint · :check to see what is still missing"), "\(shown)")
            terminal.type(":lang ko\r")
            try terminal.waitFor("# ")
            terminal.type(":show\r")
            try terminal.waitFor("1/3단계")
            let korean = try terminal.waitFor("root@dockeredu:~# ")
            #expect(Self.widest(korean) <= 60, "Korean, by display width: \(korean)")
            terminal.type(":lang en\r")
            try terminal.waitFor("# ")
            terminal.resize(rows: 24, columns: 80)
            terminal.type(":lessons\r")
            try terminal.waitFor("lesson")
            let lessons = try terminal.waitFor("root@dockeredu:~# ")
            #expect(lessons.contains("netns-veth") && Self.widest(lessons) <= 80, "\(lessons)")
            terminal.type("hostname\r")
            try terminal.waitFor("✓ Step 1 done")
            try terminal.waitFor("# ")
            terminal.type(":progress\r")
            try terminal.waitFor("attempts")
            let progress = try terminal.waitFor("root@dockeredu:~# ")
            #expect(progress.contains("✓ done") && Self.widest(progress) <= 80, "\(progress)")
            terminal.type(":quit\r")
            #expect(terminal.waitForExit() == 0)
        }
        // `gantry progress` on a narrow terminal fits it too.
        let table = try TerminalSession(
            CommandRunner.gantryPath, ["progress", "--lessons", ShellCommandTests.lessons], environment: learner.environment, rows: 24,
            columns: 60)
        #expect(table.waitForExit() == 0)
        #expect(table.screen.contains("uts") && Self.widest(table.screen) <= 60, "\(table.screen)")
    }

    @Test(requiresRootAndUserNamespaces) func tabListsTheLastPartOfEachPath() throws {
        let learner = try Learner()
        try expectHostUnchanged {
            let terminal = try learner.shell(["uts"])
            try terminal.waitFor("# ")
            terminal.type("mkdir -p /root/tab/alpha /root/tab/alps\r")
            try terminal.waitFor("# ")
            // Ambiguous already: the first Tab finds nothing to add, the second lists.
            terminal.type("ls /root/tab/alp\t\t")
            let listed = try terminal.waitFor("alps/")
            #expect(listed.contains("alpha/"), "\(listed)")
            #expect(!listed.contains("/root/tab/alpha/"), "a shell lists the last component: \(listed)")
            terminal.type("\u{03}")
            try terminal.waitFor("# ")
            terminal.type(":quit\r")
            #expect(terminal.waitForExit() == 0)
        }
    }
}
