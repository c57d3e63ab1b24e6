import Testing

@testable import Lessons

@Suite struct ParserTests {
    static let sample = """
        ---
        id: uts
        title: "UTS namespace: a hostname of your own"   # the step list follows
        ko:
          title: UTS 네임스페이스
        requires: [userns, namespaces]
        lab:
          hostname: dockeredu
          pids: 64
        points: 10
        ---

        # UTS

        Why hostnames matter.

        ## Start a shell in a new UTS namespace

        `unshare -u` gives the new shell a UTS namespace of its own.

        <details><summary>한국어</summary>

        `unshare -u`는 새 셸에 자신만의 UTS 네임스페이스를 줍니다.

        </details>

        ```console
        $ unshare -u /bin/bash
        $ hostname con01
        $ hostname
        con01
        $ echo $$
        {{shell:int}}
        $ false
        [1]
        $ printf 'a\\tb'
        a\\tb (esc) (no-eol)
        ```

        ```check
        hostname process=bash namespace=own is=con01
        hostname is=dockeredu
        ```

        > **Hint:** Did you run `unshare -u` first?
        > Without it the host's hostname would change.

        ## Look from outside {#outside}

        ```console cgroup.v2
        $ cat /sys/fs/cgroup/cgroup.controllers
        .* (re)
        ```

        ```check
        seen output~=cpu
        ```
        """

    @Test func aLessonReadsAsNotesAndParsesAsATest() throws {
        let lesson = try LessonParser.parse(Self.sample, file: "uts.md")
        #expect(lesson.id == "uts")
        #expect(lesson.title == "UTS namespace: a hostname of your own")
        #expect(lesson.translatedTitles["ko"] == "UTS 네임스페이스")
        #expect(lesson.requires == ["userns", "namespaces"])
        #expect(lesson.lab == Lesson.LabSettings(hostname: "dockeredu", memory: nil, pids: 64))
        #expect(lesson.points == 10)
        #expect(lesson.introduction == ["# UTS", "", "Why hostnames matter."])
        #expect(lesson.steps.map(\.id) == ["start-a-shell-in-a-new-uts-namespace", "outside"])
        let first = lesson.steps[0]
        #expect(first.prose == ["`unshare -u` gives the new shell a UTS namespace of its own."])
        #expect(first.translations["ko"] == ["`unshare -u`는 새 셸에 자신만의 UTS 네임스페이스를 줍니다."])
        let commands = first.console[0].commands
        #expect(commands.map(\.command) == ["unshare -u /bin/bash", "hostname con01", "hostname", "echo $$", "false", "printf 'a\\tb'"])
        #expect(commands[2].expected.map(\.text) == ["con01"])
        #expect(commands[4].expectedStatus == 1)
        #expect(commands[5].expected.first?.kind == .escaped)
        #expect(commands[5].expected.first?.noEndOfLine == true)
        #expect(first.checks[0].checks.map(\.text) == ["hostname process=bash namespace=own is=con01", "hostname is=dockeredu"])
        #expect(first.checks[0].checks[0].probe is HostnameProbe)
        #expect(first.hints == ["Did you run `unshare -u` first?\nWithout it the host's hostname would change."])
        #expect(lesson.steps[1].console[0].capability == "cgroup.v2")
        #expect(lesson.steps[1].console[0].commands[0].expected[0].kind == .regex)
    }

    @Test func continuationLinesJoinTheCommand() throws {
        let text = "---\nid: x\ntitle: X\n---\n## S\n```console\n$ for i in 1 2; do\n>   echo $i\n> done\n1\n2\n```\n```check\nseen output=2\n```\n"
        let command = try LessonParser.parse(text, file: "x.md").steps[0].console[0].commands[0]
        #expect(command.command == "for i in 1 2; do\n  echo $i\ndone")
        #expect(command.expected.map(\.text) == ["1", "2"])
    }

    @Test func frontMatterSubsetHandlesListsQuotesAndComments() throws {
        let value = try FrontMatterParser.parse(["a: 'it''s'", "b:", "  - one", "  - \"two # not a comment\"", "c: [x, y] # comment"], firstLine: 2, file: "f")
        #expect(value["a"]?.string == "it's")
        #expect(value["b"] == .list([.scalar("one", line: 0), .scalar("two # not a comment", line: 0)], line: 0))
        #expect(value["c"] == .list([.scalar("x", line: 0), .scalar("y", line: 0)], line: 0))
    }
}

/// `points:` and `grading:`: how `gantry grade` shares a lesson's points out.
@Suite struct GradingSettingsTests {
    static func lesson(_ front: String, steps: [String] = ["one", "two", "three"]) throws(LessonError) -> Lesson {
        let body = steps.map { "## Step \($0) {#\($0)}\n\n```check\nhostname is=gantry\n```\n" }.joined(separator: "\n")
        return try LessonParser.parse("---\nid: g\ntitle: G\n\(front)---\n\n\(body)", file: "g.md")
    }

    @Test func evenSharesAddUpExactlyAndNamedStepsKeepTheirs() throws {
        let even = try Self.lesson("points: 10\n")
        #expect(even.stepPoints.map(\.points) == [3.33, 3.33, 3.34])
        #expect(even.grading.hintPenalty == 0.1 && even.grading.solvePenalty == 0.5, "defaults a teacher expects")
        let named = try Self.lesson("points: 20\ngrading:\n  hint: 25%\n  solve: 1\n  steps:\n    two: 10\n")
        #expect(named.stepPoints.map(\.points) == [5, 10, 5])
        #expect(named.grading.hintPenalty == 0.25 && named.grading.solvePenalty == 1)
        #expect(try Self.lesson("").stepPoints.map(\.points) == [10, 10, 10], "no points: 10 a step")
    }

    @Test(arguments: [
        ("points: 10\ngrading:\n  steps:\n    four: 2\n", 7, "no step 'four'"),
        ("points: 10\ngrading:\n  steps:\n    one: 8\n    two: 8\n", 7, "more than the lesson's points"),
        ("points: 10\ngrading:\n  hint: 150%\n", 6, "0% to 100%"),
        ("points: 10\ngrading:\n  bonus: 1\n", 6, "unknown grading setting 'bonus'"),
    ])
    func mistakesNameTheLine(front: String, line: Int, message: String) {
        #expect {
            _ = try Self.lesson(front)
        } throws: { error in
            guard let error = error as? LessonError else { return false }
            return error.line == line && error.description.contains(message)
        }
    }
}

@Suite struct MatcherTests {
    func line(_ text: String, _ kind: ExpectedLine.Kind = .literal, noEOL: Bool = false) -> ExpectedLine {
        ExpectedLine(text: text, kind: kind, noEndOfLine: noEOL, line: 1)
    }

    @Test func literalRegexGlobAndEscapedLinesMatch() {
        var matcher = OutputMatcher()
        #expect(matcher.match("con01\n", expected: [line("con01")]) == nil)
        #expect(matcher.match("veth1@if7: UP\n", expected: [line("veth1@if[0-9]+: UP", .regex)]) == nil)
        #expect(matcher.match("total 12\n", expected: [line("total *", .glob)]) == nil)
        #expect(matcher.match("a\tb", expected: [line("a\\tb", .escaped, noEOL: true)]) == nil)
        #expect(matcher.match("a\tb\n", expected: [line("a\\tb", .escaped, noEOL: true)]) != nil, "(no-eol) means no newline")
    }

    @Test func placeholdersCaptureAndAreReused() {
        var matcher = OutputMatcher()
        #expect(matcher.match("12345\n", expected: [line("{{loop:int}}")]) == nil)
        #expect(matcher.captures["loop"] == "12345")
        #expect(matcher.substitute("cgclassify -g cpu:limit_cpu_50 {{loop}}") == "cgclassify -g cpu:limit_cpu_50 12345")
        #expect(matcher.match("12345\n", expected: [line("{{loop}}")]) == nil, "a captured name must match the same value")
        #expect(matcher.match("99\n", expected: [line("{{loop}}")]) != nil)
        #expect(
            matcher.match(
                "link/ether 02:42:ac:11:00:02 brd ff:ff:ff:ff:ff:ff\n",
                expected: [line("link/ether {{mac:mac}} brd ff:ff:ff:ff:ff:ff")]) == nil)
    }

    @Test func aMismatchIsShownAsADiff() {
        var matcher = OutputMatcher()
        let mismatch = matcher.match("gantry\n", expected: [line("con01")])
        #expect(mismatch?.diff == ["- con01", "+ gantry"])
        let extra = matcher.match("a\nb\nc\n", expected: [line("a"), line("c")])
        #expect(extra?.diff == ["  a", "+ b", "  c"])
    }
}

@Suite struct ExpectationUpdaterTests {
    @Test func outputIsWrittenAsCramWouldWriteIt() {
        #expect(ExpectationUpdater.expectation(for: "con01\n", status: 0) == ["con01"])
        #expect(ExpectationUpdater.expectation(for: "a\tb", status: 0) == ["a\\tb (esc) (no-eol)"])
        #expect(ExpectationUpdater.expectation(for: "trailing \n", status: 2) == ["trailing  (esc)", "[2]"])
        #expect(ExpectationUpdater.expectation(for: "[1]\n", status: 0) == ["[1] (esc)"], "a line that looks like a status is escaped")
    }

    @Test func onlyMismatchingCommandsAreRewritten() throws {
        let text = "---\nid: x\ntitle: X\n---\n## S\n```console\n$ echo 42\n{{n:int}}\n$ hostname\nwrong\n```\n```check\nseen output=42\n```\n"
        let lesson = try LessonParser.parse(text, file: "x.md")
        var step = LessonRunner.StepResult(id: "s", title: "S", failures: [])
        step.observed = [7: ("42\n", 0), 9: ("gantry\n", 0)]
        let updated = ExpectationUpdater.update(text, lesson: lesson, steps: [step])
        #expect(updated == "---\nid: x\ntitle: X\n---\n## S\n```console\n$ echo 42\n{{n:int}}\n$ hostname\ngantry\n```\n```check\nseen output=42\n```\n")
    }
}
