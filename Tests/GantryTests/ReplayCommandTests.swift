import Foundation
import TestSupport
import Testing

@testable import Transcripts

/// `gantry replay --verify` on real recordings, and on recordings edited the way someone who
/// wants a better grade would edit them: with the hash chain recomputed (the chain proves no
/// one edited a file only against someone without the source), so only the re-run can tell.
@Suite(.serialized) struct ReplayCommandTests {
    typealias Learner = ShellCommandTests.Learner

    /// The UTS lesson through the REPL without a terminal: `lines` typed, recorded.
    static func record(_ learner: Learner, _ lines: [String], lesson: String = "uts") throws -> String {
        let file = learner.home + "/\(lesson)-\(UUID().uuidString.prefix(8)).cast"
        let result = try learner.gantry(
            ["shell", "--lessons", ShellCommandTests.lessons, lesson, "--transcript", file], input: lines.joined(separator: "\n") + "\n")
        #expect(FileManager.default.fileExists(atPath: file), "\(result.output)\(result.error)")
        return file
    }

    func replay(_ learner: Learner, _ file: String, _ extra: [String] = []) throws -> CommandResult {
        try learner.gantry(["replay", "--verify", "--quiet", "--lessons", ShellCommandTests.lessons] + extra + [file])
    }

    /// A transcript rewritten item by item, as a forger with Gantry's source would: every
    /// event kept but for `edit`, the chain and seal computed afresh.
    static func forge(
        _ path: String, to forged: String? = nil, header editHeader: (inout TranscriptHeader) -> Void = { _ in },
        edit: (inout [(code: String, data: String, record: GantryRecord?)]) -> Void
    ) throws -> String {
        var transcript = try Transcript.read(path)
        editHeader(&transcript.header)
        var records = transcript.records[...]
        var items = transcript.events.map { event in
            (code: event.code, data: event.data, record: event.code == "g" ? records.popFirst() : nil)
        }
        edit(&items)
        let forged = forged ?? path.replacing(".cast", with: "-forged.cast")
        let writer = try TranscriptWriter(path: forged, header: transcript.header)
        for item in items {
            if let record = item.record {
                switch record.kind {
                case .end: try writer.seal(reason: record.reason ?? "quit")
                case .seal: break
                default: try writer.record(record)
                }
            } else {
                try writer.event(item.code, item.data)
            }
        }
        #expect(try Transcript.read(forged).integrity == .sealed, "the forgery's chain holds")
        return forged
    }

    static let completed = ["hostname", "unshare -u /bin/bash", "hostname con01", "hostname", "exit", "hostname"]

    @Test(requiresRootAndUserNamespaces) func aRealSessionAgreesWithItsReplay() throws {
        let learner = try Learner()
        try expectHostUnchanged {
            // A wrong turn first (the lab's own hostname changed, then put back), a hint, a
            // :check, then the lesson done.
            let file = try Self.record(
                learner, ["hostname", "hostname oops", "hostname dockeredu", ":hint", ":check", "unshare -u /bin/bash", "hostname con01", "exit", "hostname"])
            let result = try replay(learner, file)
            #expect(result.status == 0, "\(result.output)\(result.error)")
            #expect(result.output.contains("The replay agrees with the recording."), "\(result.output)")
        }
    }

    @Test(requiresRootAndUserNamespaces) func anOutputEditedToLookRightFails() throws {
        let learner = try Learner()
        try expectHostUnchanged {
            let file = try Self.record(learner, Self.completed)
            // The first `hostname` said something else than the lab did.
            let forged = try Self.forge(file) { items in
                guard let index = items.firstIndex(where: { $0.code == "o" && $0.data.hasPrefix("dockeredu") }) else { return }
                items[index].data = items[index].data.replacing("dockeredu", with: "container1")
            }
            let result = try replay(learner, forged)
            #expect(result.status == 1, "\(result.output)")
            #expect(result.output.contains("`hostname` printed something else"), "\(result.output)")
            #expect(result.output.contains("'container#'") && result.output.contains("'dockeredu'"), "\(result.output)")
        }
    }

    @Test(requiresRootAndUserNamespaces) func aStepResultEditedToPassFails() throws {
        let learner = try Learner()
        try expectHostUnchanged {
            // Steps 1 and 2 done; the learner never left the nested shell.
            let file = try Self.record(learner, ["hostname", "unshare -u /bin/bash", "hostname con01"])
            let forged = try Self.forge(file) { items in
                guard let end = items.lastIndex(where: { $0.record?.kind == .end }) else { return }
                var done = GantryRecord(kind: .done)
                (done.step, done.index, done.overtaken) = ("exit", 2, false)
                var complete = GantryRecord(kind: .complete)
                complete.text = "uts"
                items.insert(contentsOf: [(code: "g", data: "", record: Optional(done)), (code: "g", data: "", record: Optional(complete))], at: end)
            }
            #expect(try Transcript.read(forged).stepsDone == ["look", "unshare", "exit"], "the forgery claims the lesson")
            let result = try replay(learner, forged)
            #expect(result.status == 1, "\(result.output)")
            #expect(result.output.contains("recorded done, not done in the replay"), "\(result.output)")
        }
    }

    @Test(requiresRootAndUserNamespaces) func editedBrokenUnsealedAndForeignFilesAreRefused() throws {
        let learner = try Learner()
        try expectHostUnchanged {
            let file = try Self.record(learner, Self.completed)
            let text = try String(contentsOfFile: file, encoding: .utf8)

            // One byte changed, the chain not recomputed: refused, with the line.
            let edited = learner.home + "/edited.cast"
            try text.replacing("con01", with: "con02").write(toFile: edited, atomically: true, encoding: .utf8)
            let broken = try replay(learner, edited)
            #expect(broken.status == 1 && broken.error.contains("broken at line"), "\(broken.error)")

            // Cut before the seal (a killed session): refused unless asked for.
            let cut = learner.home + "/cut.cast"
            let lines = text.split(separator: "\n")
            try (lines.dropLast(2).joined(separator: "\n") + "\n").write(toFile: cut, atomically: true, encoding: .utf8)
            let unsealed = try replay(learner, cut)
            #expect(unsealed.status == 1 && unsealed.error.contains("--allow-unsealed"), "\(unsealed.error)")
            let allowed = try replay(learner, cut, ["--allow-unsealed"])
            #expect(allowed.status == 0, "\(allowed.output)\(allowed.error)")

            // Another version of the lesson: both hashes named; --lesson replays it anyway.
            let lessons = learner.home + "/lessons"
            try FileManager.default.createDirectory(atPath: lessons, withIntermediateDirectories: true)
            let changed = try String(contentsOfFile: ShellCommandTests.lessons + "/uts.md", encoding: .utf8) + "\n"
            try changed.write(toFile: lessons + "/uts.md", atomically: true, encoding: .utf8)
            let foreign = try learner.gantry(["replay", "--verify", "--quiet", "--lessons", lessons, file])
            #expect(foreign.status == 1 && foreign.error.contains("another version") && foreign.error.contains("SHA-256"), "\(foreign.error)")
            let forced = try learner.gantry(["replay", "--verify", "--quiet", "--lesson", lessons + "/uts.md", file])
            #expect(forced.status == 0, "\(forced.output)\(forced.error)")
        }
    }

    /// A session recorded where cgroup v2 applied, replayed here (v1 controllers): the
    /// lesson's cgroup steps differ by version, so it is refused, not judged.
    @Test(requiresRootAndUserNamespaces, .enabled(if: FileManager.default.fileExists(atPath: "/sys/fs/cgroup/cpu"), "needs a cgroup v1 cpu controller"))
    func aSessionFromAnotherKindOfHostIsRefusedWithTheReason() throws {
        let learner = try Learner()
        let reference = ReferenceTranscriptTests.root + "/transcripts/cgroup-cpu.cast"
        let forged = try Self.forge(
            reference, to: learner.home + "/v2.cast",
            header: { header in
                header.gantry.host.cgroups = "unified"
                header.gantry.host.capabilities = header.gantry.host.capabilities.map { $0 == "cgroup.v1" ? "cgroup.v2" : $0 }
            }
        ) { _ in }
        try expectHostUnchanged {
            let result = try replay(learner, forged)
            #expect(result.status == 1, "\(result.output)")
            #expect(result.error.contains("cgroup.v") && result.error.contains("replay it on a host like the recording's"), "\(result.error)")
        }
    }
}
