import Isolation
import Testing

@testable import Lab

@Suite struct LabFilesystemTests {
    @Test func eachHostDirectoryIsItsOwnOverlayAndMachineDirectoriesAreFresh() {
        let plan = LabFilesystem.plan(
            entries: [
                .symlink("bin", to: "usr/bin"), .directory("usr"), .directory("etc"), .directory("mnt"),
                .directory("proc"), .directory("tmp"),
            ],
            mountPoints: ["/", "/proc", "/mnt/sandbox/tool"], overlay: true, cgroupView: [])
        let root = LabFilesystem.root
        #expect(plan.staging.contains(.symlink(to: "usr/bin", at: root + "/bin")))
        #expect(
            plan.staging.contains(
                .overlay(
                    lower: ["/usr"], upper: "/tmp/.gantry-lab/upper/usr",
                    work: "/tmp/.gantry-lab/work/usr", at: root + "/usr")))
        #expect(
            !plan.staging.contains { if case .overlay(let lower, _, _, _) = $0 { lower == ["/mnt"] } else { false } },
            "a directory with mounts below it cannot be an overlay lower in a user namespace")
        #expect(plan.mounts.contains(.tmpfs(at: "/mnt", mode: 0o755)))
        #expect(plan.mounts.contains(.proc(at: "/proc")))
        #expect(plan.mounts.contains(.minimalDev(at: "/dev")), "every lab gets /dev even if listed nowhere")
        let targets = plan.mounts.map(\.target)
        #expect(targets.firstIndex(of: "/run")! < targets.firstIndex(of: "/run/gantry/sysfs")!)
        #expect(targets.firstIndex(of: "/run/gantry/sysfs")! < targets.firstIndex(of: "/sys")!)
    }

    @Test func theFallbackBindsReadOnly() {
        let plan = LabFilesystem.plan(entries: [.directory("usr")], mountPoints: ["/"], overlay: false, cgroupView: [])
        #expect(plan.mounts.contains(.bind(source: "/usr", at: "/usr", readOnly: true, recursive: true)))
        #expect(!plan.staging.contains { if case .overlay = $0 { true } else { false } })
    }

    @Test func markersAreFoundEvenWhenSplitAcrossReads() {
        let marker = Array("out\n\u{1b}]133;D;3;2\u{07}rest".utf8)
        let split = LabShell.splitAtMarker(marker)
        #expect(split.map { LabShell.text($0.0) } == "out\n")
        #expect(split?.1 == 3)
        #expect(split?.2 == 2)
        #expect(split.map { LabShell.text($0.3) } == "rest")
        // A partial marker is held back, anything else is passed on at once.
        #expect(LabShell.safePrefixLength(Array("abc\u{1b}]13".utf8)) == 3)
        #expect(LabShell.safePrefixLength(Array("abc\u{1b}[1m".utf8)) == 7)
        #expect("a\r\nb\rc".replacingCRLF == "a\nb\rc")
        #expect(LabShell.normalizedNewlines("p# \r\r\nout\r\n") == "p# \nout\n")
        #expect(LabShell.withoutModeSwitches("\u{1b}[?2004h\u{1b}[?2004lx\u{1b}[1my") == "x\u{1b}[1my")
    }
}
