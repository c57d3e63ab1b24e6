internal import Glibc
public import POSIXSupport

/// Reads and writes the progress file. Every write replaces the file atomically, so a crash
/// or a full disk leaves the previous version, never half of one. A file that cannot be
/// read is moved aside (never overwritten) and the learner is told where it went.
public struct ProgressStore: Sendable {
    public let file: String

    public init(file: String) { self.file = file }

    /// The progress file of the learner running Gantry (XDG data directory).
    public static func forLearner() -> ProgressStore { ProgressStore(file: ShellPaths.fromEnvironment().progressFile) }

    public struct Loaded: Sendable {
        public var progress: Progress
        /// Set when the file was unreadable: what was wrong and where the old file is now.
        public var notice: String?
        /// False when an unreadable file could not be moved aside: it must not be written over.
        public var canSave = true
    }

    public func load() -> Loaded {
        guard let text = POSIX.readFile(file) else { return Loaded(progress: Progress()) }
        do {
            return Loaded(progress: try ProgressFormat.decode(text, file: file))
        } catch {
            let aside = file + ".unreadable-\(time(nil))"
            let moved = Result { () throws(Errno) in try POSIX.call { rename(file, aside) } }
            return Loaded(
                progress: Progress(),
                notice: "\(error)\n"
                    + (moved.isSuccess
                        ? "The file was kept as \(aside); progress starts afresh. Repair it and move it back to resume."
                        : "It could not be moved aside (\(moved.failure?.message ?? "")); progress will not be saved over it."),
                canSave: moved.isSuccess)
        }
    }

    public func save(_ progress: Progress) throws(POSIX.WriteError) {
        let directory = POSIX.parentDirectory(of: file)
        do { try POSIX.makeDirectories(directory, mode: 0o700) } catch { throw POSIX.WriteError(path: directory, cause: error) }
        try POSIX.writeAtomically(file, ProgressFormat.encode(progress), mode: 0o600)
    }
}
