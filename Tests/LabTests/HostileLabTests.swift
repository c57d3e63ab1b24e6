import Cgroups
import Foundation
import Glibc
import Isolation
import TestSupport
import Testing

@testable import Lab

/// What a hostile learner (or a hostile transcript under replay) types into a lab, as root
/// on the host: every attempt must be refused, or land inside the lab, and the host must be
/// as it was afterwards — sysctls, sysfs knobs, IRQ affinity, the root cgroups and their
/// files, inotify for the host's root, files, processes, mounts, links, netns, hostname.
///
/// Each script prints a marker only when its last step was refused (or shows where it
/// landed), so a script that silently did nothing cannot pass.
@Suite(.serialized, requiresRoot) struct HostileLabTests {
    struct Attempt: CustomTestStringConvertible, Sendable {
        var name: String
        var script: String
        /// Every one of these must be in the output.
        var expected: [String]
        var testDescription: String { name }
    }

    static let attempts: [Attempt] = [
        Attempt(
            name: "remount /proc/sys writable, then core_pattern and a crash",
            script: """
                mount -o remount,bind,rw /proc/sys 2>/dev/null || echo LOCKED
                echo '|/usr/bin/touch /tmp/gantry-escape-core' > /proc/sys/kernel/core_pattern 2>/dev/null || echo REFUSED
                sh -c 'kill -SEGV $$'; sleep 0.2
                """, expected: ["LOCKED", "REFUSED"]),
        Attempt(
            name: "unmount /proc/sys and write a global sysctl",
            script:
                "umount /proc/sys 2>/dev/null || umount -l /proc/sys 2>/dev/null || echo LOCKED; echo 1 > /proc/sys/vm/swappiness 2>/dev/null || echo REFUSED",
            expected: ["LOCKED", "REFUSED"]),
        Attempt(
            name: "a new proc in unshare --mount-proc, then sysctls",
            script: """
                unshare -m --pid --fork --mount-proc sh -c 'echo MOUNTED; echo 1 > /proc/sys/vm/swappiness 2>/dev/null || echo REFUSED; echo "|/usr/bin/touch /tmp/gantry-escape-core" > /proc/sys/kernel/core_pattern 2>/dev/null || echo REFUSED-CORE'
                """, expected: ["MOUNTED", "REFUSED", "REFUSED-CORE"]),
        Attempt(
            name: "sysctl -w on a global setting",
            script: "sysctl -w vm.swappiness=1 >/dev/null 2>&1 || echo REFUSED", expected: ["REFUSED"]),
        Attempt(
            name: "remount /sys writable, then a transparent-hugepage knob",
            script:
                "mount -o remount,bind,rw /sys 2>/dev/null || echo LOCKED; echo never > /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null || echo REFUSED",
            expected: ["LOCKED", "REFUSED"]),
        Attempt(
            name: "uncover the lab's hidden proc and sysfs",
            script: "umount /run/gantry 2>/dev/null || umount -l /run/gantry 2>/dev/null || echo LOCKED; ls /run/gantry | wc -l",
            expected: ["LOCKED", "0"]),
        Attempt(
            name: "a fresh sysfs in a new network namespace, then a knob",
            script:
                "unshare -m -n sh -c 'mount -t sysfs sysfs /sys && echo MOUNTED; echo never > /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null || echo REFUSED'",
            expected: ["MOUNTED", "REFUSED"]),
        Attempt(
            name: "the host's IRQ affinity",
            script: "echo 1 > /proc/irq/default_smp_affinity 2>/dev/null || echo REFUSED", expected: ["REFUSED"]),
        Attempt(
            name: "the host's root blkio, devices and cpuset groups",
            script: """
                mkdir -p /mnt/c
                for c in blkio devices cpuset; do
                  if mount -t cgroup -o $c none /mnt/c 2>/dev/null; then
                    mkdir /mnt/c/gantry-escape 2>/dev/null && echo MADE-$c || echo REFUSED-$c
                    echo "8:0 1024" > /mnt/c/blkio.throttle.read_bps_device 2>/dev/null && echo THROTTLED-$c
                    umount /mnt/c
                  else
                    echo REFUSED-$c
                  fi
                done
                """, expected: ["REFUSED-blkio", "REFUSED-devices", "REFUSED-cpuset"]),
        Attempt(
            name: "raise the lab's own pids and memory limits",
            script: """
                for f in /sys/fs/cgroup/pids.max /sys/fs/cgroup/pids/pids.max; do [ -e $f ] && { echo max > $f 2>/dev/null || echo REFUSED-PIDS; }; done
                for f in /sys/fs/cgroup/memory.max /sys/fs/cgroup/memory/memory.limit_in_bytes; do [ -e $f ] && { echo -1 > $f 2>/dev/null || echo max > $f 2>/dev/null || echo REFUSED-MEMORY; }; done
                """, expected: ["REFUSED-PIDS", "REFUSED-MEMORY"]),
        Attempt(
            name: "v1 release_agent",
            script: """
                mkdir -p /mnt/r
                if mount -t cgroup -o memory none /mnt/r 2>/dev/null; then
                  echo /tmp/gantry-escape-agent > /mnt/r/release_agent 2>/dev/null || echo REFUSED; umount /mnt/r
                else echo REFUSED; fi
                """, expected: ["REFUSED"]),
        // The lab's /proc/sysrq-trigger is /dev/null (char 1:3): a write there may succeed
        // (a device node on a read-only bind still opens for writing where the mount allows
        // devices, as in the cgroup v2 guest) and does nothing; only a write that lands on
        // anything else is the kernel's trigger.
        Attempt(
            name: "sysrq-trigger",
            script: "{ echo h > /proc/sysrq-trigger; } 2>/dev/null && [ \"$(stat -c %t:%T /proc/sysrq-trigger)\" != 1:3 ] && echo WROTE-SYSRQ || echo REFUSED",
            expected: ["REFUSED"]),
        Attempt(name: "mknod the host's disk", script: "mknod /tmp/disk b 8 0 2>/dev/null || echo REFUSED", expected: ["REFUSED"]),
        Attempt(name: "the kernel log", script: "dmesg -c >/dev/null 2>&1 || echo REFUSED", expected: ["REFUSED"]),
        Attempt(name: "the host's clock", script: "date -s '2001-01-01' >/dev/null 2>&1 || echo REFUSED", expected: ["REFUSED"]),
        Attempt(
            name: "nsenter into pid 1's namespaces",
            script: "nsenter -t 1 -a hostname 2>/dev/null || echo REFUSED", expected: ["REFUSED"]),
        Attempt(
            name: "ptrace and read the keeper",
            script: """
                strace -p 1 -o /dev/null -e trace=none 2>/dev/null & sleep 0.3; kill %1 2>/dev/null; wait %1 2>/dev/null
                [ -s /proc/1/environ ] 2>/dev/null && echo READ-ENVIRON || echo REFUSED-ENVIRON
                head -c 1 /proc/1/mem >/dev/null 2>&1 && echo READ-MEM || echo REFUSED-MEM
                tr '\\0' '\\n' < /proc/1/cmdline | head -1
                """, expected: ["REFUSED-ENVIRON", "REFUSED-MEM", "gantry-keeper"]),
        Attempt(
            name: "the lab's own network sysctl and hostname stay inside",
            script: "echo 1 > /proc/sys/net/ipv4/ip_forward && cat /proc/sys/net/ipv4/ip_forward; hostname gantry-escape && hostname",
            expected: ["1", "gantry-escape"]),
        Attempt(
            name: "kill everything, then the lab is still there",
            script: "kill -9 -1 2>/dev/null; echo SURVIVED", expected: []),
    ]

    @Test(arguments: attempts)
    func isRefusedAndTheHostIsUnchanged(_ attempt: Attempt) throws {
        try expectHostUnchanged {
            let lab = try Lab.create()
            defer { lab.destroy() }
            let result = try lab.run(attempt.script)
            let lines = Set(result.output.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) })
            for marker in attempt.expected {
                #expect(lines.contains(marker), "\(attempt.name): no \(marker) in \(result.output.debugDescription)")
            }
            #expect(try lab.run("echo alive").output == "alive\n", "the lab outlived the attempt")
            #expect(!FileManager.default.fileExists(atPath: "/tmp/gantry-escape-core"))
            #expect(lab.cgroup?.limitsAsSet() == LabConfiguration.defaultLimits, "the lab's own limits are unchanged")
        }
    }

    @Test func inotifyInstancesOfALabAreNotTheHostRootsOwn() throws {
        try expectHostUnchanged {
            let lab = try Lab.create()
            defer { lab.destroy() }
            let shell = try LabShell(lab: lab)
            // Hold as many instances as the kernel gives the lab's user while the host checks.
            _ = try shell.run(
                """
                /usr/bin/python3 -c 'import ctypes,sys,time; libc=ctypes.CDLL(None); n=0
                while n < 1000 and libc.inotify_init() >= 0: n += 1
                print(n, flush=True); time.sleep(30)' > /tmp/count &
                """)
            var held = ""
            for _ in 0..<100 where held.isEmpty {
                usleep(50_000)
                held = try lab.run("cat /tmp/count").output.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            #expect((Int(held) ?? 0) >= 100, "the lab held \(held) instances")
            let fd = inotify_init1(Int32(IN_CLOEXEC))
            #expect(fd >= 0, "the host's root can still make one (errno \(errno))")
            if fd >= 0 { close(fd) }
        }
    }

    @Test func probeCommandsReadNothingFromGantrysInput() throws {
        try expectHostUnchanged {
            let lab = try Lab.create()
            defer { lab.destroy() }
            let result = try lab.run("read -r line; echo \"got:$line\"; ls -l /proc/self/fd/0")
            #expect(result.output.hasPrefix("got:\n"), "\(result.output)")
            #expect(result.output.contains("/dev/null"), "\(result.output)")
        }
    }

    @Test func fileProbesResolveSymlinksInsideTheLab() throws {
        let hostOnly = "/tmp/gantry-host-only-\(getpid())"
        try "host secret\n".write(toFile: hostOnly, atomically: false, encoding: .utf8)
        defer { unlink(hostOnly) }
        try expectHostUnchanged {
            let lab = try Lab.create()
            defer { lab.destroy() }
            #expect(try lab.run("ln -s \(hostOnly) /root/absolute; ln -s ../../../../..\(hostOnly) /root/relative").status == .exited(0))
            for link in ["/root/absolute", "/root/relative"] {
                #expect(!lab.fileExists(link).value, "\(link) leads to a file the lab does not have")
                #expect(lab.fileContents(link).value == nil)
            }
            #expect(try lab.run("echo lab > \(hostOnly)").status == .exited(0))
            #expect(lab.fileContents("/root/absolute").value == "lab\n", "followed inside the lab")
            #expect(try String(contentsOfFile: hostOnly, encoding: .utf8) == "host secret\n")
        }
    }

    /// TIOCSTI: a process whose controlling terminal is the host's could push keystrokes
    /// into it, which the host's shell runs as root once Gantry exits. Everything entering a
    /// lab gets a session of its own, so the host's terminal is nobody's there.
    @Test func keystrokesCannotBePushedIntoTheHostsTerminal() throws {
        let marker = "/tmp/gantry-escape-tiocsti"
        let inject =
            "import fcntl, os, termios\\n"
            + "try:\\n fd = os.open(\"/dev/tty\", os.O_RDWR)\\nexcept OSError as e:\\n print(\"NO-TTY\", e.errno); raise SystemExit\\n"
            + "for c in \"touch \(marker)\\\\n\": fcntl.ioctl(fd, termios.TIOCSTI, c)\\n"
        try expectHostUnchanged {
            let host = try TerminalSession("/bin/bash", ["--norc", "--noprofile", "-i"], environment: ["PS1": "host$ ", "TERM": "xterm"])
            try host.waitFor("host$ ")
            host.type("\(CommandRunner.gantryPath) lab -c 'printf \"\(inject)\" > /tmp/inject.py; python3 /tmp/inject.py; echo LAB-DONE'\r")
            try host.waitFor("LAB-DONE")
            try host.waitFor("host$ ")
            // Whatever was pushed would be read by the host's shell now.
            host.type("echo HOST-$((6*7))\r")
            try host.waitFor("HOST-42")
            host.type("exit\r")
            _ = host.waitForExit()
            #expect(TerminalSession.plain(host.raw).contains("NO-TTY"), "the lab could open the host's terminal: \(TerminalSession.plain(host.raw))")
            #expect(access(marker, F_OK) != 0, "keystrokes pushed from the lab ran on the host")
            unlink(marker)
        }
    }

    @Test func aFrozenGroupDoesNotHoldTeardown() throws {
        try expectHostUnchanged {
            let lab = try Lab.create()
            let group = try #require(lab.cgroup)
            let v2 = group.driver.layout.mode == .unified
            let script =
                v2
                ? "mkdir /sys/fs/cgroup/ice && sleep 300 >/dev/null 2>&1 & sleep 0.1; echo $! > /sys/fs/cgroup/ice/cgroup.procs; echo 1 > /sys/fs/cgroup/ice/cgroup.freeze; cat /sys/fs/cgroup/ice/cgroup.freeze"
                : "mkdir /sys/fs/cgroup/freezer/ice && sleep 300 >/dev/null 2>&1 & sleep 0.1; echo $! > /sys/fs/cgroup/freezer/ice/tasks; echo FROZEN > /sys/fs/cgroup/freezer/ice/freezer.state; sleep 0.2; cat /sys/fs/cgroup/freezer/ice/freezer.state"
            let result = try lab.run(script)
            #expect(result.output.contains(v2 ? "1" : "FROZEN"), "\(result.output)")
            lab.destroy()
            #expect(group.directories.allSatisfy { access($0, F_OK) != 0 }, "the lab's groups are gone")
        }
    }
}

extension Cgroup {
    /// The lab-wide limits as the host reads them (memory and pids), for comparing.
    func limitsAsSet() -> ResourceLimits {
        let files = KernelCgroupFileSystem()
        func number(_ v2: String, _ v1: (String, String)) -> Int64? {
            let layout = driver.layout
            let path = layout.mode == .unified ? directories[0] + "/" + v2 : layout.v1Paths[v1.0].map { $0 + "/" + self.path + "/" + v1.1 }
            return path.flatMap { try? files.read($0) }.flatMap { Int64($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
        return ResourceLimits(memoryMax: number("memory.max", ("memory", "memory.limit_in_bytes")), pidsMax: number("pids.max", ("pids", "pids.max")))
    }
}

/// The lab's resources hold, and its terminal never holds Gantry.
@Suite(.serialized, requiresRoot) struct LabLimitTests {
    @Test func typingAheadIntoAProgramThatDoesNotReadNeverBlocks() throws {
        try expectHostUnchanged {
            let lab = try Lab.create()
            defer { lab.destroy() }
            let shell = try LabShell(lab: lab)
            // `sleep` reads nothing; 40 KB is ten times what the terminal buffers.
            let typed = [UInt8](repeating: UInt8(ascii: "x"), count: 40 * 1024)
            var interrupted = false
            let result = try shell.run(
                "sleep 30", timeoutMilliseconds: nil, watching: [],
                onQuiet: {
                    guard !interrupted else { return }
                    interrupted = true
                    try? shell.send(typed)
                    try? shell.send([0x03])  // Ctrl-C jumps what is still waiting
                })
            #expect(interrupted)
            #expect(result.status == 130, "the interrupt reached sleep: \(result)")
            #expect(try shell.run("echo after").output.hasSuffix("after\n"))
        }
    }

    @Test func aMemoryHogIsKilledInsideAndTheLabGoesOn() throws {
        try expectHostUnchanged {
            let lab = try Lab.create(LabConfiguration(limits: ResourceLimits(memoryMax: 256 << 20, pidsMax: 512)))
            defer { lab.destroy() }
            let hog = try lab.run("/usr/bin/python3 -c 'b = bytearray(1 << 30)'; echo status $?")
            #expect(hog.output.contains("status 137"), "\(hog.output)")
            // A tmpfs the lab gets is no bigger than its memory: the disk fills, not the host.
            let fill = try lab.run("dd if=/dev/zero of=/tmp/fill bs=1M count=400 2>&1 | grep -o 'No space left on device'; rm -f /tmp/fill")
            #expect(fill.output.contains("No space left on device"), "\(fill.output)")
            #expect(try lab.run("echo alive").output == "alive\n")
        }
    }
}
