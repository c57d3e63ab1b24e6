import Foundation
import Testing
import Lab
import Lessons
import TestSupport

/// Lessons completed the way learners complete them, in plain mode (`gantry shell ID <
/// file`): the course notes' own command sequences (adapted only where Debian's paths
/// differ, said in each case), other correct ways, and wrong attempts that differ from a
/// correct one by one line — which fail at the step they break, with a message naming the
/// mistake. A step passes by the state of the lab, whatever correct commands got it there.
@Suite(.serialized, requiresRoot) struct LessonWaysTests {
    struct Way: CustomTestStringConvertible, Sendable {
        var lesson: String
        var name: String
        var lines: [String]
        /// nil: the lesson completes. Else: the step (1-based) that must fail and words its
        /// message must hold.
        var failsAt: Int?
        var message: [String] = []
        var testDescription: String { "\(lesson): \(name)" }
    }

    static var v2: Bool { HostSupport.detect().has("cgroup.v2") }
    /// Where a v1 group's cpu files are, or a v2 group's.
    static var cpuGroup: String { v2 ? "/sys/fs/cgroup/limit_cpu_50" : "/sys/fs/cgroup/cpu/limit_cpu_50" }

    static let ways: [Way] = {
        var ways: [Way] = []
        // uts — the notes: unshare -u /bin/bash, hostname con01, hostname; outside, dockeredu.
        let utsNotes = ["hostname", "unshare -u /bin/bash", "hostname con01", "hostname", "exit", "hostname"]
        ways.append(Way(lesson: "uts", name: "the notes' commands", lines: utsNotes))
        ways.append(Way(lesson: "uts", name: "long options and other ways to look", lines:
            ["uname -n", "unshare --uts bash", "hostname con01", "uname -n", "exit", "cat /proc/sys/kernel/hostname"]))
        ways.append(Way(lesson: "uts", name: "a shell without Gantry's markers (sh)", lines:
            ["hostname", "unshare -u sh", "hostname con01", "hostname", "exit", "hostname"]))
        ways.append(Way(lesson: "uts", name: "wrong: the hostname set without unshare", lines:
            ["hostname", "hostname con01", "hostname"], failsAt: 2, message: ["changed outside a new UTS namespace", "hostname dockeredu"]))

        // netns-veth — the notes' whole sequence, looks included.
        let netnsNotes = [
            "ip address", "ip link", "ip netns add testnet", "ip netns exec testnet ip link", "ip netns exec testnet ip link set lo up",
            "ip netns exec testnet ip link", "ip link add veth0 type veth peer name veth1", "ip link", "ethtool -S veth1",
            "ip link set veth1 netns testnet", "ip link", "ip netns exec testnet ip link", "ip link set veth0 up",
            "ip address add 172.16.0.1/24 dev veth0", "ip addr show dev veth0", "ping -c 2 172.16.0.2",
            "ip netns exec testnet ip link set veth1 up", "ip netns exec testnet ip address add 172.16.0.2/24 dev veth1",
            "ip netns exec testnet ip address show dev veth1", "ip netns exec testnet ping -c 2 172.16.0.1",
        ]
        ways.append(Way(lesson: "netns-veth", name: "the notes' commands", lines: netnsNotes))
        ways.append(Way(lesson: "netns-veth", name: "ip -n, the peer born in testnet, and 172.16.0.3", lines: [
            "ip netns add testnet", "ip -n testnet link set lo up", "ip link add veth0 type veth peer name veth1 netns testnet",
            "ip link set veth0 up", "ip addr add 172.16.0.1/24 dev veth0", "ip -n testnet link set veth1 up",
            "ip -n testnet addr add 172.16.0.3/24 dev veth1", "ping -c 1 172.16.0.3",
        ]))
        ways.append(Way(lesson: "netns-veth", name: "going ahead: several steps in one line", lines: [
            "ip netns add testnet && ip netns exec testnet ip link set lo up",
            "ip link add veth0 type veth peer name veth1 && ip link set veth1 netns testnet && ip link set veth0 up && ip address add 172.16.0.1/24 dev veth0 && ip netns exec testnet ip link set veth1 up && ip netns exec testnet ip address add 172.16.0.2/24 dev veth1",
            "ip netns exec testnet ping -c 2 172.16.0.1",
        ]))
        var outside = netnsNotes
        outside[outside.firstIndex(of: "ip netns exec testnet ip address add 172.16.0.2/24 dev veth1")!] = "ip netns exec testnet ip address add 172.16.1.2/24 dev veth1"
        ways.append(Way(lesson: "netns-veth", name: "wrong: veth1's address outside 172.16.0.0/24", lines: outside, failsAt: 4,
                        message: ["veth1", "172.16.1.2/24", "none in 172.16.0.0/24"]))

        // chroot — the notes copy each library by hand to /lib64 (CentOS); on Debian they
        // live in /lib/x86_64-linux-gnu, where the loader looks: the paths are adapted.
        let libraries = ["/lib/x86_64-linux-gnu/libtinfo.so.6", "/lib/x86_64-linux-gnu/libc.so.6", "/lib/x86_64-linux-gnu/libselinux.so.1",
                         "/lib/x86_64-linux-gnu/libpcre2-8.so.0", "/lib64/ld-linux-x86-64.so.2"]
        let chrootNotes = ["mkdir -p ~/newroot/bin newroot/lib64 newroot/lib/x86_64-linux-gnu"]
            + libraries.map { "cp \($0) newroot\(($0 as NSString).deletingLastPathComponent)" }
            + ["cp /bin/bash newroot/bin", "cp /bin/ls newroot/bin", "cp /bin/date newroot/bin",
               "chroot newroot", "/bin/ls -l /", "/bin/date", "PATH=/bin:$PATH", "exit"]
        ways.append(Way(lesson: "chroot", name: "the notes' commands (Debian's library paths)", lines: chrootNotes))
        ways.append(Way(lesson: "chroot", name: "cp --parents for what ldd names", lines: [
            "mkdir -p ~/newroot/bin", "cp /bin/bash /bin/ls /bin/date ~/newroot/bin",
            "for f in $(ldd /bin/bash /bin/ls /bin/date | grep -o '/[^ ]*' | grep -v ':$' | sort -u); do cp --parents $f ~/newroot; done",
            "chroot ~/newroot /bin/bash", "ls /", "exit",
        ]))
        ways.append(Way(lesson: "chroot", name: "wrong: no libraries copied", lines: [
            "mkdir -p ~/newroot/bin", "cp /bin/bash /bin/ls /bin/date ~/newroot/bin", "chroot ~/newroot",
        ], failsAt: 2, message: ["chroot /root/newroot /bin/bash", "No such file or directory"]))
        ways.append(Way(lesson: "chroot", name: "wrong: the notes' CentOS way, every library in lib64", lines: [
            "mkdir -p ~/newroot/bin ~/newroot/lib64", "cp /bin/bash /bin/ls /bin/date ~/newroot/bin",
        ] + libraries.map { "cp \($0) ~/newroot/lib64" } + ["chroot ~/newroot"], failsAt: 2,
            message: ["error while loading shared libraries", "cannot open shared object file"]))

        // cgroup-cpu — the notes: cgcreate, cgclassify PID, cgset. The notes' quota of 200000
        // is a slip (the course summary: the intent is half a CPU): 50000 here.
        let group = cpuGroup
        let notes: [String] = v2
            ? ["yes > /dev/null &", "mkdir /sys/fs/cgroup/limit_cpu_50", "echo $! > /sys/fs/cgroup/limit_cpu_50/cgroup.procs",
               "echo '50000 100000' > /sys/fs/cgroup/limit_cpu_50/cpu.max", "kill %1"]
            : ["yes > /dev/null &", "cgcreate -g cpu:limit_cpu_50", "cgclassify -g cpu:limit_cpu_50 $!",
               "cgset -r cpu.cfs_quota_us=50000 limit_cpu_50", "kill %1"]
        ways.append(Way(lesson: "cgroup-cpu", name: "the notes' commands (a quota of 50000)", lines: notes))
        ways.append(Way(lesson: "cgroup-cpu", name: "echo into the group's files, kill by pid", lines: v2
            ? ["while :; do :; done &", "loop=$!", "mkdir \(group)", "echo $loop > \(group)/cgroup.procs", "echo '50000 100000' > \(group)/cpu.max", "kill $loop"]
            : ["while :; do :; done &", "loop=$!", "mkdir \(group)", "echo $loop > \(group)/cgroup.procs", "echo 50000 > \(group)/cpu.cfs_quota_us", "kill $loop"]))
        ways.append(Way(lesson: "cgroup-cpu", name: "another hog, found with pgrep, stopped with pkill", lines: v2
            ? ["sha1sum /dev/zero &", "mkdir \(group)", "pgrep sha1sum > \(group)/cgroup.procs", "echo '50000 100000' > \(group)/cpu.max", "pkill sha1sum"]
            : ["sha1sum /dev/zero &", "cgcreate -g cpu:limit_cpu_50", "cgclassify -g cpu:limit_cpu_50 $(pgrep sha1sum)",
               "cgset -r cpu.cfs_quota_us=50000 limit_cpu_50", "pkill sha1sum"]))
        var shell = notes
        shell[2] = v2 ? "echo $$ > /sys/fs/cgroup/limit_cpu_50/cgroup.procs" : "cgclassify -g cpu:limit_cpu_50 $$"
        ways.append(Way(lesson: "cgroup-cpu", name: "wrong: the shell classified instead of the loop", lines: shell, failsAt: 3,
                        message: ["is not in limit_cpu_50", "it holds"]))
        var twoCPUs = notes
        twoCPUs[3] = v2 ? "echo '200000 100000' > /sys/fs/cgroup/limit_cpu_50/cpu.max" : "cgset -r cpu.cfs_quota_us=200000 limit_cpu_50"
        ways.append(Way(lesson: "cgroup-cpu", name: "wrong: the notes' quota of 200000", lines: twoCPUs, failsAt: 4,
                        message: ["allows 200% of a CPU", "expected 50%"]))
        return ways
    }()

    @Test(arguments: ways)
    func completesOrFailsWhereItShould(_ way: Way) throws {
        let learner = try ShellCommandTests.Learner()
        try expectHostUnchanged {
            let result = try learner.gantry(["shell", "--lessons", ShellCommandTests.lessons, way.lesson],
                                            input: way.lines.joined(separator: "\n") + "\n")
            if let step = way.failsAt {
                #expect(result.status == 1, "\(result.output)")
                let report = result.output.split(separator: "\n").first { $0.hasPrefix("Step \(step) of \(way.lesson) ") }.map(String.init) ?? ""
                #expect(!report.isEmpty, "it should fail at step \(step): \(result.output)")
                for words in way.message {
                    #expect(report.contains(words), "'\(words)' not in: \(report)")
                }
            } else {
                #expect(result.status == 0, "\(result.output)\(result.error)")
                #expect(result.output.contains("complete: "), "\(result.output)")
            }
        }
    }
}
