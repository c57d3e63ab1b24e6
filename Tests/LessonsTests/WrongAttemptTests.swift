import Foundation
import Lab
import TestSupport
import Testing

@testable import Lessons

/// The shipped lessons pass as written, and a deliberately wrong attempt at each fails the
/// step with a message that points at the mistake. The wrong attempts are edits of the
/// shipped files, so they follow the lessons as those change.
@Suite(.serialized, requiresRoot) struct WrongAttemptTests {
    static var lessonsDirectory: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("lessons").path
    }

    func lesson(_ id: String, replacing edits: [(String, String)] = []) throws -> Lesson {
        var text = try String(contentsOfFile: Self.lessonsDirectory + "/\(id).md", encoding: .utf8)
        for (old, new) in edits {
            #expect(text.contains(old), "the lesson no longer has '\(old)'; update this test")
            text = text.replacingOccurrences(of: old, with: new)
        }
        return try LessonParser.parse(text, file: "\(id).md")
    }

    func failures(_ lesson: Lesson) -> [String] {
        let result = LessonRunner(support: HostSupport.detect()).run(lesson)
        return result.steps.flatMap { step in step.failures.map { "[\(step.id)] \($0.message)" } }
    }

    @Test func everyShippedLessonPasses() throws {
        expectHostUnchanged {
            let files = LessonRunner.lessonFiles([Self.lessonsDirectory])
            let (lessons, errors) = LessonRunner.load(files)
            #expect(errors.isEmpty, "\(errors)")
            #expect(lessons.count >= 4)
            let runner = LessonRunner(support: HostSupport.detect())
            for lesson in lessons {
                let result = runner.run(lesson)
                #expect(result.outcome == .passed, "\(lesson.id): \(result.steps.flatMap(\.failures).map(\.message))")
            }
        }
    }

    @Test func utsWithoutUnshareChangesTheLabAndIsCaught() throws {
        try expectHostUnchanged {
            // `unshare -u` forgotten: the lab's own hostname changes.
            let wrong = try lesson("uts", replacing: [("$ unshare -u /bin/bash\n", "")])
            let messages = failures(wrong)
            #expect(messages.contains { $0.contains("no process has a UTS namespace of its own: start a shell with `unshare -u`") }, "\(messages)")
            #expect(messages.contains { $0.contains("the lab's hostname is 'con01', expected 'dockeredu'") }, "\(messages)")
        }
    }

    @Test func netnsWithAnAddressOutsideTheNetworkIsCaught() throws {
        try expectHostUnchanged {
            // (172.16.0.2/16 would be fine: it is in 172.16.0.0/24, and both ends reach each other.)
            let wrong = try lesson("netns-veth", replacing: [("add 172.16.0.2/24 dev veth1", "add 10.0.0.2/24 dev veth1")])
            let messages = failures(wrong)
            #expect(messages.contains { $0.contains("10.0.0.2/24") && $0.contains("none in 172.16.0.0/24") }, "\(messages)")
        }
    }

    @Test func netnsWithTheLinkLeftDownIsCaught() throws {
        try expectHostUnchanged {
            let wrong = try lesson("netns-veth", replacing: [("$ ip netns exec testnet ip link set veth1 up\n", "")])
            let messages = failures(wrong)
            #expect(messages.contains { $0.contains("veth1 in network namespace testnet: it is down") && $0.contains("link set veth1 up") }, "\(messages)")
            #expect(messages.contains { $0.contains("ping") && $0.contains("0 received") }, "\(messages)")
        }
    }

    @Test func cgroupQuotaOf200000IsCaught() throws {
        try expectHostUnchanged {
            let wrong = try lesson(
                "cgroup-cpu",
                replacing: [
                    (
                        "cgset -r cpu.cfs_quota_us=50000 limit_cpu_50\n$ cat /sys/fs/cgroup/cpu/limit_cpu_50/cpu.cfs_quota_us\n50000",
                        "cgset -r cpu.cfs_quota_us=200000 limit_cpu_50\n$ cat /sys/fs/cgroup/cpu/limit_cpu_50/cpu.cfs_quota_us\n200000"
                    ),
                    (
                        "echo \"50000 100000\" > /sys/fs/cgroup/limit_cpu_50/cpu.max\n$ cat /sys/fs/cgroup/limit_cpu_50/cpu.max\n50000 100000",
                        "echo \"200000 100000\" > /sys/fs/cgroup/limit_cpu_50/cpu.max\n$ cat /sys/fs/cgroup/limit_cpu_50/cpu.max\n200000 100000"
                    ),
                ])
            let messages = failures(wrong)
            #expect(messages.contains { $0.contains("allows 200% of a CPU") && $0.contains("expected 50%") }, "\(messages)")
        }
    }

    @Test func chrootWithoutItsLibrariesIsCaught() throws {
        try expectHostUnchanged {
            let wrong = try lesson(
                "chroot",
                replacing: [
                    (
                        "$ for lib in $(ldd /bin/bash /bin/ls /bin/date | grep -o '/[^ ]*' | grep -v ':$' | sort -u); do mkdir -p ~/newroot$(dirname $lib); cp $lib ~/newroot$lib; done\n",
                        ""
                    )
                ])
            let messages = failures(wrong)
            #expect(messages.contains { $0.contains("chroot /root/newroot /bin/bash") && $0.contains("No such file or directory") }, "\(messages)")
            #expect(messages.contains { $0.contains("`chroot ~/newroot`") }, "entering the root fails too: \(messages)")
        }
    }

    @Test func namespacesWithTheWrongFlagIsCaught() throws {
        try expectHostUnchanged {
            let messages = failures(try lesson("namespaces", replacing: [("$ unshare -u sleep 300 &", "$ unshare -n sleep 300 &")]))
            #expect(messages.contains { $0.contains("is still in the lab's uts namespace") }, "\(messages)")
        }
    }

    @Test func pidWithoutForkIsCaught() throws {
        try expectHostUnchanged {
            let messages = failures(
                try lesson("pid", replacing: [("$ unshare --pid --fork --mount-proc sleep 300 &", "$ unshare --pid --mount-proc sleep 300 &")]))
            #expect(!messages.isEmpty, "without --fork, sleep is not pid 1 of a pid namespace of its own")
        }
    }

    @Test func mountWithoutAMountNamespaceIsCaught() throws {
        try expectHostUnchanged {
            let messages = failures(try lesson("mount", replacing: [("$ unshare -m bash\n", "$ bash\n")]))
            #expect(
                messages.contains { $0.contains("check `file path=/srv/scratch/only-here exists=no` failed: /srv/scratch/only-here exists") }, "\(messages)")
        }
    }

    @Test func ipcWithoutAnIPCNamespaceIsCaught() throws {
        try expectHostUnchanged {
            let messages = failures(try lesson("ipc", replacing: [("$ unshare -i bash -c", "$ bash -c")]))
            #expect(messages.contains { $0.contains("printed something else") }, "\(messages)")
        }
    }

    @Test func userWithoutAUserNamespaceIsCaught() throws {
        try expectHostUnchanged {
            let messages = failures(try lesson("user", replacing: [("$ unshare -U --map-root-user sleep 300 &", "$ sleep 300 &")]))
            #expect(messages.contains { $0.contains("is still in the lab's user namespace") }, "\(messages)")
        }
    }

    @Test func bridgeWithAPortLeftOutIsCaught() throws {
        try expectHostUnchanged {
            let messages = failures(try lesson("bridge", replacing: [("$ ip link set veth-blue master br0\n", "")]))
            #expect(messages.contains { $0.contains("veth-blue") && $0.contains("plugged into nothing: `ip link set veth-blue master br0`") }, "\(messages)")
        }
    }

    @Test func memoryHogOutsideTheGroupIsCaught() throws {
        try expectHostUnchanged {
            let messages = failures(
                try lesson(
                    "cgroup-memory",
                    replacing: [
                        (
                            "$ head -c 64M /dev/zero | cgexec -g memory:limit_mem_32m tail; echo $?",
                            "$ sh -c 'head -c 16M /dev/zero | tail >/dev/null'; echo $?"
                        ),
                        (
                            "$ head -c 64M /dev/zero | sh -c 'echo $$ > /sys/fs/cgroup/limit_mem_32m/cgroup.procs; exec tail'; echo $?",
                            "$ sh -c 'head -c 16M /dev/zero | tail >/dev/null'; echo $?"
                        ),
                    ]))
            #expect(messages.contains { $0.contains("the OOM killer struck 0 time(s) in limit_mem_32m") }, "\(messages)")
        }
    }

    @Test func forkBombOutsideTheGroupIsCaught() throws {
        try expectHostUnchanged {
            let messages = failures(
                try lesson(
                    "cgroup-pids",
                    replacing: [
                        ("$ cgexec -g pids:limit_pids_20 timeout 2 bash -c", "$ timeout 2 bash -c"),
                        ("bash -c 'echo $$ > /sys/fs/cgroup/limit_pids_20/cgroup.procs; bomb()", "bash -c 'bomb()"),
                    ]))
            #expect(messages.contains { $0.contains("pids.events") }, "the group refused no forks: \(messages)")
        }
    }

    @Test func aContainerOutsideItsCgroupIsCaught() throws {
        try expectHostUnchanged {
            let messages = failures(
                try lesson(
                    "capstone",
                    replacing: [
                        ("$ cgexec -g cpu,memory,pids:box ip netns exec box", "$ ip netns exec box"),
                        ("$ bash -c 'echo $$ > /sys/fs/cgroup/box/cgroup.procs; exec ip netns exec box", "$ bash -c 'exec ip netns exec box"),
                    ]))
            #expect(messages.contains { $0.contains("(sleep 300) is not in box") }, "\(messages)")
        }
    }

    @Test func aMemoryLimitOfTheWrongSizeIsCaught() throws {
        try expectHostUnchanged {
            let messages = failures(
                try lesson(
                    "cgroup-memory",
                    replacing: [
                        ("memory.limit_in_bytes=32M", "memory.limit_in_bytes=64M"), ("echo 32M >", "echo 64M >"),
                    ]))
            #expect(messages.contains { $0.contains("memory limit is 64 MiB, expected 32M") }, "\(messages)")
        }
    }

    @Test func oneStepAloneStartsFromTheStepsBeforeIt() throws {
        try expectHostUnchanged {
            // Step 4 of netns-veth needs steps 1-3 (the namespace, lo, the cable): with no
            // setup block, they are replayed first.
            let result = LessonRunner(support: HostSupport.detect()).run(try lesson("netns-veth"), onlyStep: 4)
            #expect(result.outcome == .passed, "\(result.steps.flatMap(\.failures).map(\.message))")
            #expect(result.steps.map(\.id) == ["address"])
        }
    }
}
