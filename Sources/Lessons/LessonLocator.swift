internal import Glibc
internal import POSIXSupport

/// Where the lessons are when no `--lessons` is given: `$GANTRY_LESSONS`, `./lessons`, or
/// next to the executable (`share/gantry/lessons` of an installed prefix, or the `lessons/`
/// of the checkout a `.build/…/gantry` was built in).
public enum LessonLocator {
    public static func defaultDirectory() -> String {
        if let value = getenv("GANTRY_LESSONS"), value.pointee != 0 { return String(cString: value) }
        if hasLessons("lessons") { return "lessons" }
        guard var directory = POSIX.readLink("/proc/self/exe") else { return "lessons" }
        for _ in 0..<5 where directory != "/" {
            directory = POSIX.parentDirectory(of: directory)
            for candidate in [directory + "/share/gantry/lessons", directory + "/lessons"] where hasLessons(candidate) {
                return candidate
            }
        }
        return "lessons"
    }

    static func hasLessons(_ directory: String) -> Bool {
        POSIX.list(directory).contains { $0.hasSuffix(".md") && $0 != "README.md" }
    }
}
