import ArgumentParser
import Cgroups
import Lab
import Lessons

/// `--lessons DIR`, for the commands that work on the shipped course (shell, progress,
/// doctor). The default is the lessons layer's: `$GANTRY_LESSONS`, `./lessons`, or the ones
/// installed with gantry.
struct LessonDirectoryOption: ParsableArguments {
    @Option(
        name: .customLong("lessons"),
        help: ArgumentHelp("Where the lessons are (default: $GANTRY_LESSONS, ./lessons, or the ones installed with gantry).", valueName: "dir"))
    var given: String?

    var directory: String { given ?? LessonLocator.defaultDirectory() }

    /// The lessons there, and the files that did not parse.
    func load() -> (lessons: [Lesson], errors: [LessonError]) {
        LessonRunner.load(LessonRunner.lessonFiles([directory]))
    }
}

/// `[PATH…]`: lesson files or directories, for the commands that check lessons (test, lint,
/// lessons); none means the course's own directory, as `--lessons` would find it.
struct LessonPathsArgument: ParsableArguments {
    @Argument(help: ArgumentHelp("Lesson files or directories (default: the course's lessons, as --lessons finds them).", valueName: "path"))
    var given: [String] = []

    var paths: [String] { given.isEmpty ? [LessonLocator.defaultDirectory()] : given }
}

/// `--memory SIZE --pids N`: a lab's lab-wide limits, defaulting to the lab layer's.
struct LabLimitOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Lab-wide memory limit (default \(LabConfiguration.defaultLimits.memoryMax.map(ResourceLimits.formatBytes) ?? "none")).",
            valueName: "size"))
    var memory: String?
    @Option(
        help: ArgumentHelp(
            "Lab-wide limit on tasks (default \(LabConfiguration.defaultLimits.pidsMax.map(String.init) ?? "none")).",
            valueName: "n"))
    var pids: Int64?

    func validate() throws {
        if let memory, ResourceLimits.parseBytes(memory) == nil {
            throw ValidationError("--memory '\(memory)': expected a size like 512M or 1G")
        }
        if let pids, pids <= 0 { throw ValidationError("--pids \(pids): give a positive number") }
    }

    var limits: ResourceLimits {
        var limits = LabConfiguration.defaultLimits
        if let memory { limits.memoryMax = ResourceLimits.parseBytes(memory) }
        if let pids { limits.pidsMax = pids }
        return limits
    }
}
