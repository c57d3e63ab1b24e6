import Foundation
import POSIXSupport
import TestSupport
import Testing

@testable import Lab

/// The probe sandbox's success is remembered, read back, and tried again when what it
/// depends on is not what the file says.
@Suite(.serialized, requiresRootAndUserNamespaces) struct SandboxProbeMemoryTests {
    static func answers(_ support: HostSupport) -> [String] { support.findings.map { "\($0.capability) \($0.available)" } }

    @Test func aWorkingProbeIsRememberedAndGivesTheSameAnswers() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gantry-probe-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let fresh = HostSupport.detect(remembering: directory)
        #expect(fresh.canBuildLabs)
        let memory = try #require(SandboxProbeMemory(directory: directory))
        #expect(memory.remembersSuccess, "the first detection left its answer")
        let key = try String(contentsOfFile: memory.file, encoding: .utf8)
        let boot = try String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(key.contains("boot \(boot)\n") && key.contains("/proc/sys/user/max_user_namespaces "), "\(key)")
        #expect(Self.answers(HostSupport.detect(remembering: directory)) == Self.answers(fresh))
        #expect(Self.answers(HostSupport.detect()) == Self.answers(fresh), "remembered or not, the same findings")
    }

    @Test func aFileThatSaysSomethingElseIsTriedAgainAndDoctorNeverReadsIt() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gantry-probe-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let memory = try #require(SandboxProbeMemory(directory: directory))
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        // Another boot's, or a kernel since told not to allow user namespaces.
        try memory.key.replacingOccurrences(of: "boot ", with: "boot 0").write(toFile: memory.file, atomically: true, encoding: .utf8)
        _ = HostSupport.detect(thorough: true, remembering: directory)
        #expect(!memory.remembersSuccess, "doctor tries afresh and leaves the file alone")
        #expect(HostSupport.detect(remembering: directory).canBuildLabs)
        #expect(memory.remembersSuccess, "the probe ran again and its success replaced the stale answer")
    }
}
