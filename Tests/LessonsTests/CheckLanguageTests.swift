import Testing

@testable import Lessons

/// The parts of the step rule and the check language that need no lab: how check lines are
/// read, what lint refuses, how values are captured.
@Suite struct CheckLanguageTests {
    func lesson(_ body: String) throws -> Lesson {
        try LessonParser.parse("---\nid: t\ntitle: T\n---\n\n" + body, file: "t.md")
    }

    @Test func operatorsAreFoundByPositionAndQuotesHoldAnything() throws {
        let (_, _, arguments) = try CheckSyntax.parse("command run=\"[ \\\"$x\\\" != y ] && echo ok\" output!~=f.o\tstatus<=1", line: 1, file: "t")
        #expect(arguments.map(\.key) == ["run", "output", "status"])
        #expect(arguments.map(\.op) == [.equal, .doesNotMatch, .atMost])
        #expect(arguments[0].value == #"[ "$x" != y ] && echo ok"#, "!= inside a quoted value is the value's")
        #expect(arguments[1].value == "f.o", "a tab separates words")
        let (_, _, regex) = try CheckSyntax.parse(#"seen output~="^uts:\[[0-9]+\]$""#, line: 1, file: "t")
        #expect(regex[0].value == #"^uts:\[[0-9]+\]$"#, "a backslash that escapes nothing stays")
    }

    @Test(arguments: [
        ("hostname is=x extra=1", "'hostname' has no 'extra'"),
        ("link name=veth0 state=sideways", "'state' is one of up, down"),
        ("cgroup name=g cpu=lots", "'cpu' takes a number"),
        ("cgroup name=g cpu~=0.5", "'cpu' is a number: compare it with"),
        ("netns name~=test", "'name' takes =, not ~="),
        ("process command=@nobody", "unknown process '@nobody'"),
        ("file path=/x exists=maybe", "'exists' is yes or no"),
        ("link name=veth0 address=172.16.0.2", ""),
        ("link name=veth0 network=nonsense", "is not NETWORK/PREFIX"),
        ("ping to=not an address", "expected key=value"),
        ("process command=sleep capability=cap_flying", "unknown capability"),
        ("cgroup name=g cpu>=0.4 cpu>=0.5", "'cpu>=' is given twice"),
        ("hostname is=\"unclosed", "is not closed"),
    ])
    func mistakesInChecksAreNamed(line: String, message: String) {
        do {
            _ = try CheckParser.parseLine(line, line: 3, file: "t.md")
            #expect(message.isEmpty, "\(line) should have been refused")
        } catch {
            #expect(!message.isEmpty && error.message.contains(message), "\(line): \(error.message)")
        }
    }

    @Test func lintRefusesWhatAuthorsGetWrong() throws {
        func refusal(_ body: String, front: String = "") -> String {
            do {
                _ = try LessonParser.parse("---\nid: t\ntitle: T\n\(front)---\n\n" + body, file: "t.md")
                return ""
            } catch { return error.description }
        }
        #expect(refusal("## S\n```console\n$ true\n```\n").contains("has no ```check block"))
        #expect(refusal("## S\n```check\nseen output=x\n```\n", front: "requires: [netz]\n").contains("unknown capability 'netz'"))
        #expect(refusal("## S\n```console\n$ kill {{loop}}\n```\n```check\nseen output=x\n```\n").contains("{{loop}} is used before any output captures it"))
        #expect(refusal("## S\n```check\nprocess command={{loop}}\n```\n").contains("{{loop}} is used before"))
        #expect(refusal("## S\n```console\n$ true\n```check\nseen output=x\n```\n").contains("is not closed before line"))
        // Files written elsewhere: a byte-order mark and CRLF line ends read the same.
        let crlf = "\u{FEFF}---\r\nid: t\r\ntitle: T\r\n---\r\n\r\n## S\r\n```check\r\nseen output=x\r\n```\r\n"
        #expect(try LessonParser.parse(crlf, file: "t.md").steps.count == 1)
    }

    @Test func capturesWorkInRegexAndEscapedLinesAndTheNewestWins() throws {
        var matcher = OutputMatcher()
        let regex = ExpectedLine(text: #"\[1\] {{loop:int}}"#, kind: .regex, noEndOfLine: false, line: 1)
        matcher.capture(from: "noise\n[1] 4242\n", expectations: [[regex]])
        #expect(matcher.captures["loop"] == "4242")
        matcher.capture(from: "[1] 5151\n", expectations: [[regex]])
        #expect(matcher.captures["loop"] == "5151", "the loop started last is the loop")
        let escaped = ExpectedLine(text: #"pid\t{{pid:int}}"#, kind: .escaped, noEndOfLine: false, line: 1)
        #expect(matcher.match("pid\t77\n", expected: [escaped]) == nil)
        #expect(matcher.captures["pid"] == "77")
        #expect(matcher.substitute("kill {{loop}}") == "kill 5151")
    }

    @Test func translatedTitlesAndHintsAreRead() throws {
        let parsed = try lesson(
            "## Look {#look}\n\nText.\n\n<details><summary>한국어</summary>\n\n### 보기\n\n본문.\n\n> **힌트:** 한국어 힌트.\n\n</details>\n\n```check\nseen output=x\n```\n\n> **Hint:** English hint.\n"
        )
        let step = parsed.steps[0]
        #expect(step.title(in: "ko") == "보기")
        #expect(step.translations["ko"] == ["본문."])
        #expect(step.hints(in: "ko") == ["한국어 힌트."])
        #expect(step.hints(in: "en") == ["English hint."])
    }
}
