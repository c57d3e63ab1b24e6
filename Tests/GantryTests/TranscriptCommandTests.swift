import Foundation
import TestSupport
import Testing

/// Sessions recorded for real: the REPL through a PTY, the file it leaves read by
/// `gantry transcripts`, checked by `transcripts verify`, and played by `asciinema play`
/// (Debian's, as a reviewer would) and `gantry play`.
@Suite(.serialized) struct TranscriptCommandTests {
    typealias Learner = ShellCommandTests.Learner

    func transcripts(of learner: Learner) -> [String] {
        let directory = learner.home + "/data/gantry/transcripts"
        return ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".cast") }.sorted()
            .map { directory + "/" + $0 }
    }

    func enter(_ terminal: TerminalSession, _ command: String, expecting text: String) throws {
        try terminal.waitFor("# ")
        terminal.type(command + "\r")
        try terminal.waitFor(text)
    }

    @Test(requiresRootAndUserNamespaces) func theUTSLessonIsRecordedListedVerifiedAndPlayed() throws {
        let learner = try Learner()
        try expectHostUnchanged {
            let terminal = try learner.shell(["uts", "--learner", "kim"])
            try terminal.waitFor("Step 1/3")
            try enter(terminal, "hostname", expecting: "✓ Step 1 done")
            try enter(terminal, "unshare -u /bin/bash", expecting: "[uts 2/3]")
            try enter(terminal, "hostname con01", expecting: "✓ Step 2 done")
            try terminal.waitFor("Step 3/3")
            // A program that holds the terminal, and keys typed into it.
            try enter(terminal, "top -d 0.5", expecting: "load average")
            terminal.type("q")
            try enter(terminal, "exit", expecting: "exit")
            try enter(terminal, "hostname", expecting: "✓ Step 3 done")
            try enter(terminal, ":quit", expecting: "Transcript: ")
            #expect(terminal.waitForExit() == 0)
        }
        let files = transcripts(of: learner)
        try #require(files.count == 1, "\(files)")
        let file = files[0]

        let verify = try learner.gantry(["transcripts", "verify", file])
        #expect(verify.status == 0 && verify.output.contains("sealed"), "\(verify.output)")

        let listed = try learner.gantry(["transcripts", "--json"])
        #expect(listed.status == 0, "\(listed.error)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(listed.output.utf8)) as? [[String: Any]])
        let row = try #require(rows.first)
        #expect(row["lesson"] as? String == "uts" && row["learner"] as? String == "kim")
        #expect(row["stepsDone"] as? Int == 3 && row["steps"] as? Int == 3, "\(row)")
        #expect(row["state"] as? String == "sealed" && row["end"] as? String == "quit", "\(row)")
        let table = try learner.gantry(["transcripts"])
        #expect(table.output.contains("kim  uts 3/3 steps") && table.output.contains(file), "\(table.output)")

        // Gantry's own events say where each line went and what the checks saw.
        let text = try String(contentsOfFile: file, encoding: .utf8)
        #expect(text.contains(#"\"target\":\"nested\""#) && text.contains(#"\"depth\":2"#), "a line in the nested shell")
        #expect(text.contains(#"[\"kind\":\"keys\""#) == false && text.contains(#"\"kind\":\"keys\""#), "keys forwarded to top")
        #expect(text.contains(#"\"seen\":"#), "check evaluations with what was seen")

        // asciinema plays it unchanged (Gantry's events are skipped) and shows the lab's output.
        let player = try TerminalSession(
            "/usr/bin/asciinema", ["play", "--speed", "50", "--idle-time-limit", "0.05", file], environment: ["TERM": "xterm-256color"])
        try player.waitFor("dockeredu")
        try player.waitFor("con01")
        #expect(player.waitForExit() == 0)
        let own = try TerminalSession(
            CommandRunner.gantryPath, ["play", "--speed", "50", "--idle-limit", "0.05", file], environment: ["TERM": "xterm-256color"])
        try own.waitFor("con01")
        #expect(own.waitForExit() == 0)
        // And asciinema-player 3 (the web player) in headless Chromium plays it to the end.
        let page = try Self.playInBrowser(castText: String(contentsOfFile: file, encoding: .utf8), in: learner.home)
        #expect(page.contains("<title>ended</title>"), "the player did not reach the end: \(page.suffix(2000))")
        #expect(page.contains("dockeredu") && page.contains("con01"), "the player shows the lab's output")

        // One byte changed: verify names its line and fails.
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: file)))
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let target = try #require(lines.firstIndex { $0.contains(#""o", "con01"#) || ($0.contains(#""o""#) && $0.contains("con01")) })
        let offset = lines[..<target].map { $0.utf8.count + 1 }.reduce(0, +) + lines[target].utf8.count / 2
        bytes[offset] = bytes[offset] == 0x41 ? 0x42 : 0x41
        let edited = learner.home + "/edited.cast"
        try Data(bytes).write(to: URL(fileURLWithPath: edited))
        let broken = try learner.gantry(["transcripts", "verify", edited])
        #expect(broken.status == 1)
        #expect(broken.output.hasPrefix("\(edited):\(target + 1):"), "\(broken.output)")
    }

    /// asciinema-player's own script and style, as PyPI's mkdocs-asciinema-player ships them
    /// (scripts/setup installs it without MkDocs), the same files `gantry export` embeds.
    static func playerFiles() throws -> (script: String, style: String) {
        let locate = try CommandRunner.run(
            "/usr/bin/env",
            [
                "python3", "-c",
                "import importlib.util; print(importlib.util.find_spec('mkdocs_asciinema_player').submodule_search_locations[0] + '/assets')",
            ])
        let assets = locate.output.trimmingCharacters(in: .whitespacesAndNewlines)
        try #require(locate.status == 0 && !assets.isEmpty, "asciinema-player not found: \(locate.error)")
        return (
            try String(contentsOfFile: assets + "/asciinema-player.min.js", encoding: .utf8),
            try String(contentsOfFile: assets + "/asciinema-player.css", encoding: .utf8)
        )
    }

    /// A page with the cast in asciinema-player, loaded by headless Chromium with virtual time
    /// (so the player's clock runs without waiting); the page's DOM afterwards.
    static func playInBrowser(castText: String, in directory: String) throws -> String {
        let (script, style) = try playerFiles()
        let data = String(decoding: try JSONEncoder().encode(castText), as: UTF8.self)
        let html = """
            <!doctype html><html><head><meta charset="utf-8"><title>playing</title><style>\(style)</style></head>
            <body><div id="player"></div><script>\(script)</script><script>
            const player = AsciinemaPlayer.create({ data: \(data) }, document.getElementById("player"),
              { autoPlay: true, speed: 50, idleTimeLimit: 0.05 });
            player.addEventListener("ended", () => { document.title = "ended"; });
            </script></body></html>
            """
        let page = directory + "/player.html"
        try html.write(toFile: page, atomically: true, encoding: .utf8)
        let chromium = try CommandRunner.run(
            "/usr/bin/chromium",
            ["--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=60000", "--dump-dom", "file://" + page],
            environment: ["HOME": directory])
        try #require(chromium.status == 0, "chromium: \(chromium.error.suffix(1000))")
        return chromium.output
    }

    @Test(requiresRootAndUserNamespaces) func aKilledSessionLeavesAReadableUnsealedTranscript() throws {
        let learner = try Learner()
        let terminal = try learner.shell(["uts"])
        try enter(terminal, "hostname", expecting: "✓ Step 1 done")
        kill(terminal.pid, SIGKILL)
        _ = terminal.waitForExit()
        _ = try CommandRunner.gantry(["cleanup"])
        let files = transcripts(of: learner)
        try #require(files.count == 1)
        let verify = try learner.gantry(["transcripts", "verify", files[0]])
        #expect(verify.status == 0, "a killed session's file is damaged nowhere: \(verify.output)")
        #expect(verify.output.contains("not sealed"), "\(verify.output)")
        let listed = try learner.gantry(["transcripts"])
        #expect(listed.output.contains("uts 1/3 steps") && listed.output.contains("not sealed"), "\(listed.output)")
    }

    @Test(requiresRootAndUserNamespaces) func anUnwritableTranscriptDirectoryLosesNothingElse() throws {
        let learner = try Learner()
        try FileManager.default.createDirectory(atPath: learner.home + "/data/gantry", withIntermediateDirectories: true)
        try "not a directory".write(toFile: learner.home + "/data/gantry/transcripts", atomically: true, encoding: .utf8)
        try expectHostUnchanged {
            let result = try learner.gantry(["shell", "--lessons", ShellCommandTests.lessons, "uts"], input: "hostname\n:quit\n")
            #expect(result.status == 0, "\(result.output)\(result.error)")
            #expect(result.error.components(separatedBy: "Recording stopped").count == 2, "said once: \(result.error)")
            #expect(result.output.contains("✓ Step 1 done"))
        }
        #expect(learner.progress.contains("step\tuts\tlook\tdone=yes"))
    }

    @Test(requiresRootAndUserNamespaces) func aPasswordTypedWithEchoOffIsNeitherShownNorRecorded() throws {
        let learner = try Learner()
        try expectHostUnchanged {
            let terminal = try learner.shell(["uts"])
            try enter(terminal, "read -s -p 'password: ' secret; echo; echo length=${#secret}", expecting: "password: ")
            // A person reads the prompt before typing; keys typed ahead of `read -s` would
            // meet the terminal before it turned echo off.
            usleep(300_000)
            terminal.type("hunter2\r")
            try terminal.waitFor("length=7")
            // A program that reads lines with echo on still gets it (cat shows what is typed).
            try enter(terminal, "head -n1", expecting: "head -n1")
            terminal.type("visible\r")
            try terminal.waitFor("visible")
            try enter(terminal, ":quit", expecting: "Transcript: ")
            #expect(terminal.waitForExit() == 0)
            #expect(!TerminalSession.plain(terminal.raw).contains("hunter2"), "the password was shown")
        }
        let file = try #require(transcripts(of: learner).first)
        let text = try String(contentsOfFile: file, encoding: .utf8)
        #expect(!text.contains("hunter2"), "the password was recorded")
        #expect(text.contains(#"\"redacted\":true"#))
        #expect(text.contains("visible"))
    }

    @Test(requiresRootAndUserNamespaces) func noRecordRecordsNothing() throws {
        let learner = try Learner()
        let result = try learner.gantry(["shell", "--lessons", ShellCommandTests.lessons, "uts", "--no-record"], input: "hostname\n")
        #expect(result.status == 0, "\(result.error)")
        #expect(transcripts(of: learner).isEmpty)
        #expect(!result.error.contains("Transcript:"))
    }
}
