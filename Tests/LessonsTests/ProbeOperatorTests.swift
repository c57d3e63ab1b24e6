import Cgroups
import Foundation
import Isolation
import Lab
import TestSupport
import Testing

@testable import Lessons

/// Every key and operator lint accepts is evaluated, and can fail: each probe, against one
/// lab in a known state, with a check that holds and one that does not for each.
@Suite(.serialized, requiresRoot) struct ProbeOperatorTests {
    static let cases: [(String, Bool)] = [
        ("hostname is=gantry", true), ("hostname is=other", false), ("hostname is!=gantry", false), ("hostname is!=other", true),
        ("hostname is~=^gan", true), ("hostname is!~=^gan", false),
        ("hostname process=\"sleep 300\" namespace=own is=gantry", true), ("hostname process=\"sleep 300\" namespace=own is=x", false),
        ("hostname process=bash namespace=own is=gantry", false),
        ("namespace process=\"sleep 300\" kind=uts own=yes", true), ("namespace process=\"sleep 300\" kind=uts own=no", false),
        ("namespace process=\"sleep 300\" kind=net own=yes", false), ("namespace process=\"sleep 300\" kind=uts own!=no", true),
        ("namespace process=\"sleep 300\" kind=net same-as=\"sleep 301\"", true), ("namespace process=\"sleep 300\" kind=uts same-as=\"sleep 301\"", false),
        ("process command=\"sleep 300\"", true), ("process command=\"sleep 300\" exists=no", false),
        ("process command=nosuch exists=no", true), ("process command=nosuch", false),
        ("process command=\"sleep 300\" own=uts", true), ("process command=\"sleep 300\" own=net", false),
        ("process command=\"sleep 300\" pid1=no", true), ("process command=\"sleep 300\" pid1=yes", false),
        ("process command=\"sleep 300\" capability=cap_sys_admin", true), ("process command=\"sleep 300\" capability!=cap_sys_admin", false),
        ("process command=\"sleep 300\" bounding=cap_sys_module", true), ("process command=\"sleep 300\" bounding!=cap_sys_module", false),
        ("process command=\"sleep 300\" root=/", true), ("process command=\"sleep 300\" root=/root", false),
        ("process command=\"sleep 300\" root!=/root", true),
        ("process command=\"sleep 300\" measured-cpu<=0.2 over=300", true), ("process command=\"sleep 300\" measured-cpu>=0.5 over=300", false),
        ("file path=/root/f exists=yes", true), ("file path=/root/f exists=no", false), ("file path=/root/nosuch exists=no", true),
        ("file path=/root/f contains=hello", true), ("file path=/root/f contains=bye", false), ("file path=/root/f contains!=hello", false),
        ("file path=/root/f contains~=^hel", true), ("file path=/root/f contains!~=^hel", false),
        ("file path=/root/f type=file", true), ("file path=/root/f type=directory", false), ("file path=/root/f type!=file", false),
        ("file path=/root/link type=symlink", true), ("file path=/root/link contains=hello", true),
        ("mount path=/srv/m type=tmpfs", true), ("mount path=/srv/m type=proc", false), ("mount path=/srv/m type!=tmpfs", false),
        ("mount path=/srv/m options=rw", true), ("mount path=/srv/m options=ro", false), ("mount path=/srv/m options!=rw", false),
        ("mount path=/srv/m options~=size=1024k", true), ("mount path=/srv/m options!~=size", false),
        ("mount path=/srv/m count=1", true), ("mount path=/srv/m count=2", false), ("mount path=/srv/m exists=no", false),
        ("mount path=/srv/covered type=tmpfs", false), ("mount path=/srv/covered type=proc", true), ("mount path=/srv/covered count=2", true),
        ("netns name=testnet", true), ("netns name=other", false), ("netns name=testnet exists=no", false),
        ("link name=veth0 state=up", true), ("link name=veth0 state=down", false), ("link name=veth0 state!=up", false),
        ("link name=veth0 kind=veth", true), ("link name=veth0 kind!=veth", false), ("link name=veth0 kind=bridge", false),
        ("link name=veth0 address=172.16.0.1/24", true), ("link name=veth0 address=172.16.0.9/24", false),
        ("link name=veth0 address!=172.16.0.1/24", false), ("link name=veth0 address!=172.16.0.9/24", true),
        ("link name=veth0 network=172.16.0.0/24", true), ("link name=veth0 network=10.0.0.0/8", false),
        ("link name=veth0 peer-netns=other", true), ("link name=veth0 peer-netns=same", false),
        ("link name=veth0 mtu=1500", true), ("link name=veth0 mtu>1500", false),
        ("link name=veth0 master=none", true), ("link name=veth0 master=br0", false), ("link name=veth0 master!=none", false),
        ("link netns=testnet name=veth1 state=down", true), ("link netns=testnet name=veth1 state=up", false),
        ("link name=nosuch exists=no", true), ("link name=veth0 exists=no", false), ("link netns=nosuch name=lo", false),
        ("ping to=172.16.0.1", true), ("ping to=172.16.0.1 reachable=no", false), ("ping to=lab/veth0", true),
        ("ping from=testnet to=172.16.0.1", false), ("ping from=testnet to=172.16.0.1 reachable=no", true),
        ("cgroup name=limit_x", true), ("cgroup name=limit_x exists=no", false), ("cgroup name=nosuch exists=no", true),
        ("cgroup name=limit_x cpu=0.5", true), ("cgroup name=limit_x cpu=1", false), ("cgroup name=limit_x cpu<=0.5", true),
        ("cgroup name=limit_x cpu<0.5", false), ("cgroup name=limit_x cpu!=0.5", false), ("cgroup name=limit_x cpu>0.4", true),
        ("cgroup name=limit_x memory-max=32M", true), ("cgroup name=limit_x memory-max>32M", false), ("cgroup name=limit_x memory-max!=32M", false),
        ("cgroup name=limit_x pids-max=20", true), ("cgroup name=limit_x pids-max>=21", false),
        ("cgroup name=limit_x members=0", true), ("cgroup name=limit_x members>0", false),
        ("cgroup name=limit_x member=\"sleep 300\"", false),
        ("cgroup name=limit_x oom-kills=0", true), ("cgroup name=limit_x oom-kills>=1", false),
        ("cgroup name=limit_x pids-current=0", true), ("cgroup name=limit_x pids-current>0", false),
        ("cgroup name=limit_x measured-cpu<=0.05 over=300", true), ("cgroup name=limit_x measured-cpu>=0.5 over=300", false),
        ("command run=\"echo hi\" output=hi", true), ("command run=\"echo hi\" output=ho", false), ("command run=\"echo hi\" output!=hi", false),
        ("command run=\"echo hi\" output~=^h", true), ("command run=\"echo hi\" output!~=^h", false),
        ("command run=\"echo hi\" status=0", true), ("command run=\"echo hi\" status!=0", false), ("command run=\"false\" status>0", true),
        ("seen output=hello", true), ("seen output=bye", false), ("seen output~=^hel", true), ("seen output~=^bye", false),
    ]

    @Test func eachKeyAndOperatorHoldsAndFails() throws {
        try expectHostUnchanged {
            let lab = try Lab.create()
            defer { lab.destroy() }
            let v1 = lab.cgroup?.driver.layout.mode != .unified
            let cgroupSetup =
                v1
                ? "cgcreate -g cpu,memory,pids:limit_x && cgset -r cpu.cfs_quota_us=50000 -r memory.limit_in_bytes=32M -r pids.max=20 limit_x"
                : "mkdir /sys/fs/cgroup/limit_x && echo '50000 100000' > /sys/fs/cgroup/limit_x/cpu.max && echo 32M > /sys/fs/cgroup/limit_x/memory.max && echo 20 > /sys/fs/cgroup/limit_x/pids.max"
            let setup = try lab.run(
                """
                set -e
                ip netns add testnet
                ip link add veth0 type veth peer name veth1 netns testnet
                ip link set veth0 up
                ip address add 172.16.0.1/24 dev veth0
                echo hello > /root/f; ln -s /root/f /root/link
                mkdir -p /srv/m /srv/covered && mount -t tmpfs -o size=1m t /srv/m
                mount -t tmpfs u /srv/covered && mount -t proc p /srv/covered
                (unshare -u sleep 300 >/dev/null 2>&1 &)
                (sleep 301 >/dev/null 2>&1 &)
                \(cgroupSetup)
                sleep 0.2
                """)
            #expect(setup.status == .exited(0), "\(setup.output)")
            let context = { ProbeContext(lab: lab, outputs: ["hello world\n", "hello\n"], thorough: true) }
            for (line, expected) in Self.cases {
                let check = try CheckParser.parseLine(line, line: 1, file: "probe-cases")
                let outcome = check.probe.evaluate(context())
                #expect(outcome.passed == expected, "\(line): \(outcome.seen.en)")
            }
        }
    }
}
