import Foundation
import Lessons
import POSIXSupport
import Testing

@testable import Transcripts

/// The recorder and the reader without a lab: every event type written and read back, and
/// what a crash, an edit or random damage does to a file. No root.
@Suite struct TranscriptFormatTests {
    static let host = TranscriptHeader.HostFacts(kernel: "6.1.0", cgroups: "hybrid", root: false, capabilities: ["userns", "namespaces"])

    /// A directory of its own and a lesson file to hash.
    static func scratch() throws -> (directory: String, lesson: String) {
        let directory = NSTemporaryDirectory() + "gantry-transcripts-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let lesson = directory + "/uts.md"
        try "---\nid: uts\n---\n## Look {#look}\n".write(toFile: lesson, atomically: true, encoding: .utf8)
        return (directory, lesson)
    }

    static func recorder(_ directory: String, file: String? = nil, told: @escaping (String) -> Void = { _ in }) -> Recorder {
        Recorder(
            settings: .init(directory: directory + "/transcripts", file: file, learner: "kim", host: host, gantryVersion: "0.1.0", terminal: "xterm"),
            size: { (100, 30) }, tell: told)
    }

    /// One of every event, in a plausible order.
    static func everyEvent(lesson: String) -> [SessionEvent] {
        [
            .output("before the lesson\n"),
            .lessonOpened(.init(id: "uts", title: "UTS namespace", file: lesson, steps: ["look", "unshare", "back"], language: "en")),
            .labFailed("no user namespaces"),
            .labReady(.init(milliseconds: 61, hostname: "dockeredu", unmapped: [], limited: true)),
            .preparing(index: 0, commands: 0),
            .stepOpened(index: 0, id: "look", title: "Look at the machine's name"),
            .output("Step 1/3: Look\n"),
            .lineSent(text: "hostname", target: .labShell),
            .output("dockeredu\n"),
            .commandEnded(status: 0, milliseconds: 12),
            .worked(step: "look", commands: 1),
            .checkEvaluated(
                .init(
                    step: "look", passed: true, purpose: .command, commandsRun: 1,
                    expectations: [
                        .init(line: 42, expectation: Message(verbatim: "hostname is dockeredu"), passed: true, seen: Message(verbatim: "dockeredu"))
                    ])),
            .stepDone(step: "look", index: 0, overtaken: false, why: Message(verbatim: "dockeredu")),
            .stepOpened(index: 1, id: "unshare", title: "A new UTS namespace"),
            .lineSent(text: "unshare -u /bin/bash", target: .labShell),
            .lineSent(text: "hostname con01", target: .nestedShell(depth: 2)),
            .wrongTurn(step: "unshare", message: Message(verbatim: "the lab's hostname changed"), hintsLeft: 1),
            .measuring,
            .lineSent(text: "kill {{loop}}", target: .nestedShell(depth: 2)),
            .substituted("kill 4242"),
            .shellRestarted(reason: nil, failure: nil),
            .lineSent(text: "top", target: .nestedShell(depth: 2)),
            .keystrokes(text: "q", redacted: false),
            .keystrokes(text: "s3cret\r", redacted: true),
            .lineSent(text: ":hint", target: .gantry),
            .hintShown(step: "unshare", number: 1, count: 2, hint: 1),
            .solutionShown(step: "unshare", commands: ["unshare -u /bin/bash"]),
            .reset(step: "unshare"),
            .resized(columns: 80, rows: 24),
            .stepDone(step: "back", index: 2, overtaken: true, why: nil),
            .skipped(step: "back"),
            .lessonComplete(id: "uts"),
            // A flood (`cat /dev/zero`): left out, and said to be.
            .output(String(repeating: "z", count: Recorder.outputLimit + 1)),
            .ended(reason: "quit"),
        ]
    }

    @Test func everyEventTypeRoundTrips() throws {
        let (directory, lesson) = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let recorder = Self.recorder(directory)
        for event in Self.everyEvent(lesson: lesson) { recorder.observe(event) }
        let path = try #require(recorder.files.first)
        let transcript = try Transcript.read(path)
        #expect(transcript.integrity == .sealed)
        let facts = transcript.header.gantry
        #expect(facts.lesson.id == "uts" && facts.learner == "kim" && facts.host == Self.host)
        #expect(facts.lesson.sha256 == "\(SHA256.hexDigest(Array(try String(contentsOfFile: lesson, encoding: .utf8).utf8)))")
        #expect((transcript.header.width, transcript.header.height) == (100, 30))
        let outputs = transcript.events.filter { $0.code == "o" }.map(\.data)
        #expect(outputs.first == "before the lesson\r\n", "output before the header is kept, as displayed (CR LF)")
        #expect(transcript.events.filter { $0.code == "m" }.map(\.data) == ["step 1: Look at the machine's name", "step 2: A new UTS namespace"])
        #expect(transcript.events.filter { $0.code == "r" }.map(\.data) == ["80x24"])
        let inputs = transcript.events.filter { $0.code == "i" }.map(\.data)
        #expect(inputs.contains("hostname\n") && inputs.contains("q") && inputs.contains("*******"), "\(inputs)")
        #expect(!inputs.joined().contains("s3cret"), "a password typed with echo off is not recorded")
        let kinds = transcript.records.map(\.kind)
        for kind in GantryRecord.Kind.allCases { #expect(kinds.contains(kind), "\(kind)") }
        let lines = transcript.records.filter { $0.kind == .line }
        #expect(lines.map { $0.target ?? "" } == ["shell", "shell", "nested", "nested", "nested", "gantry"])
        #expect(lines[2].depth == 2)
        let check = try #require(transcript.records.first { $0.kind == .check })
        #expect(check.expectations?.first?.seen == "dockeredu" && check.passed == true)
        #expect(transcript.records.first { $0.kind == .status }?.status == 0)
        #expect(transcript.stepsDone == ["look", "back"])
        #expect(transcript.hints == 1)
        #expect(transcript.endReason == "quit")
        #expect(transcript.events.map(\.time) == transcript.events.map(\.time).sorted(), "time only goes forward")
    }

    @Test func eachLessonVisitIsAFileOfItsOwn() throws {
        let (directory, lesson) = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let recorder = Self.recorder(directory, file: directory + "/mine.cast")
        let opened = SessionEvent.lessonOpened(.init(id: "uts", title: "UTS", file: lesson, steps: ["look"], language: "en"))
        recorder.observe(opened)
        recorder.observe(.output("one\n"))
        recorder.observe(opened)
        recorder.observe(.output("two\n"))
        recorder.observe(.ended(reason: "quit"))
        #expect(recorder.files == [directory + "/mine.cast", directory + "/mine.2.cast"])
        let first = try Transcript.read(recorder.files[0]), second = try Transcript.read(recorder.files[1])
        #expect(first.integrity == .sealed && first.endReason == "another lesson opened")
        #expect(second.integrity == .sealed && second.endReason == "quit")
    }

    /// A finished transcript's bytes.
    static func sample() throws -> (bytes: [UInt8], cleanup: () -> Void) {
        let (directory, lesson) = try scratch()
        let recorder = recorder(directory)
        for event in everyEvent(lesson: lesson) { recorder.observe(event) }
        let file = try #require(recorder.files.first)
        let bytes = try #require(POSIX.readFileBytes(file))
        return (bytes, { try? FileManager.default.removeItem(atPath: directory) })
    }

    @Test func aFileCutMidLineIsReadAndSaidToBeCut() throws {
        let (bytes, cleanup) = try Self.sample()
        defer { cleanup() }
        // Cut inside the tenth line, as a kill -9 during a write would leave it.
        let lineStarts = bytes.indices.filter { $0 == 0 || bytes[$0 - 1] == 0x0a }
        let cut = Array(bytes[..<(lineStarts[9] + 7)])
        let transcript = try Transcript.parse(cut, path: "cut.cast")
        guard case .unsealed(let torn, _) = transcript.integrity else { Issue.record("\(transcript.integrity)"); return }
        #expect(torn)
        #expect(transcript.events.count == 8, "the whole lines before the cut are all there")
        #expect(transcript.integrityDescription.contains("cut off"))
    }

    @Test func aChangedByteIsFoundOnItsLine() throws {
        let (bytes, cleanup) = try Self.sample()
        defer { cleanup() }
        let lineStarts = bytes.indices.filter { $0 == 0 || bytes[$0 - 1] == 0x0a }
        // One character changed on each of these lines: the header's title, output, input,
        // and Gantry's own events (their data, their chain link, their list of digests).
        let lines = bytes.split(separator: 0x0a, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        func line(containing text: String) -> Int { (lines.firstIndex { $0.contains(text) } ?? -1) + 1 }
        // (line, text on it, whether the character changed is the one just after the text)
        let edits: [(line: Int, text: String, after: Bool)] = [
            (1, "UTS namespace", false),
            (line(containing: #""o", "dockeredu"#), "dockeredu", false),
            (line(containing: #""i", "hostname"#), "hostname", false),
            (line(containing: "hostname is dockeredu"), "is dockeredu", false),
            (line(containing: #"\"kind\":\"hint"#), #"\"chain\":\""#, true),
            (line(containing: #"\"kind\":\"solve"#), #"\"digests\":[\""#, true),
        ]
        for (number, text, after) in edits {
            let content = lines[number - 1]
            let range = try #require(content.range(of: text), "line \(number) has \(text): \(content)")
            let offset = content.utf8.distance(from: content.startIndex, to: after ? range.upperBound : content.index(before: range.upperBound))
            var edited = bytes
            let position = lineStarts[number - 1] + offset
            // A letter becomes its capital; a hex digit another digit.
            edited[position] = (0x61...0x7a).contains(bytes[position]) && !after ? bytes[position] - 0x20 : bytes[position] == 0x30 ? 0x31 : 0x30
            let transcript = try Transcript.parse(edited, path: "edited.cast")
            #expect(transcript.integrity.brokenLine == number, "edit on line \(number) at '\(text)': \(transcript.integrity)")
        }
        // A line removed, and one added.
        var rows = bytes.split(separator: 0x0a).map(Array.init)
        rows.remove(at: 5)
        #expect(try Transcript.parse(Array(rows.joined(separator: [0x0a])) + [0x0a], path: "removed.cast").integrity.brokenLine != nil)
        rows = bytes.split(separator: 0x0a).map(Array.init)
        rows.insert(Array(#"[0.5, "o", "forged\r\n"]"#.utf8), at: 5)
        #expect(try Transcript.parse(Array(rows.joined(separator: [0x0a])) + [0x0a], path: "added.cast").integrity.brokenLine == 6)
    }

    @Test func theSealCoversItselfAndNothingMayFollowIt() throws {
        let (bytes, cleanup) = try Self.sample()
        defer { cleanup() }
        var lines = bytes.split(separator: 0x0a).map { String(decoding: $0, as: UTF8.self) }
        let last = lines.count
        // The seal's own time, spacing or escaping changed: its digest no longer holds.
        for edit in [{ (line: String) in "[99999.0" + line.drop { $0 != "," } }, { $0.replacing(#", "g", "#, with: #",  "g",  "#) }] {
            var edited = lines
            edited[last - 1] = edit(lines[last - 1])
            let transcript = try Transcript.parse(Array((edited.joined(separator: "\n") + "\n").utf8), path: "seal.cast")
            #expect(transcript.integrity.brokenLine == last, "\(transcript.integrity)")
        }
        // Something appended after the seal, even without a line end, is not a crash's cut.
        let appended = Array(bytes) + Array(#"[3.0, "o", "forged\r\n"]"#.utf8)
        #expect(try Transcript.parse(appended, path: "appended.cast").integrity.brokenLine == last + 1)
        lines.removeAll()
    }

    @Test func anUnwritableDirectoryIsSaidOnceAndTheSessionGoesOn() throws {
        let (directory, lesson) = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // A file where the directory should be: nothing can be made below it, even as root.
        try "".write(toFile: directory + "/transcripts", atomically: true, encoding: .utf8)
        var told: [String] = []
        let recorder = Self.recorder(directory) { told.append($0) }
        recorder.observe(.lessonOpened(.init(id: "uts", title: "UTS", file: lesson, steps: ["look"], language: "en")))
        for _ in 0..<5 { recorder.observe(.output("more\n")) }
        recorder.observe(.ended(reason: "quit"))
        #expect(told.count == 1, "\(told)")
        #expect(told.first?.contains("unrecorded") == true)
        #expect(recorder.files.isEmpty)
    }

    @Test func damagedFilesNeverCrashTheReader() throws {
        let (bytes, cleanup) = try Self.sample()
        defer { cleanup() }
        var generator = SystemRandomNumberGenerator()
        var outcomes: [String: Int] = [:]
        for _ in 0..<500 {
            var mutated = bytes
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                switch Int.random(in: 0..<4, using: &generator) {
                case 0: mutated[Int.random(in: 0..<mutated.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
                case 1: mutated.remove(at: Int.random(in: 0..<mutated.count, using: &generator))
                case 2: mutated.insert(UInt8.random(in: 0...255, using: &generator), at: Int.random(in: 0..<mutated.count, using: &generator))
                default: mutated = Array(mutated.prefix(Int.random(in: 0..<mutated.count, using: &generator)))
                }
                if mutated.isEmpty { mutated = [0x7b] }
            }
            do {
                let transcript = try Transcript.parse(mutated, path: "fuzz.cast")
                outcomes["\(transcript.integrity)".prefix(8).description, default: 0] += 1
            } catch {
                #expect(error.line != nil || "\(error)".contains("empty"), "a reading error names the line: \(error)")
                outcomes["unreadable", default: 0] += 1
            }
        }
        #expect(outcomes.values.reduce(0, +) == 500)
    }
}

extension Transcript.Integrity {
    var brokenLine: Int? { if case .broken(let line, _) = self { line } else { nil } }
}
