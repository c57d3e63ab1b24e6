import Foundation
import Glibc
import POSIXSupport
import TestSupport
import Testing

@testable import Isolation

/// The engine for real: namespaces, mounts, pivot_root and exec as root. Each test checks
/// its outcome and that the host is as it was afterwards.
@Suite(.serialized, requiresRoot) struct SandboxTests {
    @Test func commandIsPidOneWithoutInit() throws {
        try expectHostUnchanged {
            var spec = SandboxSpec(command: ["/bin/sh", "-c", "echo $$"], namespaces: [.pid])
            spec.useInit = false
            let (status, output) = try runCapturing(spec)
            #expect(status == .exited(0))
            #expect(output == "1\n")
        }
    }

    @Test func initIsPidOneAndTheCommandPidTwo() throws {
        try expectHostUnchanged {
            let spec = SandboxSpec(
                command: ["/bin/sh", "-c", "echo $$; test -d /proc/1 && echo init"],
                namespaces: [.pid, .mount], mounts: [.proc(at: "/proc")])
            let (_, output) = try runCapturing(spec)
            #expect(output == "2\ninit\n")
        }
    }

    @Test func procShowsOnlyTheSandboxProcesses() throws {
        try expectHostUnchanged {
            let spec = allNamespaces(["/bin/sh", "-c", "ls /proc | grep -E '^[0-9]+$' | sort -n | tr '\\n' ' '"])
            let (status, output) = try runCapturing(spec)
            #expect(status == .exited(0))
            // init, sh, and the pipeline's ls, grep, sort, tr: nothing of the host's.
            let pids = output.split(separator: " ").compactMap { Int($0) }
            #expect(pids.first == 1)
            #expect(pids.allSatisfy { $0 < 20 }, "host pids leaked into /proc: \(pids)")
        }
    }

    @Test func hostnameSetInsideIsInvisibleOutside() throws {
        let before = hostname()
        try expectHostUnchanged {
            let spec = SandboxSpec(
                command: ["/bin/sh", "-c", "hostname; hostname con02; hostname"],
                namespaces: [.uts], hostname: "con01")
            let (_, output) = try runCapturing(spec)
            #expect(output == "con01\ncon02\n")
        }
        #expect(hostname() == before)
    }

    @Test func tmpfsMountedInsideIsAbsentFromTheHost() throws {
        let target = try temporaryDirectory("tmpfs-target")
        defer { try? FileManager.default.removeItem(atPath: target) }
        try expectHostUnchanged {
            let spec = SandboxSpec(
                command: ["/bin/sh", "-c", "grep -c ' \(target) ' /proc/self/mountinfo; touch \(target)/inside"],
                namespaces: [.mount], mounts: [.tmpfs(at: target)])
            let (status, output) = try runCapturing(spec)
            #expect(status == .exited(0))
            #expect(output == "1\n")
        }
        let hostMounts = try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)
        #expect(!hostMounts.contains(" \(target) "))
        #expect(!FileManager.default.fileExists(atPath: target + "/inside"), "the file went to the tmpfs, not the host")
    }

    @Test func ipcObjectOfTheHostIsInvisibleInside() throws {
        let id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0o600)
        try #require(id >= 0)
        defer { shmctl(id, IPC_RMID, nil) }
        try expectHostUnchanged {
            let probe = ["/bin/sh", "-c", "ipcs -m | awk '$2 == \(id)' | wc -l"]
            let (_, hostView) = try runCapturing(SandboxSpec(command: probe))
            #expect(hostView == "1\n", "the probe must see the segment without --ipc")
            let (_, sandboxView) = try runCapturing(SandboxSpec(command: probe, namespaces: [.ipc]))
            #expect(sandboxView == "0\n")
        }
    }

    @Test func mapRootGivesUidZeroAndAOneLineMap() throws {
        try expectHostUnchanged {
            let spec = SandboxSpec(
                command: ["/bin/sh", "-c", "id -u; cat /proc/self/uid_map"],
                namespaces: [.user], userMapping: .root(uid: getuid(), gid: getgid()))
            let (_, output) = try runCapturing(spec)
            let lines = output.split(separator: "\n")
            #expect(lines.first == "0")
            #expect(lines.dropFirst().map { $0.split(separator: " ") } == [["0", "\(getuid())", "1"]])
        }
    }

    @Test func newNetworkNamespaceHasOnlyLoopback() throws {
        try expectHostUnchanged {
            let (_, output) = try runCapturing(allNamespaces(["/bin/sh", "-c", "tail -n +3 /proc/self/net/dev | cut -d: -f1 | tr -d ' '"]))
            #expect(output == "lo\n")
        }
    }

    @Test(requiresBusybox) func pivotRootShowsOnlyTheNewRootAndNoOldRoot() throws {
        let root = try busyboxRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try expectHostUnchanged {
            var spec = allNamespaces(["/bin/sh", "-c", "ls /; echo ---; cut -d' ' -f5 /proc/self/mountinfo"])
            spec.root = .pivot(root)
            spec.environment = ["PATH=/bin"]
            let (status, output) = try runCapturing(spec)
            #expect(status == .exited(0))
            let parts = output.components(separatedBy: "---\n")
            #expect(parts.first?.split(separator: "\n").sorted() == ["bin", "dev", "proc"])
            #expect(parts.last?.split(separator: "\n").sorted() == ["/", "/proc"], "the old root must be detached")
        }
    }

    @Test(requiresBusybox) func chrootShowsOnlyTheNewRoot() throws {
        let root = try busyboxRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try expectHostUnchanged {
            let spec = SandboxSpec(command: ["/bin/ls", "/"], environment: ["PATH=/bin"], root: .chroot(root))
            let (_, output) = try runCapturing(spec)
            #expect(output.split(separator: "\n").sorted() == ["bin", "dev", "proc"])
        }
    }

    @Test func readOnlyBindGivesEROFS() throws {
        let source = try temporaryDirectory("ro-source")
        defer { try? FileManager.default.removeItem(atPath: source) }
        try expectHostUnchanged {
            let spec = SandboxSpec(
                command: ["/bin/sh", "-c", "touch /mnt/x 2>&1; echo $?"],
                namespaces: [.mount], mounts: [.bind(source: source, at: "/mnt", readOnly: true)])
            let (_, output) = try runCapturing(spec)
            #expect(output.contains("Read-only file system"))
            #expect(output.hasSuffix("1\n"))
        }
        #expect(!FileManager.default.fileExists(atPath: source + "/x"))
    }

    @Test(arguments: [("exit 0", Isolation.ExitStatus.exited(0)), ("exit 42", .exited(42)), ("kill -9 $$", .signaled(9))])
    func exitStatusesComeBack(script: String, expected: Isolation.ExitStatus) throws {
        try expectHostUnchanged {
            // Outside a pid namespace the shell's own end is seen; under init (a shell that is
            // pid 1 could not even SIGKILL itself) it comes back as a shell would say it, 128+N.
            let bare = SandboxSpec(command: ["/bin/sh", "-c", script], namespaces: [.uts])
            let bareStatus = try runCapturing(bare).0
            #expect(bareStatus == expected)
            let withInit = SandboxSpec(command: ["/bin/sh", "-c", script], namespaces: [.pid])
            let initStatus = try runCapturing(withInit).0
            #expect(initStatus.shellCode == expected.shellCode)
        }
    }

    @Test func missingBinaryIsReportedAsSuch() {
        expectHostUnchanged {
            let error = #expect(throws: IsolationError.self) {
                _ = try Sandbox.spawn(allNamespaces(["no-such-command-here"]))
            }
            #expect(error?.stage == .exec)
            #expect(error?.cause == Errno(ENOENT))
            #expect(error?.description.contains("no-such-command-here") == true)
        }
    }

    @Test func setupFailureNamesTheStepAndThePath() {
        expectHostUnchanged {
            let spec = SandboxSpec(
                command: ["true"], namespaces: [.mount],
                mounts: [.bind(source: "/no/such/source", at: "/mnt")])
            let error = #expect(throws: IsolationError.self) { _ = try Sandbox.spawn(spec) }
            #expect(error?.stage == .bind)
            #expect(error?.description.contains("/no/such/source") == true)
            #expect(error?.description.contains("ENOENT") == true)
            #expect(error?.hint != nil)
        }
    }

    @Test func killingTheInitLeavesNoProcessBehind() throws {
        try expectHostUnchanged {
            let spec = allNamespaces(["/bin/sh", "-c", "sleep 300 & sleep 300 & (sleep 300 &) ; wait"])
            let process = try Sandbox.spawn(spec, io: .descriptors(input: nil, output: nil, error: nil))
            // Wait until the sandbox's processes exist, then kill only its init.
            #expect(waitUntil { descendants(of: process.pid).count >= 4 })
            try process.signal(SIGKILL)
            let status = try process.wait()
            #expect(status == .signaled(SIGKILL))
        }
    }

    @Test func enterJoinsTheNamespacesOfARunningSandbox() throws {
        try expectHostUnchanged {
            let sandbox = try Sandbox.spawn(
                SandboxSpec(
                    command: ["/bin/sleep", "300"], namespaces: [.uts, .pid, .mount, .net],
                    hostname: "con01", mounts: [.proc(at: "/proc")]))
            defer {
                try? sandbox.signal(SIGKILL)
                _ = try? sandbox.wait()
            }
            let (read, write) = try makePipe()
            let entered = try Sandbox.enter(
                .process(sandbox.pid, [.uts, .pid, .mount, .net]),
                command: ["/bin/sh", "-c", "hostname; ls /proc | grep -cE '^[0-9]+$'"],
                environment: ["PATH=/usr/bin:/bin"], io: .descriptors(input: nil, output: write, error: write))
            close(write)
            let output = readAll(read)
            let status = try entered.wait()
            #expect(status == .exited(0))
            let lines = output.split(separator: "\n")
            #expect(lines.first == "con01")
            // init, sleep, and the entered sh, ls, grep: the sandbox's /proc, not the host's.
            #expect((Int(lines.last ?? "") ?? 99) < 10, "got: \(output)")
        }
    }

    @Test func sysfsInANewNetworkNamespaceShowsOnlyItsLinks() throws {
        try expectHostUnchanged {
            let spec = SandboxSpec(
                command: ["/bin/ls", "/sys/class/net"], namespaces: [.user, .mount, .net],
                userMapping: .identity, mounts: [.sysfs(at: "/sys")])
            let (_, output) = try runCapturing(spec)
            #expect(output == "lo\n")
        }
    }

    @Test func overlayWritesGoToTheUpperLayerOnly() throws {
        let lower = try temporaryDirectory("lower")
        defer { try? FileManager.default.removeItem(atPath: lower) }
        try "from the host\n".write(toFile: lower + "/file", atomically: true, encoding: .utf8)
        try expectHostUnchanged {
            // The upper and work directories live on a tmpfs made first, as a lab's do.
            let spec = SandboxSpec(
                command: ["/bin/sh", "-c", "cat /merged/file; echo changed > /merged/file; echo new > /merged/added; cat /merged/file /merged/added"],
                namespaces: [.mount],
                mounts: [
                    .tmpfs(at: "/run/layers"), .directory(at: "/run/layers/upper"), .directory(at: "/run/layers/work"),
                    .overlay(lower: [lower], upper: "/run/layers/upper", work: "/run/layers/work", at: "/run/layers/merged"),
                    .bind(source: "/run/layers/merged", at: "/merged"),
                ])
            let (status, output) = try runCapturing(spec)
            #expect(status == .exited(0))
            #expect(output == "from the host\nchanged\nnew\n")
        }
        #expect(try String(contentsOfFile: lower + "/file", encoding: .utf8) == "from the host\n")
        #expect(!FileManager.default.fileExists(atPath: lower + "/added"))
    }

    @Test func noNewPrivilegesIsSetWhenAsked() throws {
        try expectHostUnchanged {
            var spec = SandboxSpec(command: ["/bin/grep", "NoNewPrivs", "/proc/self/status"])
            spec.noNewPrivileges = true
            let set = try runCapturing(spec).1
            #expect(set.hasSuffix("1\n"))
            spec.noNewPrivileges = false
            let unset = try runCapturing(spec).1
            #expect(unset.hasSuffix("0\n"))
        }
    }

    @Test func initForwardsSignalsToTheCommand() throws {
        try expectHostUnchanged {
            let (read, write) = try makePipe()
            let spec = SandboxSpec(
                command: ["/bin/sh", "-c", "trap 'echo got TERM; exit 7' TERM; echo ready; sleep 300 & wait"],
                namespaces: [.pid])
            let process = try Sandbox.spawn(spec, io: .descriptors(input: nil, output: write, error: write))
            close(write)
            var line = [UInt8](repeating: 0, count: 6)
            #expect(Glibc.read(read, &line, 6) == 6, "the trap is set once 'ready' is printed")
            try process.signal(SIGTERM)
            let status = try process.wait()
            #expect(status == .exited(7), "the init passes SIGTERM on and returns the command's status")
            #expect(readAll(read).contains("got TERM"))
        }
    }

    @Test func initReapsOrphanedZombies() throws {
        try expectHostUnchanged {
            // The subshell's child is orphaned at once and exits; only a reaping pid 1 keeps it
            // from lingering as a zombie ('Z' in /proc/PID/stat).
            let script = "(sleep 0.1 &); sleep 1; cat /proc/[0-9]*/stat 2>/dev/null | awk '$3 == \"Z\"' | wc -l"
            let spec = SandboxSpec(command: ["/bin/sh", "-c", script], namespaces: [.pid, .mount], mounts: [.proc(at: "/proc")])
            let (_, output) = try runCapturing(spec)
            #expect(output.trimmingCharacters(in: .whitespacesAndNewlines) == "0")
        }
    }

    @Test(requiresRootWithSysResource) func theInitIsSparedByTheOOMKillerButTheCommandIsNot() throws {
        try expectHostUnchanged {
            let (read, write) = try makePipe()
            let spec = SandboxSpec(
                command: ["/bin/sh", "-c", "cat /proc/self/oom_score_adj; cat /proc/1/oom_score_adj; sleep 300"],
                namespaces: [.pid, .mount], mounts: [.proc(at: "/proc")])
            let process = try Sandbox.spawn(spec, io: .descriptors(input: nil, output: write, error: nil))
            close(write)
            var buffer = [UInt8](repeating: 0, count: 64)
            var output = ""
            while output.split(separator: "\n").count < 2 {
                let count = Glibc.read(read, &buffer, buffer.count)
                if count <= 0 { break }
                output += String(decoding: buffer[0..<count], as: UTF8.self)
            }
            // Written after release, so the command had already inherited the default.
            #expect(output.split(separator: "\n").first == "0")
            let initScore = try String(contentsOfFile: "/proc/\(process.pid)/oom_score_adj", encoding: .utf8)
            #expect(initScore == "-1000\n")
            try process.signal(SIGKILL)
            _ = try process.wait()
            close(read)
        }
    }

    @Test func leakCheckSeesASandboxLeftRunning() throws {
        let before = HostSnapshot.take()
        let sandbox = try Sandbox.spawn(allNamespaces(["/bin/sleep", "300"]))
        let leaked = HostSnapshot.take().differences(from: before)
        #expect(leaked.contains { $0.hasPrefix("namespaces still in use") }, "got: \(leaked)")
        #expect(leaked.contains { $0.hasPrefix("child processes added") }, "got: \(leaked)")
        try sandbox.signal(SIGKILL)
        _ = try sandbox.wait()
        #expect(HostSnapshot.settled(matching: before).isEmpty)
    }

    @Test func terminalInsideTheSandboxIsItsOwnFirstPTY() throws {
        try expectHostUnchanged {
            var spec = allNamespaces(["/bin/sh", "-c", "tty; stty size"])
            spec.mounts.append(.minimalDev(at: "/dev"))
            let process = try Sandbox.spawn(spec, io: .terminal(rows: 33, columns: 101))
            let terminal = try #require(process.terminal)
            let status = try process.wait()
            #expect(status == .exited(0))
            let output = readAll(terminal)
            #expect(output.contains("/dev/pts/0"))
            #expect(output.contains("33 101"))
        }
    }
}

// MARK: - Helpers

let requiresBusybox = Testing.ConditionTrait.enabled(
    if: FileManager.default.isExecutableFile(atPath: "/bin/busybox"), "requires busybox (apt-get install busybox-static)")

/// What `gantry exec --all` asks for, minus the CLI.
func allNamespaces(_ command: [String]) -> SandboxSpec {
    SandboxSpec(
        command: command, environment: ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], namespaces: .all,
        userMapping: .identity, mounts: [.proc(at: "/proc")], loopbackUp: true)
}

/// Spawns with stdout and stderr on a pipe, reads to EOF, waits.
func runCapturing(_ spec: SandboxSpec) throws -> (Isolation.ExitStatus, String) {
    let (read, write) = try makePipe()
    let process: SandboxProcess
    do {
        process = try Sandbox.spawn(spec, io: .descriptors(input: nil, output: write, error: write))
    } catch {
        close(read)
        close(write)
        throw error
    }
    close(write)
    let output = readAll(read)
    return (try process.wait(), output)
}

func temporaryDirectory(_ name: String) throws -> String {
    let path = NSTemporaryDirectory() + "gantry-test-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// A tiny root: busybox and a few applets, plus empty /proc and /dev mount points.
func busyboxRoot() throws -> String {
    let root = try temporaryDirectory("root")
    let manager = FileManager.default
    for directory in ["bin", "proc", "dev"] {
        try manager.createDirectory(atPath: root + "/" + directory, withIntermediateDirectories: true)
    }
    try manager.copyItem(atPath: "/bin/busybox", toPath: root + "/bin/busybox")
    for applet in ["sh", "ls", "cat", "cut", "echo", "hostname", "id"] {
        try manager.createSymbolicLink(atPath: root + "/bin/" + applet, withDestinationPath: "busybox")
    }
    return root
}

/// Polls a condition a bounded number of times (never a wall-clock limit on the outcome).
func waitUntil(attempts: Int = 500, _ condition: () -> Bool) -> Bool {
    for _ in 0..<attempts {
        if condition() { return true }
        usleep(10_000)
    }
    return condition()
}

/// Every process below `pid`, read from /proc/*/task/*/children.
func descendants(of pid: Int32) -> [Int32] {
    var found: [Int32] = []
    var queue = [pid]
    while let next = queue.popLast() {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(next)/task")) ?? []
        for task in tasks {
            let text = (try? String(contentsOfFile: "/proc/\(next)/task/\(task)/children", encoding: .utf8)) ?? ""
            let children = text.split(separator: " ").compactMap { Int32($0) }
            found += children
            queue += children
        }
    }
    return found
}
