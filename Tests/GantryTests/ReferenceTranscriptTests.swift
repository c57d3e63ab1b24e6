import Foundation
import TestSupport
import Testing

/// The reference transcripts (`transcripts/`, made by `scripts/record-references`): every one
/// replayed with `--verify` agrees with itself, and `gantry grade --verify` gives the grades
/// checked in beside them — a false alarm or a changed score fails here.
@Suite(.serialized) struct ReferenceTranscriptTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// The references were recorded on a cgroup-hybrid host (v1 controllers, like CI's):
    /// elsewhere `replay` rightly refuses the lessons whose steps differ by cgroup version.
    static let recordedHostKind: Bool = {
        let header = (try? String(contentsOfFile: root + "/transcripts/uts.cast", encoding: .utf8))?.split(separator: "\n").first ?? ""
        let here = FileManager.default.fileExists(atPath: "/sys/fs/cgroup/cpu") ? "hybrid" : "unified"
        return header.contains("\"cgroups\":\"\(here)\"")
    }()

    @Test(
        requiresRootAndUserNamespaces,
        .enabled(if: recordedHostKind, "the reference transcripts were recorded on a host of another cgroup layout"))
    func everyReferenceReplaysAndGradesAsCheckedIn() throws {
        var result: CommandResult?
        try expectHostUnchanged {
            result = try CommandRunner.run(
                "/bin/sh", ["-c", "cd \"$0\" && exec \"$1\" grade --verify --lessons lessons --format json transcripts", Self.root, CommandRunner.gantryPath])
        }
        let expected = try String(contentsOfFile: Self.root + "/transcripts/expected-grades.json", encoding: .utf8)
        #expect(result?.status == 0, "\(result?.error ?? "")")
        #expect(result?.output == expected, "the grades differ from transcripts/expected-grades.json:\n\(result?.output ?? "")")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(expected.utf8)) as? [String: Any])
        let grades = try #require(report["transcripts"] as? [[String: Any]])
        #expect(grades.count >= 26 && (report["skipped"] as? [Any])?.isEmpty == true, "every shipped lesson, right and wrong")
        for grade in grades {
            let file = grade["file"] as? String ?? ""
            let full = (grade["score"] as? Double) == (grade["maximum"] as? Double)
            #expect(full == !file.hasSuffix("-wrong.cast"), "\(file): the reference earns everything, the wrong attempt does not")
            #expect((grade["differences"] as? [Any])?.isEmpty == true, "\(file): \(grade["differences"] ?? "")")
        }
    }
}
