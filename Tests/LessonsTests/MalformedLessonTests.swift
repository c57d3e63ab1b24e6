import Foundation
import Testing

@testable import Lessons

/// Each file in Malformed/ has exactly one mistake; the error must name the line and say
/// what was expected.
@Suite struct MalformedLessonTests {
    static let expected: [String: String] = [
        "unknown-probe.md":
            "unknown-probe.md:7:1: unknown probe 'hostnam' (known: hostname, namespace, process, file, mount, netns, link, ping, cgroup, command, seen)",
        "unknown-key.md": "unknown-key.md:7:17: 'link' has no 'colour' (it takes: name, netns, exists, state, kind, address, network, master, peer-netns, mtu)",
        "bad-regex.md": "bad-regex.md:8:1: '[a-z' is not a valid regular expression",
        "duplicate-step.md": "duplicate-step.md:6:4: step id 'same' is used twice; give one an explicit id with {#other-id}",
        "missing-title.md": "missing-title.md:3:1: the front matter has no 'title:'",
        "no-front-matter.md": "no-front-matter.md:1:1: a lesson starts with front matter: a line '---', then id and title, then '---'",
        "output-before-command.md": "output-before-command.md:7:1: expected a command line starting with '$ ' before any output, found 'output before command'",
        "unclosed-block.md": "unclosed-block.md:6:1: the code block opened here is never closed with ```",
        "unknown-front-key.md": "unknown-front-key.md:4:1: unknown front matter key 'require' (known: grading, id, ko, lab, order, points, requires, title)",
        "bad-boolean.md": "bad-boolean.md:7:20: 'reachable' is yes or no, found 'maybe'",
        "bad-number.md": "bad-number.md:7:15: 'cpu' takes a number, found 'lots'",
        "capture-in-command.md": "capture-in-command.md:7:8: a command can use {{pid}} but not capture it; captures go in expected output",
        "no-steps.md": "no-steps.md:5:1: a lesson needs at least one step: a '## ' heading",
        "bad-indent.md": "bad-indent.md:6:4: unexpected indentation after 'hostname'",
    ]

    static var directory: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Malformed").path
    }

    @Test(arguments: expected.keys.sorted())
    func eachMistakeIsReportedWhereItIs(name: String) throws {
        let text = try String(contentsOfFile: Self.directory + "/" + name, encoding: .utf8)
        do {
            _ = try LessonParser.parse(text, file: name)
            Issue.record("\(name) parsed without an error")
        } catch {
            #expect(error.description.hasPrefix(Self.expected[name]!), "got: \(error.description)")
        }
    }

    @Test func everyFileInTheCorpusHasAnExpectation() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.directory).filter { $0.hasSuffix(".md") }
        #expect(Set(files) == Set(Self.expected.keys))
    }

    /// Random edits of a good lesson never crash the parser: an error or a lesson, nothing else.
    @Test func mutatedLessonsNeverCrashTheParser() {
        var generator = SystemRandomNumberGenerator()
        let base = Array(ParserTests.sample.utf8)
        let pieces: [[UInt8]] = ["\n", "```", "$ ", "{{", "}}", "---", "## ", "> ", "[1]", "=", "\"", " (re)", "\t", "<details><summary>"].map {
            Array($0.utf8)
        }
        for _ in 0..<2000 {
            var bytes = base
            for _ in 0..<Int.random(in: 1...6, using: &generator) {
                let position = Int.random(in: 0...bytes.count, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: bytes.insert(contentsOf: pieces.randomElement(using: &generator)!, at: position)
                case 1: if position < bytes.count { bytes.removeSubrange(position..<min(bytes.count, position + Int.random(in: 1...20, using: &generator))) }
                default: if position < bytes.count { bytes[position] = UInt8.random(in: 0...127, using: &generator) }
                }
            }
            _ = try? LessonParser.parse(String(decoding: bytes, as: UTF8.self), file: "mutated.md")
        }
    }
}
