import Terminal
import Testing

@testable import Shell

@Suite struct RenderingTests {
    let plain = MarkdownRenderer(style: TextStyle(colors: false, width: 30))

    @Test func paragraphsWrapToTheWidthAndListsHangTheirIndent() {
        let lines = plain.render([
            "A container is an isolated process, and", "this sentence is long.", "",
            "- first item that wraps onto a second line", "- second",
        ])
        #expect(
            lines == [
                "A container is an isolated", "process, and this sentence is", "long.", "",
                "  • first item that wraps onto", "    a second line", "  • second",
            ])
        #expect(lines.allSatisfy { displayWidth($0) <= 30 })
    }

    @Test func hangulTakesTwoColumnsWhenWrapping() {
        REPL.useUTF8Locale()
        #expect(displayWidth("안녕") == 4)
        #expect(displayWidth("\u{1b}[36mab\u{1b}[0m") == 2)
        let lines = plain.render(["컨테이너는 격리된 프로세스입니다. 커널이 격리해 줄 수 있는 가장 간단한 것"])
        #expect(lines.count > 1)
        #expect(lines.allSatisfy { displayWidth($0) <= 30 })
        #expect(lines.joined(separator: " ") == "컨테이너는 격리된 프로세스입니다. 커널이 격리해 줄 수 있는 가장 간단한 것")
    }

    @Test func inlineMarkupBecomesTerminalStyles() {
        let colored = MarkdownRenderer(style: TextStyle(colors: true, width: 80))
        #expect(colored.inline("run `unshare -u` **now**") == "run \u{1b}[36munshare -u\u{1b}[0m \u{1b}[1mnow\u{1b}[0m")
        #expect(plain.inline("see [the notes](course/notes.md) and *this*") == "see the notes (course/notes.md) and this")
        #expect(plain.inline("2 * 3 * 4") == "2 * 3 * 4", "a lone star is not emphasis")
    }

    @Test func fencedCodeIsKeptAsItIsAndDetailsWrappersGo() {
        let lines = plain.render([
            "Before:", "```", "$ ip netns add testnet   # long line kept whole", "```",
            "<details><summary>한국어</summary>", "</details>",
        ])
        #expect(lines == ["Before:", "    $ ip netns add testnet   # long line kept whole"])
    }
}

@Suite struct MetaCommandTests {
    @Test func commandsAndTheirArgumentsParse() throws {
        #expect(try MetaCommand.parse(":open uts").get() == .open("uts"))
        #expect(try MetaCommand.parse(":step 3").get() == .step(3))
        #expect(try MetaCommand.parse(":step").get() == .step(nil))
        #expect(try MetaCommand.parse(":lang ko").get() == .language("ko"))
        #expect(try MetaCommand.parse(":q").get() == .quit)
    }

    @Test func mistakesSayWhatIsExpected() {
        #expect(throws: MetaCommandError(":step takes a step number, like :step 2")) { try MetaCommand.parse(":step two").get() }
        #expect(throws: MetaCommandError(":hint takes no arguments")) { try MetaCommand.parse(":hint please").get() }
        #expect(throws: MetaCommandError(":open takes a lesson id, like :open uts (:lessons lists them)")) { try MetaCommand.parse(":open").get() }
        #expect {
            try MetaCommand.parse(":hlep").get()
        } throws: { error in
            (error as? MetaCommandError)?.description.hasPrefix("unknown command :hlep (known: :help :lessons") == true
        }
    }
}

@Suite struct CompleterTests {
    let completer = Completer(
        lessonIDs: ["uts", "user", "pid"], stepCount: 3,
        listDirectory: { path in
            switch path {
            case "/usr/bin": return [("unshare", false), ("uname", false), ("ip", false)]
            case ".": return [("newroot", true), ("notes.txt", false), (".bashrc", false)]
            case "newroot/": return [("bin", true), ("lib", true)]
            default: return []
            }
        })

    @Test func metaCommandsAndTheirArguments() {
        #expect(completer.candidates(line: ":he", wordStart: 0, word: ":he") == [":help"])
        #expect(completer.candidates(line: ":open u", wordStart: 6, word: "u") == ["uts", "user"])
        #expect(completer.candidates(line: ":step ", wordStart: 6, word: "") == ["1", "2", "3"])
        #expect(completer.candidates(line: ":lang k", wordStart: 6, word: "k") == ["ko"])
    }

    @Test func commandsThenPathsInsideTheLab() {
        #expect(completer.candidates(line: "un", wordStart: 0, word: "un") == ["uname", "unshare"])
        #expect(completer.candidates(line: "ls n", wordStart: 3, word: "n") == ["newroot/", "notes.txt"])
        #expect(completer.candidates(line: "chroot newroot/", wordStart: 7, word: "newroot/") == ["newroot/bin/", "newroot/lib/"])
        #expect(completer.candidates(line: "ls ", wordStart: 3, word: "") == ["newroot/", "notes.txt"], "dot files only when asked")
    }
}

/// Gantry's own lines fitted to the terminal: broken at spaces, by display width.
@Suite struct WrappingTests {
    @Test func linesBreakAtSpacesAndKeepTheirIndent() {
        let line = "Lab ready in 52 ms: hostname dockeredu, its own namespaces, cgroup and /; nothing you do here touches this machine."
        let lines = wrapped(line, width: 40)
        #expect(lines.allSatisfy { displayWidth($0) <= 40 }, "\(lines)")
        #expect(lines.joined(separator: " ") == line, "only spaces became line breaks: \(lines)")
        let indented = wrapped("  $ for lib in $(ldd /bin/bash /bin/ls /bin/date | grep -o '/[^ ]*'); do cp $lib ~/newroot$lib; done", width: 30)
        #expect(indented.allSatisfy { $0.hasPrefix("  ") && displayWidth($0) <= 30 }, "\(indented)")
        #expect(wrapped("short", width: 40) == ["short"])
    }

    @Test func hangulTakesTwoColumnsAndEscapesNone() {
        let korean = "이 랩의 호스트 이름은 강의 노트의 머신처럼 dockeredu입니다. 이 단계는 그 이름을 직접 확인하는 것이 목적입니다."
        let lines = wrapped(korean, width: 30)
        #expect(lines.count > 2 && lines.allSatisfy { displayWidth($0) <= 30 }, "\(lines)")
        let styled = "\u{1b}[1;32m✓ Step 1 done: \u{1b}[0myou saw dockeredu, and the step's other checks hold as well."
        let styledLines = wrapped(styled, width: 30)
        #expect(styledLines.allSatisfy { displayWidth($0) <= 30 }, "\(styledLines)")
        #expect(styledLines.first?.hasPrefix("\u{1b}[1;32m✓ Step 1 done:") == true, "escapes stay with their words")
    }

    @Test func aWordWiderThanTheLineIsCutWhereTheLineEnds() {
        let path = "/sys/fs/cgroup/cpu/gantry/lab-12635-3968473056/limit_cpu_50/cpu.cfs_quota_us"
        let lines = wrapped("cat " + path, width: 30)
        #expect(lines.allSatisfy { displayWidth($0) <= 30 }, "\(lines)")
        #expect(lines.joined() == "cat" + path, "\(lines)")
    }
}
