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

    /// As root: one overlay over the host's root filesystem (its links and files come with
    /// it), one more for a top-level directory that is a filesystem of its own, and the
    /// staged trees left to go with the old root, all at once.
    @Test func asRootTheHostsRootFilesystemIsOneOverlay() {
        let entries: [LabFilesystem.Entry] = [
            .symlink("bin", to: "usr/bin"), .directory("usr"), .directory("boot", mode: 0o700), .directory("mnt"),
            .directory("proc"), .directory("tmp"),
        ]
        let mountPoints: Set<String> = ["/", "/proc", "/boot", "/mnt/sandbox/tool", "/tmp"]
        #expect(LabFilesystem.topLevelMountPoints(mountPoints) == ["boot", "proc", "tmp"])
        #expect(LabFilesystem.treeKeys(entries: entries, mountPoints: mountPoints, overlay: true) == ["/", "boot"])
        #expect(
            LabFilesystem.treeKeys(entries: entries, mountPoints: mountPoints, overlay: false) == ["usr", "boot"],
            "the read-only fallback views each directory without mounts below it")
        let owner = Ownership(uid: 100_000, gid: 100_000)
        let plan = LabFilesystem.plan(
            LabFilesystem.Locked(entries: entries, mountPoints: mountPoints, trees: ["/": 7, "boot": 8], owner: owner, cgroupView: []))
        let root = LabFilesystem.root
        let overlays = plan.staging.compactMap { mount -> String? in if case .overlay(_, _, _, let at) = mount { at } else { nil } }
        #expect(overlays == [root, root + "/boot"])
        #expect(plan.staging.contains(.tree(descriptor: 7, at: "/tmp/.gantry-lab/lower/rootfs")))
        #expect(plan.staging.contains(.directory(at: "/tmp/.gantry-lab/upper/rootfs", mode: 0o755, owner: owner)))
        #expect(plan.staging.contains(.directory(at: "/tmp/.gantry-lab/upper/boot", mode: 0o700, owner: owner)))
        #expect(!plan.staging.contains { if case .symlink = $0 { true } else { false } }, "links come with the root filesystem")
        #expect(plan.mounts.contains(.proc(at: "/proc")))
        #expect(!plan.mounts.contains { $0.target == "/mnt" || $0.target == "/usr" })
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

    /// What a nested bash printed after its prompt, as seen in labs under load: readline's
    /// end of bracketed paste and its line break are the shell's; when readline started
    /// its line while the terminal still echoed, the typed line comes first and the paste's
    /// end (with its carriage return) follows it.
    @Test func aNestedShellsAcceptedLineIsNotOutput() {
        let marker = "\u{1b}]133;B\u{07}"
        let shapes: [(raw: String, command: String, output: String)] = [
            ("\(marker)\u{1b}[?2004l\r\r\ncon01\r\n", "hostname", "con01\n"),
            ("\(marker)hostname\r\n\u{1b}[?2004l\rcon01\r\n", "hostname", "con01\n"),
            ("\(marker)hostname con01\r\n\u{1b}[?2004l\r", "hostname con01", ""),
            ("\(marker)exit\r\n\u{1b}[?2004l\rexit\r\n", "exit", "exit\n"),
            ("\(marker)\u{1b}[?2004l\r\r\nexit\r\n", "exit", "exit\n"),
            // A blank first line the command printed stays.
            ("\(marker)echo; echo x\r\n\u{1b}[?2004l\r\r\nx\r\n", "echo; echo x", "\nx\n"),
            ("\(marker)\u{1b}[?2004l\r\r\n\r\nx\r\n", "echo; echo x", "\nx\n"),
            // Older readline: no carriage return after the paste's end.
            ("\(marker)\u{1b}[?2004l\r\ncon01\r\n", "hostname", "con01\n"),
        ]
        for shape in shapes {
            #expect(LabShell.split(shape.raw, command: shape.command, nested: true).1 == shape.output, "\(shape.raw.debugDescription)")
        }
    }
}
