internal import Glibc
internal import POSIXSupport

/// The host ids a lab's ids 0–65535 map to: never the host's root, and never another running
/// lab's. As root, one block of 65,536 per concurrent lab, taken from the `gantry` entries of
/// /etc/subuid and /etc/subgid when the administrator gave some (the convention `useradd`,
/// podman and lxc follow), else from the range systemd keeps for containers (0x80000 to
/// 0x6FFFFFFF, which systemd-nspawn's `--private-users=pick` draws from), skipping any block
/// /etc/subuid or /etc/subgid already gives to someone.
///
/// A block is held by an exclusive flock on `<directory>/ids/<base>.lock` for the lab's life:
/// the kernel drops it when the owner dies however it dies, so a block is never lost and
/// never shared.
public final class LabIDRange: Sendable {
    /// The first host id: the lab's root.
    public let base: UInt32
    public static let count: UInt32 = 65_536
    private let lock: Int32
    private let lockPath: String

    private init(base: UInt32, lock: Int32, lockPath: String) {
        self.base = base
        self.lock = lock
        self.lockPath = lockPath
    }

    deinit {
        // Unlinked while still locked, so a newcomer either sees the file gone or fails to
        // lock it: never a second holder of a file that is being removed (see take()).
        unlink(lockPath)
        close(lock)
    }

    /// systemd's container range, in whole blocks.
    static let containerRange: ClosedRange<UInt32> = 0x80000...0x6FFF_0000

    /// Takes a free block; throws when every candidate is held.
    static func allocate(directory: String) throws(LabError) -> LabIDRange {
        let locks = directory + "/ids"
        for path in [directory, locks] {
            do { try POSIX.call { mkdir(path, 0o700) } } catch { if error != .exists { throw .system("mkdir \(path)", error) } }
        }
        for base in candidates() {
            if let range = take(base, in: locks) { return range }
        }
        throw .gone(
            "no free block of \(count) host ids for a lab: every candidate is in use (stop a lab, or give user 'gantry' more ranges in /etc/subuid and /etc/subgid)"
        )
    }

    /// Blocks to try, in order: the administrator's, else the container range from a random
    /// start (so concurrent Gantrys rarely contend for the same lock).
    static func candidates(subuid: String? = POSIX.readFile("/etc/subuid"), subgid: String? = POSIX.readFile("/etc/subgid")) -> [UInt32] {
        let uids = SubordinateIDs.parse(subuid ?? ""), gids = SubordinateIDs.parse(subgid ?? "")
        let given = uids.ranges(of: "gantry").filter { range in
            range.count >= Int(count) && gids.ranges(of: "gantry").contains { $0 == range }
        }
        if !given.isEmpty {
            return given.flatMap { range in
                stride(from: range.lowerBound, to: range.upperBound - (count - 1), by: Int(count)).map { $0 }
            }
        }
        let taken = uids.all + gids.all
        let blocks = Int((containerRange.upperBound - containerRange.lowerBound) / count)
        let start = Int.random(in: 0..<blocks)
        return (0..<min(blocks, 4096)).compactMap { offset in
            let base = containerRange.lowerBound + UInt32((start + offset) % blocks) * count
            let block = base..<(base + count)
            return taken.contains { $0.overlaps(block) } ? nil : base
        }
    }

    private static func take(_ base: UInt32, in locks: String) -> LabIDRange? {
        let path = "\(locks)/\(base).lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return nil }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            return nil
        }
        // The file may have been unlinked by its last holder between our open and our lock:
        // then the lock is on a file nobody else will ever look at. Only the file at the
        // path counts.
        var held = stat(), current = stat()
        guard fstat(fd, &held) == 0, stat(path, &current) == 0, held.st_ino == current.st_ino, held.st_dev == current.st_dev else {
            close(fd)
            return nil
        }
        return LabIDRange(base: base, lock: fd, lockPath: path)
    }
}

/// /etc/subuid or /etc/subgid: `name:first:count` lines (`useradd`'s format).
struct SubordinateIDs {
    var entries: [(name: String, range: Range<UInt32>)]

    static func parse(_ text: String) -> SubordinateIDs {
        var entries: [(String, Range<UInt32>)] = []
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count == 3, let first = UInt32(fields[1]), let count = UInt32(fields[2]), count > 0,
                first <= UInt32.max - count
            else { continue }
            entries.append((String(fields[0]), first..<(first + count)))
        }
        return SubordinateIDs(entries: entries)
    }

    func ranges(of name: String) -> [Range<UInt32>] { entries.filter { $0.name == name }.map(\.range) }
    var all: [Range<UInt32>] { entries.map(\.range) }
}
