import Foundation
import Lab
import Lessons
import TestSupport
import Testing

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
        ways.append(
            Way(
                lesson: "uts", name: "long options and other ways to look",
                lines: ["uname -n", "unshare --uts bash", "hostname con01", "uname -n", "exit", "cat /proc/sys/kernel/hostname"]))
        ways.append(
            Way(
                lesson: "uts", name: "a shell without Gantry's markers (sh)",
                lines: ["hostname", "unshare -u sh", "hostname con01", "hostname", "exit", "hostname"]))
        ways.append(
            Way(
                lesson: "uts", name: "wrong: the hostname set without unshare", lines: ["hostname", "hostname con01", "hostname"], failsAt: 2,
                message: ["changed outside a new UTS namespace", "hostname dockeredu"]))

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
        ways.append(
            Way(
                lesson: "netns-veth", name: "ip -n, the peer born in testnet, and 172.16.0.3",
                lines: [
                    "ip netns add testnet", "ip -n testnet link set lo up", "ip link add veth0 type veth peer name veth1 netns testnet",
                    "ip link set veth0 up", "ip addr add 172.16.0.1/24 dev veth0", "ip -n testnet link set veth1 up",
                    "ip -n testnet addr add 172.16.0.3/24 dev veth1", "ping -c 1 172.16.0.3",
                ]))
        ways.append(
            Way(
                lesson: "netns-veth", name: "going ahead: several steps in one line",
                lines: [
                    "ip netns add testnet && ip netns exec testnet ip link set lo up",
                    "ip link add veth0 type veth peer name veth1 && ip link set veth1 netns testnet && ip link set veth0 up && ip address add 172.16.0.1/24 dev veth0 && ip netns exec testnet ip link set veth1 up && ip netns exec testnet ip address add 172.16.0.2/24 dev veth1",
                    "ip netns exec testnet ping -c 2 172.16.0.1",
                ]))
        var outside = netnsNotes
        outside[outside.firstIndex(of: "ip netns exec testnet ip address add 172.16.0.2/24 dev veth1")!] =
            "ip netns exec testnet ip address add 172.16.1.2/24 dev veth1"
        ways.append(
            Way(
                lesson: "netns-veth", name: "wrong: veth1's address outside 172.16.0.0/24", lines: outside, failsAt: 4,
                message: ["veth1", "172.16.1.2/24", "none in 172.16.0.0/24"]))

        // chroot — the notes copy each library by hand to /lib64 (CentOS); on Debian they
        // live in /lib/x86_64-linux-gnu, where the loader looks: the paths are adapted.
        let libraries = [
            "/lib/x86_64-linux-gnu/libtinfo.so.6", "/lib/x86_64-linux-gnu/libc.so.6", "/lib/x86_64-linux-gnu/libselinux.so.1",
            "/lib/x86_64-linux-gnu/libpcre2-8.so.0", "/lib64/ld-linux-x86-64.so.2",
        ]
        let chrootNotes =
            ["mkdir -p ~/newroot/bin newroot/lib64 newroot/lib/x86_64-linux-gnu"]
            + libraries.map { "cp \($0) newroot\(($0 as NSString).deletingLastPathComponent)" }
            + [
                "cp /bin/bash newroot/bin", "cp /bin/ls newroot/bin", "cp /bin/date newroot/bin",
                "chroot newroot", "/bin/ls -l /", "/bin/date", "PATH=/bin:$PATH", "exit",
            ]
        ways.append(Way(lesson: "chroot", name: "the notes' commands (Debian's library paths)", lines: chrootNotes))
        ways.append(
            Way(
                lesson: "chroot", name: "cp --parents for what ldd names",
                lines: [
                    "mkdir -p ~/newroot/bin", "cp /bin/bash /bin/ls /bin/date ~/newroot/bin",
                    "for f in $(ldd /bin/bash /bin/ls /bin/date | grep -o '/[^ ]*' | grep -v ':$' | sort -u); do cp --parents $f ~/newroot; done",
                    "chroot ~/newroot /bin/bash", "ls /", "exit",
                ]))
        ways.append(
            Way(
                lesson: "chroot", name: "wrong: no libraries copied",
                lines: [
                    "mkdir -p ~/newroot/bin", "cp /bin/bash /bin/ls /bin/date ~/newroot/bin", "chroot ~/newroot",
                ], failsAt: 2, message: ["chroot /root/newroot /bin/bash", "No such file or directory"]))
        ways.append(
            Way(
                lesson: "chroot", name: "wrong: the notes' CentOS way, every library in lib64",
                lines: [
                    "mkdir -p ~/newroot/bin ~/newroot/lib64", "cp /bin/bash /bin/ls /bin/date ~/newroot/bin",
                ] + libraries.map { "cp \($0) ~/newroot/lib64" } + ["chroot ~/newroot"], failsAt: 2,
                message: ["error while loading shared libraries", "cannot open shared object file"]))

        // cgroup-cpu — the notes: cgcreate, cgclassify PID, cgset. The notes' quota of 200000
        // is a slip (the course summary: the intent is half a CPU): 50000 here.
        let group = cpuGroup
        let notes: [String] =
            v2
            ? [
                "yes > /dev/null &", "mkdir /sys/fs/cgroup/limit_cpu_50", "echo $! > /sys/fs/cgroup/limit_cpu_50/cgroup.procs",
                "echo '50000 100000' > /sys/fs/cgroup/limit_cpu_50/cpu.max", "kill %1",
            ]
            : [
                "yes > /dev/null &", "cgcreate -g cpu:limit_cpu_50", "cgclassify -g cpu:limit_cpu_50 $!",
                "cgset -r cpu.cfs_quota_us=50000 limit_cpu_50", "kill %1",
            ]
        ways.append(Way(lesson: "cgroup-cpu", name: "the notes' commands (a quota of 50000)", lines: notes))
        ways.append(
            Way(
                lesson: "cgroup-cpu", name: "echo into the group's files, kill by pid",
                lines: v2
                    ? [
                        "while :; do :; done &", "loop=$!", "mkdir \(group)", "echo $loop > \(group)/cgroup.procs", "echo '50000 100000' > \(group)/cpu.max",
                        "kill $loop",
                    ]
                    : [
                        "while :; do :; done &", "loop=$!", "mkdir \(group)", "echo $loop > \(group)/cgroup.procs", "echo 50000 > \(group)/cpu.cfs_quota_us",
                        "kill $loop",
                    ]))
        ways.append(
            Way(
                lesson: "cgroup-cpu", name: "another hog, found with pgrep, stopped with pkill",
                lines: v2
                    ? [
                        "sha1sum /dev/zero &", "mkdir \(group)", "pgrep sha1sum > \(group)/cgroup.procs", "echo '50000 100000' > \(group)/cpu.max",
                        "pkill sha1sum",
                    ]
                    : [
                        "sha1sum /dev/zero &", "cgcreate -g cpu:limit_cpu_50", "cgclassify -g cpu:limit_cpu_50 $(pgrep sha1sum)",
                        "cgset -r cpu.cfs_quota_us=50000 limit_cpu_50", "pkill sha1sum",
                    ]))
        var shell = notes
        shell[2] = v2 ? "echo $$ > /sys/fs/cgroup/limit_cpu_50/cgroup.procs" : "cgclassify -g cpu:limit_cpu_50 $$"
        ways.append(
            Way(
                lesson: "cgroup-cpu", name: "wrong: the shell classified instead of the loop", lines: shell, failsAt: 3,
                message: ["is not in limit_cpu_50", "it holds"]))
        var twoCPUs = notes
        twoCPUs[3] = v2 ? "echo '200000 100000' > /sys/fs/cgroup/limit_cpu_50/cpu.max" : "cgset -r cpu.cfs_quota_us=200000 limit_cpu_50"
        ways.append(
            Way(
                lesson: "cgroup-cpu", name: "wrong: the notes' quota of 200000", lines: twoCPUs, failsAt: 4,
                message: ["allows 200% of a CPU", "expected 50%"]))
        ways += otherLessons
        return ways
    }()

    /// The lessons that are not from the notes: two more correct ways each, beside the
    /// reference that `gantry test` runs, and a wrong attempt one line away from a correct one.
    static var otherLessons: [Way] {
        var ways: [Way] = []
        ways.append(
            Way(lesson: "namespaces", name: "/proc/self, and the sleep left as a job", lines: ["readlink /proc/self/ns/uts", "unshare --uts sleep 300 &"]))
        ways.append(
            Way(
                lesson: "namespaces", name: "every namespace at once, and nohup",
                lines: ["readlink /proc/$$/ns/*", "nohup unshare -u sleep 300 > /dev/null 2>&1 &"]))
        ways.append(
            Way(
                lesson: "namespaces", name: "wrong: sleep without unshare", lines: ["readlink /proc/$$/ns/uts", "sleep 300 &"], failsAt: 2,
                message: ["is still in the lab's uts namespace"]))

        ways.append(
            Way(
                lesson: "pid", name: "an interactive shell as pid 1, and ps",
                lines: ["unshare --pid --fork --mount-proc bash", "ps", "exit", "unshare -pf --mount-proc sleep 300 &"]))
        ways.append(
            Way(
                lesson: "pid", name: "sh and short options, the sleep started from a subshell",
                lines: ["unshare -pf --mount-proc sh -c 'ps -o pid,comm; true'", "(unshare -pf --mount-proc sleep 300 &)"]))
        ways.append(
            Way(
                lesson: "pid", name: "wrong: no --fork",
                lines: ["unshare -pf --mount-proc bash -c 'echo $$; ps -o pid= -o comm=; true'", "unshare --pid sleep 300 &"],
                failsAt: 2, message: ["sleep 300"]))

        ways.append(
            Way(
                lesson: "mount", name: "sh, the directory made inside, findmnt outside",
                lines: [
                    "unshare -m sh", "mkdir -p /srv/scratch && mount -t tmpfs none /srv/scratch", "echo hi > /srv/scratch/only-here",
                    "exit", "findmnt /srv/scratch",
                ]))
        ways.append(
            Way(
                lesson: "mount", name: "long options",
                lines: [
                    "mkdir /srv/scratch", "unshare --mount bash", "mount -t tmpfs tmpfs /srv/scratch", "touch /srv/scratch/only-here",
                    "exit", "ls -a /srv/scratch",
                ]))
        ways.append(
            Way(
                lesson: "mount", name: "wrong: mounted in the lab's own namespace",
                lines: ["mkdir -p /srv/scratch", "mount -t tmpfs scratch /srv/scratch", "touch /srv/scratch/only-here"],
                failsAt: 1, message: ["/srv/scratch"]))

        ways.append(Way(lesson: "user", name: "id, and --user", lines: ["unshare --user id", "unshare --user --map-root-user sleep 300 &"]))
        ways.append(Way(lesson: "user", name: "whoami, and -r", lines: ["unshare -U whoami", "unshare -r sleep 300 &"]))
        ways.append(
            Way(
                lesson: "user", name: "wrong: sleep without a user namespace", lines: ["unshare -U id -u", "sleep 300 &"], failsAt: 2,
                message: ["is still in the lab's user namespace"]))

        ways.append(Way(lesson: "ipc", name: "--shmem and --ipc", lines: ["ipcmk --shmem 1K", "unshare --ipc sh -c 'ipcs -m | grep -c ^0x'"]))
        ways.append(
            Way(
                lesson: "ipc", name: "an interactive shell in the new namespace",
                lines: ["ipcmk -M 100", "ipcs -m", "unshare -i bash", "ipcs -m | grep -c '^0x'", "exit"]))
        ways.append(
            Way(
                lesson: "ipc", name: "wrong: counted without unshare -i", lines: ["ipcmk -M 4096", "bash -c \"ipcs -m | grep -c '^0x'\""], failsAt: 2,
                message: ["0"]))

        ways.append(
            Way(
                lesson: "bridge", name: "ip -n, master and up in one line, other addresses",
                lines: [
                    "ip link add name br0 type bridge", "ip link set dev br0 up", "ip netns add red", "ip netns add blue",
                    "ip link add veth-red type veth peer name eth0 netns red", "ip link add veth-blue type veth peer name eth0 netns blue",
                    "ip link set veth-red master br0 up", "ip link set veth-blue master br0 up",
                    "ip -n red link set eth0 up", "ip -n red addr add 172.16.1.10/24 dev eth0",
                    "ip -n blue link set eth0 up", "ip -n blue addr add 172.16.1.20/24 dev eth0", "ip netns exec blue ping -c 1 172.16.1.10",
                ]))
        ways.append(
            Way(
                lesson: "bridge", name: "peers moved and renamed, ports in a loop, the bridge up last",
                lines: [
                    "ip link add br0 type bridge", "ip link add veth-red type veth peer name red0", "ip link add veth-blue type veth peer name blue0",
                    "ip netns add red", "ip netns add blue", "ip link set red0 netns red", "ip link set blue0 netns blue",
                    "ip -n red link set red0 name eth0", "ip -n blue link set blue0 name eth0",
                    "for port in veth-red veth-blue; do ip link set $port master br0; ip link set $port up; done", "ip link set br0 up",
                    "ip netns exec red ip link set eth0 up", "ip netns exec red ip address add 172.16.1.1/24 dev eth0",
                    "ip netns exec blue ip link set eth0 up", "ip netns exec blue ip address add 172.16.1.2/24 dev eth0",
                ]))
        ways.append(
            Way(
                lesson: "bridge", name: "wrong: the two ends in different networks",
                lines: [
                    "ip link add br0 type bridge", "ip link set br0 up", "ip netns add red", "ip netns add blue",
                    "ip link add veth-red type veth peer name eth0 netns red", "ip link add veth-blue type veth peer name eth0 netns blue",
                    "ip link set veth-red master br0 up", "ip link set veth-blue master br0 up",
                    "ip -n red link set eth0 up", "ip -n red addr add 172.16.1.1/24 dev eth0",
                    "ip -n blue link set eth0 up", "ip -n blue addr add 172.16.2.2/24 dev eth0",
                ], failsAt: 3, message: ["172.16"]))

        // cgroup-memory and cgroup-pids: the group's files as this host has them.
        let memory = v2 ? "/sys/fs/cgroup/limit_mem_32m" : "/sys/fs/cgroup/memory/limit_mem_32m"
        let memoryMax = v2 ? "memory.max" : "memory.limit_in_bytes"
        ways.append(
            Way(
                lesson: "cgroup-memory", name: "echo into the group's files, in bytes",
                lines: [
                    "mkdir \(memory)", "echo 33554432 > \(memory)/\(memoryMax)",
                    "sh -c 'echo $$ > \(memory)/cgroup.procs; head -c 64M /dev/zero | tail'",
                ]))
        ways.append(
            Way(
                lesson: "cgroup-memory", name: "python moves itself in and fills 64 MiB",
                lines: [
                    "mkdir -p \(memory)", "echo 32m > \(memory)/\(memoryMax)",
                    "python3 -c \"open('\(memory)/cgroup.procs', 'w').write('0'); data = b'x' * (64 << 20)\"",
                ]))
        ways.append(
            Way(
                lesson: "cgroup-memory", name: "wrong: the hog outside the group",
                lines: [
                    "mkdir \(memory)", "echo 32M > \(memory)/\(memoryMax)", "sh -c 'head -c 16M /dev/zero | tail > /dev/null'",
                ], failsAt: 2, message: ["OOM killer struck 0"]))

        let pids = v2 ? "/sys/fs/cgroup/limit_pids_20" : "/sys/fs/cgroup/pids/limit_pids_20"
        ways.append(
            Way(
                lesson: "cgroup-pids", name: "echo into the group's files, forty sleeps",
                lines: [
                    "mkdir \(pids)", "echo 20 > \(pids)/pids.max",
                    "sh -c 'echo $$ > \(pids)/cgroup.procs; for i in $(seq 40); do sleep 1 & done 2>/dev/null; wait'",
                ]))
        ways.append(
            Way(
                lesson: "cgroup-pids", name: "a loop of background jobs in a shell moved in",
                lines: [
                    "mkdir -p \(pids) && echo 20 > \(pids)/pids.max",
                    "bash -c 'echo $$ > \(pids)/cgroup.procs; for i in {1..30}; do sleep 2 & done; wait' 2>/dev/null",
                ]))
        ways.append(
            Way(
                lesson: "cgroup-pids", name: "wrong: the bomb outside the group",
                lines: [
                    "mkdir \(pids)", "echo 20 > \(pids)/pids.max",
                    "timeout 2 bash -c 'bomb() { bomb | bomb & }; bomb' 2>/dev/null; echo done",
                ], failsAt: 2, message: ["task limit"]))

        // capstone: the image by cp --parents, the limits by echo, the network by ip -n.
        let image = [
            "mkdir -p ~/box/proc",
            "for f in $(which bash sleep mount hostname) $(ldd $(which bash sleep mount hostname) | grep -o '/[^ ]*' | grep -v ':$' | sort -u); do cp --parents $f ~/box; done",
        ]
        let limits =
            v2
            ? [
                "mkdir /sys/fs/cgroup/box", "echo '50000 100000' > /sys/fs/cgroup/box/cpu.max",
                "echo 64M > /sys/fs/cgroup/box/memory.max", "echo 50 > /sys/fs/cgroup/box/pids.max",
            ]
            : [
                "mkdir /sys/fs/cgroup/cpu/box /sys/fs/cgroup/memory/box /sys/fs/cgroup/pids/box",
                "echo 50000 > /sys/fs/cgroup/cpu/box/cpu.cfs_quota_us", "echo 64M > /sys/fs/cgroup/memory/box/memory.limit_in_bytes",
                "echo 50 > /sys/fs/cgroup/pids/box/pids.max",
            ]
        let network = [
            "ip netns add box", "ip link add veth-box type veth peer name eth0 netns box", "ip link set veth-box up",
            "ip addr add 172.16.2.1/24 dev veth-box", "ip -n box link set lo up", "ip -n box link set eth0 up",
            "ip -n box addr add 172.16.2.2/24 dev eth0",
        ]
        let enter = v2 ? "echo $$ > /sys/fs/cgroup/box/cgroup.procs" : "for c in cpu memory pids; do echo $$ > /sys/fs/cgroup/$c/box/cgroup.procs; done"
        ways.append(
            Way(
                lesson: "capstone", name: "cp --parents, echo into the groups, ip -n, short unshare options",
                lines:
                    image + limits + network + [
                        "bash -c '\(enter); exec ip netns exec box unshare -uipmf chroot /root/box /usr/bin/bash -c \"mount -t proc proc /proc; hostname box; exec sleep 300\"' &"
                    ]))
        ways.append(
            Way(
                lesson: "capstone", name: "the network first, a start script inside the image",
                lines:
                    network + image + limits + [
                        "printf '%s\\n' 'mount -t proc proc /proc' 'hostname box' 'exec sleep 300' > ~/box/start",
                        "bash -c '\(enter); exec ip netns exec box unshare --uts --pid --mount --ipc --fork chroot /root/box /usr/bin/bash /start' &",
                    ]))
        ways.append(
            Way(
                lesson: "capstone", name: "wrong: started without --fork",
                lines:
                    image + limits + network + [
                        "bash -c '\(enter); exec ip netns exec box unshare -uipm chroot /root/box /usr/bin/bash -c \"mount -t proc proc /proc; hostname box; exec sleep 300\"' &"
                    ], failsAt: 4, message: ["sleep 300"]))
        return ways
    }

    @Test(arguments: ways)
    func completesOrFailsWhereItShould(_ way: Way) throws {
        let learner = try ShellCommandTests.Learner()
        try expectHostUnchanged {
            let result = try learner.gantry(
                ["shell", "--lessons", ShellCommandTests.lessons, way.lesson],
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
