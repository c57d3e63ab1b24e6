internal import Isolation

/// How a lab's filesystem is assembled: the host's top-level directories, each as an overlay
/// (read-only lower, tmpfs upper) so the learner may write anywhere without touching the host,
/// and fresh filesystems where a machine has its own (/proc, /dev, /sys, /tmp, /run, /root,
/// /home).
///
/// Why one overlay per directory and not one over `/`: inside a user namespace the kernel
/// refuses an overlay whose lower layer has mounts below it ("failed to clone lowerpath"),
/// and `/` always has (/proc, /sys, /dev…). A top-level directory with mounts below it is
/// given an empty tmpfs instead.
struct LabFilesystem {
    enum Entry: Equatable {
        case directory(String)
        case symlink(String, to: String)
    }

    /// Where the pieces are put together before pivot_root, inside the lab's own mount
    /// namespace (a tmpfs mounted over /tmp there, invisible to the host).
    static let staging = "/tmp"
    static let root = staging + "/.gantry-lab/root"

    /// Where the lab keeps a second sysfs (see `fresh`).
    static let sysfsKeeper = "/run/gantry/sysfs"

    /// Directories every lab gets fresh, and what with, in the order they are made. (Bind
    /// sources are paths before the root change, hence `root +` for ones inside the lab.)
    static let freshOrder = ["proc", "dev", "run", "sys", "tmp", "root", "home"]

    static func fresh(_ name: String, cgroupView: [Mount]) -> [Mount]? {
        switch name {
        // Identity-mapped root passes the DAC checks of global sysctls, so the lab's /proc/sys
        // is read-only, except the network ones, which belong to the lab's own namespaces.
        case "proc": [.proc(at: "/proc"), .bind(source: root + "/proc/sys", at: "/proc/sys", readOnly: true, recursive: false),
                      .bind(source: root + "/proc/sys/net", at: "/proc/sys/net", readOnly: false, recursive: false),
                      .setReadOnly(at: "/proc/sys/net", readOnly: false)]
        case "dev": [.minimalDev(at: "/dev")]
        case "run": [.tmpfs(at: "/run", mode: 0o755), .directory(at: "/run/lock", mode: 0o1777)]
        // `ip netns exec` unmounts /sys and mounts a new sysfs read-write. Inside a user
        // namespace the kernel allows that only while another sysfs stays mounted whose
        // superblock is not read-only ("mnt_too_revealing"). So the lab's sysfs superblock is
        // read-write, kept at /run/gantry/sysfs, and both it and /sys are read-only mounts
        // of it: host-global attributes stay out of reach of identity-mapped root here.
        case "sys": [.sysfs(at: sysfsKeeper, readOnly: false),
                     .bind(source: root + sysfsKeeper, at: sysfsKeeper, readOnly: true, recursive: false),
                     .bind(source: root + sysfsKeeper, at: "/sys", readOnly: true, recursive: false)] + cgroupView
        case "tmp": [.tmpfs(at: "/tmp", mode: 0o1777)]
        case "root": [.tmpfs(at: "/root", mode: 0o700)]
        case "home": [.tmpfs(at: "/home", mode: 0o755)]
        default: nil
        }
    }

    /// The staging mounts (at host paths inside the lab's mount namespace) and the mounts
    /// inside the new root, for the host's top-level `entries`. `mountPoints` are the host's
    /// mount points; `overlay` false gives the fallback: read-only binds.
    static func plan(entries: [Entry], mountPoints: Set<String>, overlay: Bool,
                     cgroupView: [Mount]) -> (staging: [Mount], mounts: [Mount]) {
        var stagingMounts: [Mount] = [.tmpfs(at: staging, mode: 0o755), .directory(at: root)]
        var mounts: [Mount] = []
        for entry in entries {
            switch entry {
            case .symlink(let name, let destination):
                stagingMounts.append(.symlink(to: destination, at: root + "/" + name))
            case .directory(let name):
                if fresh(name, cgroupView: cgroupView) != nil { continue }
                let hostPath = "/" + name
                let hasMountsBelow = mountPoints.contains { $0.hasPrefix(hostPath + "/") }
                if hasMountsBelow {
                    mounts.append(.tmpfs(at: hostPath, mode: 0o755))
                } else if overlay {
                    let upper = staging + "/.gantry-lab/upper/" + name, work = staging + "/.gantry-lab/work/" + name
                    stagingMounts += [.directory(at: upper), .directory(at: work),
                                .overlay(lower: [hostPath], upper: upper, work: work, at: root + hostPath)]
                } else {
                    mounts.append(.bind(source: hostPath, at: hostPath, readOnly: true, recursive: true))
                }
            }
        }
        // A machine has these even where the host lacks one; /run before /sys, whose keeper
        // lives in /run.
        for name in freshOrder { mounts += fresh(name, cgroupView: cgroupView) ?? [] }
        return (stagingMounts, mounts)
    }
}
