import Foundation
import Glibc
import Isolation
import Synchronization
import TestSupport
import Testing

@testable import Cgroups

/// Limits enforced by the real kernel on this host (cgroup v1 controllers here; the same
/// cases run on a cgroup v2 kernel under `scripts/vm-test`). Each leaves no group behind.
@Suite(.serialized, requiresRoot) struct RealCgroupTests {
    @Test func aBusyLoopUnderHalfACPUGetsAtMostHalf() throws {
        try expectHostUnchanged {
            let (group, process) = try spawnInGroup("cpu", ResourceLimits(cpu: .cpus(0.5)), ["/bin/sh", "-c", "while :; do :; done"])
            defer { try? group.remove() }
            // Measure over a window of at least a second: a ratio, not a deadline.
            let start = try group.stats().cpuUsageMicroseconds ?? 0
            let began = monotonicMicroseconds()
            usleep(1_200_000)
            let used = (try group.stats().cpuUsageMicroseconds ?? 0) - start
            let elapsed = monotonicMicroseconds() - began
            let share = Double(used) / Double(elapsed)
            #expect(share <= 0.55, "used \(share) of a CPU under a 0.5 limit")
            #expect(share > 0.05, "the loop must have run at all (\(share))")
            #expect((try group.stats().throttledPeriods ?? 0) > 0, "the kernel throttled it")
            try group.remove()
            _ = try process.wait()
        }
    }

    @Test func allocatingTwiceTheMemoryLimitIsOOMKilled() throws {
        try expectHostUnchanged {
            let (group, process) = try spawnInGroup(
                "memory", ResourceLimits(memoryMax: 32 << 20),
                ["/bin/sh", "-c", "head -c 64M /dev/zero | tail"])
            defer { try? group.remove() }
            let status = try process.wait()
            #expect(status.shellCode == 137, "tail was SIGKILLed by the OOM killer: \(status)")
            #expect((try group.stats().oomKills ?? 0) >= 1)
            #expect((try group.stats().memoryPeak ?? 0) <= 33 << 20)
        }
    }

    @Test func forksBeyondThePidsLimitFail() throws {
        try expectHostUnchanged {
            let (read, write) = try makePipe()
            let manager = try CgroupManager.host()
            let group = try manager.create("gantry/test-pids-\(getpid())", limits: ResourceLimits(pidsMax: 20))
            defer { try? group.remove() }
            let entry = try group.entryFiles()
            let process = try Sandbox.spawn(
                SandboxSpec(command: ["/bin/sh", "-c", "for i in $(seq 40); do sleep 300 & done; wait"]),
                io: .descriptors(input: nil, output: write, error: write), cgroup: entry.placement)
            close(write)
            _ = try process.wait()  // the shell gives up at the first failed fork
            let current = try group.stats().pidsCurrent ?? 99
            #expect(current <= 20 && current > 0, "pids.current = \(current)")
            // Only now: the sleeps that did start hold the pipe open until they are killed.
            try group.remove()
            let output = readAll(read)
            #expect(output.contains("fork"), "got: \(output)")
            #expect(group.directories.allSatisfy { access($0, F_OK) != 0 })
        }
    }

    @Test func nestedGroupsAWorkloadMadeAreRemovedWithIt() throws {
        try expectHostUnchanged {
            let (group, process) = try spawnInGroup("nested", ResourceLimits(pidsMax: 100), ["/bin/sleep", "300"])
            // What `cgcreate -g cpu:limit_cpu_50/inner` plus a classified process look like.
            // (In the hierarchies a workload may write; on v1 the group also sits in others.)
            let writable = group.driver.delegableDirectories(of: group.path)
            for directory in writable { mkdir(directory + "/limit_cpu_50", 0o755); mkdir(directory + "/limit_cpu_50/inner", 0o755) }
            let helper = try Sandbox.spawn(SandboxSpec(command: ["/bin/sleep", "300"]))
            for directory in writable {
                try KernelCgroupFileSystem().write(directory + "/limit_cpu_50/inner/cgroup.procs", String(helper.pid))
            }
            try group.remove()
            #expect(try process.wait() == .signaled(SIGKILL))
            #expect(try helper.wait() == .signaled(SIGKILL))
            #expect(group.directories.allSatisfy { access($0, F_OK) != 0 })
        }
    }

    /// Every hierarchy the group is in (on v1 each controller's, the named ones and hybrid's
    /// cgroup2 tree) lists the child, which got there by itself or by being born there.
    @Test func aChildJoinsItsGroupInEveryHierarchyBeforeItRuns() throws {
        try expectHostUnchanged {
            let (group, process) = try spawnInGroup("entry", ResourceLimits(pidsMax: 10), ["/bin/sleep", "300"])
            defer { try? group.remove() }
            let lines = try String(contentsOfFile: "/proc/\(process.pid)/cgroup", encoding: .utf8).split(separator: "\n")
            #expect(lines.count == group.directories.count, "\(lines) vs \(group.directories)")
            for line in lines {
                #expect(line.hasSuffix(":/" + group.path), "\(line)")
            }
            for directory in group.directories {
                #expect(try group.driver.fileSystem.read(directory + "/cgroup.procs").contains(String(process.pid)), "\(directory)")
            }
            try group.remove()
            #expect(try process.wait() == .signaled(SIGKILL))
        }
    }

    /// Two sessions at once (`gantry grade --jobs 2`) share the parent `gantry/`, which each
    /// removes when it leaves it empty: one may remove it between the other's mkdir of it and
    /// of its group inside. Seen once in a full run as a lab that could not be built.
    @Test func groupsMadeAndRemovedAtOnceBesideEachOtherAllSucceed() throws {
        try expectHostUnchanged {
            let manager = try CgroupManager.host()
            let failures = Mutex<[String]>([])
            let workers = (0..<2).map { worker in
                Thread {
                    for round in 0..<400 {
                        do {
                            let group = try manager.create("gantry/race-\(getpid())-\(worker)-\(round)", limits: ResourceLimits(pidsMax: 64))
                            try group.remove()
                        } catch {
                            failures.withLock { $0.append("\(error)") }
                        }
                    }
                }
            }
            for worker in workers { worker.start() }
            while workers.contains(where: { !$0.isFinished }) { usleep(1000) }
            #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0 }.prefix(3))")
        }
    }

    @Test func theHostLayoutIsDetected() throws {
        let layout = try CgroupManager.host().layout
        #expect(layout.version(of: "cpu") != nil, "\(layout)")
        #expect(layout.version(of: "memory") != nil, "\(layout)")
        #expect(layout.version(of: "pids") != nil, "\(layout)")
    }

    // MARK: Helpers

    /// A group under gantry/ with `limits` and a process born in it (CLONE_INTO_CGROUP on v2,
    /// moving itself through the `tasks` files on v1).
    func spawnInGroup(_ name: String, _ limits: ResourceLimits, _ command: [String]) throws -> (Cgroup, SandboxProcess) {
        let group = try CgroupManager.host().create("gantry/test-\(name)-\(getpid())", limits: limits)
        do {
            let entry = try group.entryFiles()
            let process = try Sandbox.spawn(
                SandboxSpec(command: command), io: .descriptors(input: nil, output: nil, error: nil), cgroup: entry.placement)
            return (group, process)
        } catch {
            try? group.remove()
            throw error
        }
    }
}

func monotonicMicroseconds() -> Int {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return now.tv_sec * 1_000_000 + now.tv_nsec / 1000
}
