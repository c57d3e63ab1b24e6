import Foundation
import Glibc
import TestSupport
import Testing

/// `gantry exec` end to end: the built binary, its flags, messages and exit statuses.
@Suite struct CommandLineTests {
    @Test func versionAndHelpWork() throws {
        let version = try CommandRunner.gantry(["--version"])
        #expect(version.status == 0)
        #expect(version.output.range(of: #"^\d+\.\d+\.\d+\n$"#, options: .regularExpression) != nil)
        let help = try CommandRunner.gantry(["--help"])
        #expect(help.status == 0)
        #expect(help.output.contains("exec"))
        let execHelp = try CommandRunner.gantry(["exec", "--help"])
        #expect(execHelp.output.contains("--map-root"))
        #expect(execHelp.output.contains("127 when it"))
    }

    @Test(arguments: [
        (["exec", "--hostname", "x", "--", "true"], "needs a new UTS namespace (--uts)"),
        (["exec", "--map-root", "--", "true"], "needs a new user namespace (--user)"),
        (["exec", "--proc", "--", "true"], "need a new mount namespace (--mount)"),
        (["exec", "--root", "/tmp", "--", "true"], "needs a new mount namespace (--mount); or use --chroot"),
        (["exec", "--mount", "--root", "/a", "--chroot", "/b", "--", "true"], "choose one"),
        (["exec", "--mount", "--bind", "/tmp:relative", "--", "true"], "must be an absolute path inside"),
        (["exec", "--pid"], "no command to run"),
        (["exec", "--veth", "veth0:eth0=172.16.0.2/24", "--", "true"], "add --net (or --all)"),
        (["exec", "--cpus", "0", "--", "true"], "give a positive number of CPUs"),
        (["exec", "--cpus", "0.5", "--cpu-quota", "50000", "--", "true"], "choose one"),
        (["exec", "--cpu-quota", "half", "--", "true"], "expected QUOTA or QUOTA/PERIOD"),
        (["exec", "--cpu-quota", "50000/10", "--", "true"], "the period must be 1000 to 1000000"),
        (["exec", "--cpu-weight", "0", "--", "true"], "give 1 to 10000"),
        (["exec", "--memory", "lots", "--", "true"], "expected a size like 64M"),
        (["exec", "--net", "--veth", "veth0:eth0", "--", "true"], "the sandbox side needs an address"),
        (["exec", "--net", "--veth", "veth0:eth0=172.16.0.2/33", "--", "true"], "not a prefix length from 0 to 32"),
    ])
    func badFlagCombinationsAreRefusedWithAMessage(arguments: [String], message: String) throws {
        let result = try CommandRunner.gantry(arguments)
        #expect(result.status == 64, "usage errors exit 64 (EX_USAGE)")
        #expect(result.error.contains(message), "stderr: \(result.error)")
        #expect(!result.error.contains("Fatal error"))
    }
}

@Suite(.serialized, requiresRoot) struct ExecCommandTests {
    @Test func allNamespacesGiveAFreshLittleMachine() throws {
        try expectHostUnchanged {
            let result = try CommandRunner.gantry([
                "exec", "--all", "--", "/bin/sh", "-c",
                "echo $$; id -u; cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' '; cat /sys/class/net/lo/operstate 2>/dev/null || ip -o link show lo | grep -o 'UP' | head -1",
            ])
            #expect(result.status == 0, "stderr: \(result.error)")
            let lines = result.output.split(separator: "\n").map(String.init)
            #expect(lines.prefix(3) == ["2", "0", "lo"])
        }
    }

    @Test(arguments: [("exit 0", Int32(0)), ("exit 42", 42), ("kill -9 $$", 137)])
    func exitStatusIsTheCommands(script: String, status: Int32) throws {
        try expectHostUnchanged {
            let result = try CommandRunner.gantry(["exec", "--all", "--", "/bin/sh", "-c", script])
            #expect(result.status == status)
        }
    }

    @Test func missingCommandIs127WithAClearMessage() throws {
        try expectHostUnchanged {
            let result = try CommandRunner.gantry(["exec", "--all", "--", "no-such-command-here"])
            #expect(result.status == 127)
            #expect(result.error.contains("no-such-command-here: command not found inside the sandbox"))
        }
    }

    @Test func sandboxFailureIs125AndNamesTheStep() throws {
        try expectHostUnchanged {
            let result = try CommandRunner.gantry(["exec", "--mount", "--bind", "/no/such/dir:/mnt", "--", "true"])
            #expect(result.status == 125)
            #expect(result.error.contains("mount(MS_BIND)(bind /no/such/dir on /mnt): ENOENT"))
            #expect(result.error.contains("does not exist"))
        }
    }

    @Test func hostnameInsideLeavesTheHostAlone() throws {
        let before = hostname()
        try expectHostUnchanged {
            let result = try CommandRunner.gantry(["exec", "--uts", "--hostname", "con01", "--", "hostname"])
            #expect(result.output == "con01\n")
        }
        #expect(hostname() == before)
    }

    @Test func minimalDevHasOnlyTheUsualDevices() throws {
        try expectHostUnchanged {
            let result = try CommandRunner.gantry(["exec", "--all", "--dev", "--", "/bin/ls", "/dev"])
            #expect(
                result.output.split(separator: "\n").sorted() == [
                    "fd", "full", "null", "ptmx", "pts", "random", "shm", "stderr", "stdin", "stdout", "tty", "urandom", "zero",
                ])
        }
    }

    @Test func environmentAndWorkingDirectoryCanBeSet() throws {
        try expectHostUnchanged {
            let result = try CommandRunner.gantry([
                "exec", "--mount", "--env", "GREETING=hello", "--cwd", "/usr",
                "--", "/bin/sh", "-c", "echo $GREETING; pwd",
            ])
            #expect(result.output == "hello\n/usr\n")
        }
    }

    @Test func readOnlyBindRefusesWrites() throws {
        let directory = NSTemporaryDirectory() + "gantry-ro-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try expectHostUnchanged {
            let result = try CommandRunner.gantry(["exec", "--mount", "--bind", "\(directory):/mnt:ro", "--", "/bin/sh", "-c", "echo x > /mnt/f"])
            #expect(result.status != 0)
            #expect(result.error.contains("Read-only file system"))
        }
    }

    /// The outer `gantry exec --net` is the throwaway "host" side: the real host's links are
    /// never touched.
    @Test func vethConnectsTheSandboxAndIsGoneAfterIt() throws {
        try expectHostUnchanged {
            let inner =
                "\(CommandRunner.gantryPath) exec --all --veth veth0=172.16.0.1/24:eth0=172.16.0.2/24 -- "
                + "sh -c 'ip -o -4 address show eth0 | tr -s \" \" | cut -d\" \" -f2,4; ping -c 1 -W 5 172.16.0.1 | grep -o \"1 received\"'"
            let script = inner + "; for i in $(seq 100); do ip link show veth0 >/dev/null 2>&1 || { echo veth0 gone; break; }; sleep 0.05; done"
            let result = try CommandRunner.gantry(["exec", "--net", "--", "/bin/sh", "-c", script])
            #expect(result.output == "eth0 172.16.0.2/24\n1 received\nveth0 gone\n", "stderr: \(result.error)")
        }
    }

    @Test func aFailedVethLeavesNothingAndSaysWhy() throws {
        try expectHostUnchanged {
            let script = "\(CommandRunner.gantryPath) exec --net --veth lo:eth0=172.16.0.2/24 -- true; echo status $?; ip -o link | wc -l"
            let result = try CommandRunner.gantry(["exec", "--net", "--", "/bin/sh", "-c", script])
            #expect(result.output == "status 125\n1\n", "only lo is left on the outer side")
            #expect(result.error.contains("create veth pair lo <-> eth0: EEXIST"))
        }
    }

    @Test func memoryLimitOOMKillsAndTheGroupIsGoneAfter() throws {
        try expectHostUnchanged {
            let result = try CommandRunner.gantry(["exec", "--all", "--memory", "32M", "--", "/bin/sh", "-c", "head -c 64M /dev/zero | tail"])
            #expect(result.status == 137, "stderr: \(result.error)")
        }
    }

    @Test func theSandboxSeesItsGroupAsTheWholeCgroupTree() throws {
        try expectHostUnchanged {
            let result = try CommandRunner.gantry([
                "exec", "--all", "--pids", "64", "--", "/bin/sh", "-c",
                "cut -d: -f3 /proc/self/cgroup | sort -u; cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max",
            ])
            #expect(result.output == "/\n64\n", "stderr: \(result.error)")
        }
    }

    @Test func theCourseCgroupCommandsWorkInside() throws {
        try expectHostUnchanged {
            // The notes' lab: cgcreate, cgset, cgclassify on a busy loop, then the kernel's
            // throttling counters say it was held back.
            let script = """
                cgcreate -g cpu:limit_cpu_50 && cgset -r cpu.cfs_quota_us=50000 limit_cpu_50 || exit 9
                (while :; do :; done) & loop=$!
                cgclassify -g cpu:limit_cpu_50 $loop
                cat /sys/fs/cgroup/cpu/limit_cpu_50/cpu.cfs_quota_us
                sleep 0.5
                awk '$1 == "nr_throttled" { print ($2 > 0) ? "throttled" : "not throttled" }' /sys/fs/cgroup/cpu/limit_cpu_50/cpu.stat 2>/dev/null \
                  || awk '$1 == "nr_throttled" { print ($2 > 0) ? "throttled" : "not throttled" }' /sys/fs/cgroup/limit_cpu_50/cpu.stat
                kill $loop
                """
            let result = try CommandRunner.gantry(["exec", "--all", "--cpus", "1", "--", "/bin/sh", "-c", script])
            #expect(result.output == "50000\nthrottled\n", "stderr: \(result.error)")
        }
    }

    @Test func theCgroupIsInTheLedgerWhileTheSandboxRuns() throws {
        try expectHostUnchanged {
            let result = try CommandRunner.gantry(["exec", "--pids", "10", "--", "/bin/sh", "-c", "cat /run/gantry/exec-$PPID.ledger"])
            let lines = result.output.split(separator: "\n")
            #expect(
                !lines.isEmpty
                    && lines.allSatisfy {
                        $0.hasPrefix("cgroup\t/sys/fs/cgroup/") && $0.hasSuffix("/gantry/exec-\(lines.count > 0 ? String($0.split(separator: "-").last!) : "")")
                    },
                "got: \(result.output)")
        }
        #expect(
            !(try FileManager.default.contentsOfDirectory(atPath: "/run/gantry")).contains { $0.hasPrefix("exec-") },
            "a clean exit removes the ledger")
    }

    @Test func sigtermToGantryReachesTheCommand() throws {
        try expectHostUnchanged {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: CommandRunner.gantryPath)
            process.arguments = ["exec", "--all", "--", "/bin/sh", "-c", "trap 'exit 9' TERM; echo ready; sleep 300 & wait"]
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            // "ready" means the trap is in place.
            _ = output.fileHandleForReading.availableData
            process.terminate()
            process.waitUntilExit()
            #expect(process.terminationReason == .exit)
            #expect(process.terminationStatus == 9)
        }
    }

    @Test func terminalFlagGivesTheCommandATTY() throws {
        // script(1) gives gantry a terminal; gantry relays a new PTY from inside the sandbox.
        // Its input is held open (`sleep`) because script sends EOF on the terminal otherwise.
        try expectHostUnchanged {
            let command = "\(CommandRunner.gantryPath) exec --all --dev --tty -- /bin/sh -c 'tty; exit 3'"
            let result = try CommandRunner.run("/bin/sh", ["-c", "sleep 2 | script -qec \"\(command)\" /dev/null"])
            #expect(result.output.contains("/dev/pts/0"))
            #expect(result.status == 3)
        }
    }
}

@Suite(.serialized, requiresRoot) struct DoctorAndLabCommandTests {
    @Test func doctorTriesTheHostForReal() throws {
        try expectHostUnchanged {
            let result = try CommandRunner.gantry(["doctor"])
            #expect(result.status == 0, "\(result.output)")
            for capability in ["userns", "namespaces", "overlay", "cgroup.cpu", "tool.ip"] {
                #expect(result.output.contains("ok   \(capability)"), "\(capability): \(result.output)")
            }
            #expect(result.output.contains("Labs can be built on this host."))
        }
    }

    @Test(requiresRootAndUserNamespaces) func doctorTellsANormalUserWhatIsMissing() throws {
        let result = try CommandRunner.run(
            "/usr/bin/setpriv",
            [
                "--reuid=65534", "--regid=65534", "--clear-groups", "--",
                CommandRunner.gantryPath, "doctor",
            ])
        #expect(result.status == 0, "a normal user can build labs")
        #expect(result.output.contains("MISS root"))
        #expect(result.output.contains("fix: labs as root lock their mounts and have cgroup limits"))
        #expect(result.output.contains("without lab-wide limits"), "this hybrid host delegates no cgroup to a user: \(result.output)")
        #expect(result.output.contains("lesson cgroup-cpu: cannot run here, needs cgroup.cpu"), "\(result.output)")
        #expect(result.output.contains("lesson uts: can run here"))
    }

    @Test func labRunsACommandStringLikeBashC() throws {
        try expectHostUnchanged {
            let result = try CommandRunner.gantry(["lab", "--hostname", "con01", "-c", "hostname; exit 7"])
            #expect(result.output == "con01\n")
            #expect(result.status == 7)
        }
    }

    @Test func labReadsCommandsFromStandardInput() throws {
        try expectHostUnchanged {
            let result = try CommandRunner.gantry(["lab"], input: "cd /tmp\npwd\nip -o link | wc -l\n")
            #expect(result.output == "/tmp\n1\n", "\(result.error)")
            #expect(result.status == 0)
        }
    }

    /// On a terminal the lab's shell is an interactive, non-login bash, as `docker run -it
    /// IMAGE bash` gives: Debian's prompt from /etc/bash.bashrc, the lab's own PATH (root's,
    /// with the sbin directories) and no host login profile; `exit` ends it and the lab.
    @Test func labOnATerminalIsAnInteractiveShellWithTheLabsEnvironment() throws {
        try expectHostUnchanged {
            let terminal = try TerminalSession(CommandRunner.gantryPath, ["lab"])
            try terminal.waitFor("root@gantry:~# ")
            terminal.type("shopt -q login_shell && echo login || echo not-login; echo \"path=$PATH\"\r")
            let shown = try terminal.waitFor("root@gantry:~# ")
            #expect(shown.contains("\nnot-login"), "\(shown)")
            #expect(shown.contains("path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"), "\(shown)")
            terminal.type("exit 3\r")
            #expect(terminal.waitForExit() == 3)
        }
    }

    @Test func cleanupWithNothingToDoSaysSo() throws {
        let result = try CommandRunner.gantry(["cleanup", "--ledgers", NSTemporaryDirectory() + "gantry-no-ledgers-\(getpid())"])
        #expect(result.status == 0)
        #expect(result.output == "nothing to clean up\n")
    }
}

/// The unprivileged path, as a normal user would take it: switched to `nobody` by setpriv.
@Suite(.serialized, requiresRootAndUserNamespaces) struct UnprivilegedExecTests {
    @Test func mapRootMakesNobodyRootInside() throws {
        try expectHostUnchanged {
            let result = try CommandRunner.run(
                "/usr/bin/setpriv",
                [
                    "--reuid=65534", "--regid=65534", "--clear-groups", "--",
                    CommandRunner.gantryPath, "exec", "--user", "--map-root", "--", "/bin/sh", "-c", "id -u; cat /proc/self/uid_map",
                ])
            #expect(result.status == 0, "stderr: \(result.error)")
            let lines = result.output.split(separator: "\n")
            #expect(lines.first == "0")
            #expect(lines.dropFirst().map { $0.split(separator: " ") } == [["0", "65534", "1"]])
        }
    }

    @Test func allWorksWithoutRoot() throws {
        try expectHostUnchanged {
            let result = try CommandRunner.run(
                "/usr/bin/setpriv",
                [
                    "--reuid=65534", "--regid=65534", "--clear-groups", "--",
                    CommandRunner.gantryPath, "exec", "--all", "--hostname", "box", "--", "/bin/sh", "-c", "id -u; hostname; echo $$",
                ])
            #expect(result.output == "0\nbox\n2\n", "stderr: \(result.error)")
        }
    }

    @Test func namespacesWithoutAUserNamespaceAreRefusedWithAHint() throws {
        let result = try CommandRunner.run(
            "/usr/bin/setpriv",
            [
                "--reuid=65534", "--regid=65534", "--clear-groups", "--", CommandRunner.gantryPath, "exec", "--pid", "--", "true",
            ])
        #expect(result.status == 125)
        #expect(result.error.contains("EPERM"))
        #expect(result.error.contains("add --user"))
    }
}

@Suite struct LessonCommandTests {
    @Test func lintNamesTheFileLineAndMistakeAndFails() throws {
        let directory = NSTemporaryDirectory() + "gantry-lint-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "---\nid: x\ntitle: X\n---\n## S\n```check\nhostnam is=a\n```\n".write(toFile: directory + "/bad.md", atomically: true, encoding: .utf8)
        let result = try CommandRunner.gantry(["lint", directory])
        #expect(result.status == 1)
        #expect(result.output.contains("\(directory)/bad.md:7:1: unknown probe 'hostnam'"))
        #expect(result.output.contains("1 lesson files, 0 valid, 1 errors"))
    }

    @Test func lessonsListsTheShippedCourseInBothLanguages() throws {
        let lessons = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("lessons").path
        let english = try CommandRunner.gantry(["lessons", lessons])
        #expect(english.output.contains("UTS namespace: a hostname of your own — 3 steps"))
        let korean = try CommandRunner.gantry(["lessons", lessons, "--lang", "ko"])
        #expect(korean.output.contains("UTS 네임스페이스: 나만의 호스트 이름"))
    }
}

@Suite(.serialized, requiresRoot) struct LessonRunCommandTests {
    @Test func testWritesJUnitAndTheSummaryLine() throws {
        let lessons = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("lessons").path
        let directory = NSTemporaryDirectory() + "gantry-junit-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // A lesson whose output carries what XML forbids (ESC, backspace) and markup, and
        // does not match: the failure's text must still make a file a JUnit reader takes.
        try """
        ---
        id: noisy
        title: "Noisy <output> & more"
        requires: [namespaces]
        ---
        ## Print escapes {#escapes}
        ```console
        $ printf 'a\\033[1mb\\bc <d> & "e"\\n'
        nothing like it
        ```
        ```check
        command run="true" status=0
        ```
        """.write(toFile: directory + "/noisy.md", atomically: true, encoding: .utf8)
        let junit = directory + "/report.xml"
        try expectHostUnchanged {
            let result = try CommandRunner.gantry(["test", lessons + "/uts.md", directory + "/noisy.md", "--junit", junit])
            #expect(result.status == 1, "\(result.output)\(result.error)")
            #expect(result.output.hasSuffix("1 passed, 1 failed, 0 skipped\n"), "\(result.output)")
        }
        // junitparser (PyPI, as CI dashboards' importers read the format) parses it.
        let reader = """
            import sys
            from junitparser import JUnitXml, Failure
            xml = JUnitXml.fromfile(sys.argv[1])
            for suite in xml:
                cases = list(suite)
                failed = [c for c in cases if any(isinstance(r, Failure) for r in c.result)]
                print(suite.name, suite.tests, len(cases), len(failed), suite.failures)
                for case in failed:
                    for r in case.result:
                        print("failure:", case.name, r.message)
            """
        let parsed = try CommandRunner.run("/usr/bin/env", ["python3", "-c", reader, junit])
        #expect(parsed.status == 0, "junitparser could not read the report: \(parsed.error)")
        let lines = parsed.output.split(separator: "\n").map(String.init)
        #expect(lines.contains("uts 3 3 0 0"), "\(parsed.output)")
        #expect(lines.contains("noisy 1 1 1 1"), "\(parsed.output)")
        #expect(lines.contains { $0.hasPrefix("failure: escapes") }, "\(parsed.output)")
    }
}

/// `gantry exec` where a hostile or careless root directory, or repeated use, could reach the
/// host: mount targets resolved inside the new root, host ends of --veth gone on return,
/// many --env entries, memory limits with a word when they kill.
@Suite(.serialized, requiresRoot) struct ExecBoundaryTests {
    /// A root whose `etc` is a symlink to the host's /etc.
    func hostileRoot() throws -> String {
        let root = NSTemporaryDirectory() + "gantry-hostile-root-\(getpid())"
        try FileManager.default.createDirectory(atPath: root + "/bin", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "/bin/busybox", toPath: root + "/bin/busybox")
        symlink("busybox", root + "/bin/sh")
        symlink("/etc", root + "/etc")
        symlink("../../../../../../tmp", root + "/up")
        return root
    }

    @Test func mountTargetsThroughSymlinksStayInsideTheRoot() throws {
        let root = try hostileRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        symlink("/bin", root + "/inside")
        try expectHostUnchanged {
            // `etc -> /etc` is, inside the root, a link to itself; `up` climbs no higher than
            // the root, where there is no /tmp. Both are refused with the reason; nothing is
            // made on the host.
            for (flag, value, reason) in [
                ("--bind", "/usr/share:/etc/gantry-escape-bind", "ELOOP"), ("--tmpfs", "/etc/gantry-escape-tmpfs", "ELOOP"),
                ("--tmpfs", "/up/gantry-escape-up", "ENOENT"),
            ] {
                let result = try CommandRunner.gantry(["exec", "--user", "--mount", "--root", root, flag, value, "--", "/bin/sh", "-c", "true"])
                #expect(result.status == 125, "\(flag) \(value): \(result.error)")
                #expect(result.error.contains("create mount point") && result.error.contains(reason), "\(result.error)")
            }
            #expect(!FileManager.default.fileExists(atPath: "/etc/gantry-escape-bind"))
            #expect(!FileManager.default.fileExists(atPath: "/etc/gantry-escape-tmpfs"))
            #expect(!FileManager.default.fileExists(atPath: "/tmp/gantry-escape-up"))
            // A symlink that stays inside the root is followed there: /inside -> /bin.
            let inside = try CommandRunner.gantry([
                "exec", "--user", "--mount", "--root", root, "--tmpfs", "/inside/scratch", "--",
                "/bin/sh", "-c", "[ -d /bin/scratch ] && echo made",
            ])
            #expect(inside.status == 0 && inside.output == "made\n", "\(inside.error)")
            #expect(!FileManager.default.fileExists(atPath: "/bin/scratch"))
            #expect(FileManager.default.fileExists(atPath: root + "/bin/scratch"), "the mount point was made in the root")
        }
    }

    @Test func backToBackRunsCanUseTheSameVethNames() throws {
        try expectHostUnchanged {
            for run in 0..<10 {
                let result = try CommandRunner.gantry([
                    "exec", "--all", "--veth", "gveth0=172.16.9.1/24:eth0=172.16.9.2/24", "--",
                    "/bin/sh", "-c", "ip -o -4 addr show eth0 | grep -o '172.16.9.2/24'",
                ])
                #expect(result.status == 0 && result.output == "172.16.9.2/24\n", "run \(run): \(result.error)")
            }
        }
    }

    @Test func tenThousandEnvironmentEntriesAllArrive() throws {
        try expectHostUnchanged {
            let entries = (0..<10_000).flatMap { ["--env", "GANTRY_E\($0)=\($0)"] }
            let result = try CommandRunner.gantry(
                ["exec", "--user"] + entries + ["--env", "GANTRY_E5=last", "--", "/bin/sh", "-c", "env | grep -c '^GANTRY_E'; echo $GANTRY_E5"])
            #expect(result.status == 0, "\(result.error)")
            #expect(result.output == "10000\nlast\n")
        }
    }

    @Test func aTinyMemoryLimitIsRefusedAndAnOOMKillIsSaid() throws {
        let tiny = try CommandRunner.gantry(["exec", "--memory", "64", "--", "true"])
        #expect(tiny.status == 64)
        #expect(tiny.error.contains("is 64 bytes") && tiny.error.contains("at least 1M"), "\(tiny.error)")
        try expectHostUnchanged {
            let hog = try CommandRunner.gantry(["exec", "--all", "--memory", "16M", "--", "/usr/bin/python3", "-c", "b = bytearray(200 << 20)"])
            #expect(hog.status == 137, "\(hog.error)")
            #expect(hog.error.contains("OOM killer") && hog.error.contains("--memory 16M"), "\(hog.error)")
        }
    }
}

/// Labs through the binary: what the keeper shows, and a killed owner.
@Suite(.serialized, requiresRoot) struct LabBoundaryCommandTests {
    @Test func theKeeperShowsNothingOfGantrysEnvironment() throws {
        try expectHostUnchanged {
            let result = try CommandRunner.gantry(
                [
                    "lab", "-c",
                    "tr '\\0' ' ' < /proc/1/cmdline; echo; cat /proc/1/environ 2>&1 | tr '\\0' ' '; echo; id -u; awk '{print $2}' /proc/self/uid_map",
                ],
                environment: ["GANTRY_TEST_TOKEN": "s3cr3t-token"])
            #expect(result.status == 0, "\(result.error)")
            #expect(!result.output.contains("s3cr3t-token"), "\(result.output)")
            let lines = result.output.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            #expect(lines.first == "gantry-keeper")
            #expect(lines.contains("0"), "root inside")
            #expect(lines.last.flatMap { UInt32($0) }.map { $0 >= 0x80000 } == true, "the lab's root is an unprivileged host id: \(lines)")
        }
    }

    @Test func cleanupAfterAKilledOwnerReturnsOnlyOnceTheLabIsGone() throws {
        let before = try CommandRunner.labWithKilledOwner("for i in 1 2 3 4 5 6 7 8; do sleep 3170 & done; echo ready; wait")
        let cleanup = try CommandRunner.gantry(["cleanup"])
        #expect(cleanup.status == 0, "\(cleanup.error)")
        // Right after cleanup, not after settling: nothing of the lab runs any more.
        let sleeps = try CommandRunner.run("/usr/bin/pgrep", ["-f", "^sleep 3170$"])
        #expect(sleeps.output.isEmpty, "left running: \(sleeps.output)")
        #expect(HostSnapshot.settled(matching: before).isEmpty)
    }
}

/// Labs without root, as a normal user made for the test: root inside is the user, ids 1
/// and up their subordinate range; the namespace lessons pass, and what needs root or a
/// delegated cgroup is skipped with the reason.
@Suite(.serialized, requiresRootToMakeAUser) struct RootlessLabTests {
    @Test func aNormalUsersLabMapsTheirSubordinateIdsAndTheNamespaceLessonsPass() throws {
        let user = try TestUser.make()
        defer { user.remove() }
        try expectHostUnchanged {
            // The host's files are the host root's, which the lab cannot map: they read, but
            // do not change (new files beside them do, in the overlay).
            let lab = try user.gantry([
                "lab", "-c",
                "cat /proc/self/uid_map; id -u; touch /root/mine && echo mine; echo x >> /etc/hostname 2>/dev/null || echo refused; touch /usr/gantry-new && echo new",
            ])
            #expect(lab.status == 0, "\(lab.error)")
            let maps = lab.output.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
            #expect(maps.first == ["0", String(user.uid), "1"], "root inside is the user: \(lab.output)")
            #expect(maps.dropFirst().first?.first == "1", "ids 1 and up are the subordinate range: \(lab.output)")
            #expect(lab.output.contains("0\nmine\nrefused\nnew\n"), "\(lab.output)")
            #expect(!FileManager.default.fileExists(atPath: "/usr/gantry-new"))
            let lessons = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("lessons").path
            let tested = try user.gantry(["test", lessons])
            #expect(tested.status == 0, "\(tested.output)\(tested.error)")
            for id in ["chroot", "uts", "pid", "mount", "ipc", "user", "namespaces", "netns-veth", "bridge"] {
                #expect(tested.output.contains("PASS \(id) "), "\(id): \(tested.output)")
            }
            for id in ["cgroup-cpu", "cgroup-memory", "cgroup-pids"] {
                #expect(tested.output.contains("SKIP \(id)") && tested.output.contains("root"), "\(id): \(tested.output)")
            }
        }
    }
}

/// Labs without root on cgroup v2 with a delegated subtree, as systemd gives every user
/// (`user@UID.service`, Delegate=yes) and a desktop session runs its terminals inside: the
/// lab's limits come from that subtree, so the cgroup lessons pass as they do for root.
@Suite(.serialized, requiresRootOnCgroupV2) struct RootlessDelegatedLabTests {
    /// The groups systemd makes for a logged-in user: the slices (root's), the user's
    /// manager (delegated: the user owns it, its procs, threads and subtree_control), and a
    /// scope of the user's own inside it where their terminal runs.
    struct Delegation {
        let service: String, scope: String
        /// The groups this made, deepest last (a slice the host already had stays).
        private(set) var made: [String] = []
        static let root = "/sys/fs/cgroup/"

        init(for user: TestUser) throws {
            service = "user.slice/user-\(user.uid).slice/user@\(user.uid).service"
            scope = service + "/app.slice/gantry-test-terminal.scope"
            let controllers = "+cpu +memory +pids"
            var path = ""
            for part in ["user.slice", "user-\(user.uid).slice", "user@\(user.uid).service"] {
                try Self.write(controllers, to: Self.root + path + "cgroup.subtree_control")
                path += part + "/"
                if mkdir(Self.root + path, 0o755) == 0 { made.append(path) }
            }
            guard let entry = getpwnam(user.name) else { throw TestUserError(message: "no user \(user.name)") }
            let owner = (entry.pointee.pw_uid, entry.pointee.pw_gid)
            for file in ["", "/cgroup.procs", "/cgroup.threads", "/cgroup.subtree_control"] {
                chown(Self.root + service + file, owner.0, owner.1)
            }
            // What the user's manager makes inside is the user's own.
            for directory in [service + "/app.slice", scope] {
                if mkdir(Self.root + directory, 0o755) == 0 { made.append(directory) }
                for file in ["", "/cgroup.procs", "/cgroup.threads", "/cgroup.subtree_control"] {
                    chown(Self.root + directory + file, owner.0, owner.1)
                }
            }
        }

        static func write(_ text: String, to path: String) throws {
            guard let file = fopen(path, "w") else { throw TestUserError(message: "open \(path): \(String(cString: strerror(errno)))") }
            defer { fclose(file) }
            guard fputs(text, file) >= 0, fflush(file) == 0 else { throw TestUserError(message: "write \(path): \(String(cString: strerror(errno)))") }
        }

        /// Removes the groups it made, depth-first, as logging out does (their processes
        /// are gone by then).
        func remove() {
            for directory in made.reversed() { rmdir(Self.root + directory) }
        }
    }

    static let lessons = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("lessons").path

    @Test func theWholeCoursePassesInADelegatedSubtree() throws {
        let user = try TestUser.make()
        defer { user.remove() }
        try expectHostUnchanged {
            let delegation = try Delegation(for: user)
            defer { delegation.remove() }
            let doctor = try user.gantry(["doctor"], cgroup: delegation.scope)
            #expect(doctor.output.contains("ok   cgroup "), "\(doctor.output)")
            #expect(doctor.output.contains(delegation.service), "doctor names the delegated subtree: \(doctor.output)")
            let tested = try user.gantry(["test", Self.lessons], cgroup: delegation.scope)
            #expect(tested.status == 0, "\(tested.output)\(tested.error)")
            #expect(tested.output.hasSuffix("13 passed, 0 failed, 0 skipped\n"), "\(tested.output)")
            for id in ["cgroup-cpu", "cgroup-memory", "cgroup-pids"] {
                #expect(tested.output.contains("PASS \(id) "), "\(id): \(tested.output)")
            }
            // The lab's groups were made under the user's manager and are gone again.
            let left = (try? FileManager.default.contentsOfDirectory(atPath: Delegation.root + delegation.service)) ?? []
            #expect(left.allSatisfy { !$0.hasPrefix("gantry") }, "left in the subtree: \(left)")
        }
    }

    @Test func withoutADelegatedSubtreeTheUserIsToldWhatWorksAndWhatNot() throws {
        let user = try TestUser.make()
        defer { user.remove() }
        try expectHostUnchanged {
            let doctor = try user.gantry(["doctor"])
            #expect(doctor.output.contains("MISS cgroup "), "\(doctor.output)")
            #expect(doctor.output.contains("none delegated to you"), "\(doctor.output)")
            #expect(doctor.output.contains("Delegate=yes"), "the fix is named: \(doctor.output)")
            #expect(doctor.output.contains("ok   overlay ") && doctor.output.contains("ok   netns "), "\(doctor.output)")
            let tested = try user.gantry(["test", Self.lessons])
            #expect(tested.status == 0, "\(tested.output)\(tested.error)")
            for id in ["cgroup-cpu", "cgroup-memory", "cgroup-pids"] {
                let line = tested.output.split(separator: "\n").first { $0.hasPrefix("SKIP \(id):") }
                #expect(line?.contains("delegated") == true, "\(id) is skipped saying why: \(tested.output)")
            }
        }
    }
}
