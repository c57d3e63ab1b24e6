import ArgumentParser
import Glibc
import Grading
import Lab
import Lessons
import POSIXSupport

/// `gantry grade FILE|DIR…`: scores from transcripts, in the format a grader reads.
struct GradeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grade",
        abstract: "Grade recorded sessions: a score per transcript and per step, in the format your grader reads.",
        discussion: """
            Points come from each lesson (`points:` and `grading:` in its front matter; see lessons/README.md): \
            a step done earns its share, less its hint and :solve penalties. Without --verify the steps are \
            taken as recorded; with --verify each transcript is re-run in a fresh lab and a step counts only if \
            the re-run agrees. --shard I/N grades every N-th file of the sorted list (a stable slice, for CI \
            matrices and Kubernetes Indexed Jobs); --merge joins their --format json results into the report \
            one run would have made. Exit 1 when a file was not graded or a replay differed.
            """)

    @Argument(help: ArgumentHelp("Transcripts (.cast) or directories of them; with --merge, JSON results.", valueName: "path"))
    var paths: [String]
    @Flag(help: "Re-run each transcript in a fresh lab; a step counts only where the re-run agrees.")
    var verify = false
    @Option(help: ArgumentHelp("table, json, junit, tap, gradescope or csv.", valueName: "format"))
    var format = "table"
    @Option(name: .shortAndLong, help: ArgumentHelp("Write here instead of standard output.", valueName: "file"))
    var output: String?
    @Option(help: ArgumentHelp("Labs at once for --verify (default 1; bounded by memory and pids).", valueName: "n"))
    var jobs = 1
    @Option(help: ArgumentHelp("Grade slice I of N (1-based) of the sorted files.", valueName: "i/n"))
    var shard: String?
    @Flag(help: "The paths are JSON results of shards: join them.")
    var merge = false
    @OptionGroup var lessons: LessonDirectoryOption

    var gradeFormat: GradeFormat { GradeFormat(rawValue: format) ?? .table }

    func validate() throws {
        guard GradeFormat(rawValue: format) != nil else {
            throw ValidationError("no format '\(format)' (one of: \(GradeFormat.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        guard jobs >= 1 else { throw ValidationError("--jobs must be 1 or more") }
        if let shard, parsedShard(shard) == nil { throw ValidationError("--shard takes I/N with 1 ≤ I ≤ N, like 2/8") }
        if merge && (verify || shard != nil) { throw ValidationError("--merge joins results: --verify and --shard belong to the runs that made them") }
    }

    func parsedShard(_ text: String) -> (index: Int, count: Int)? {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]), count >= 1, (1...count).contains(index) else { return nil }
        return (index, count)
    }

    func run() throws {
        let report: GradeReport
        var failed = false
        if merge {
            do {
                let results = try paths.map { path throws -> GradeReport in
                    guard let text = POSIX.readFile(path) else { throw GradeError("\(path): cannot read: \(Errno.current.message)") }
                    return try GradeReport.decode(text, file: path)
                }
                report = try GradeReport.merged(results)
            } catch {
                printError("gantry grade: \(error)")
                throw ExitCode(1)
            }
        } else {
            (report, failed) = try grade()
        }
        let text = gradeFormat.write(report)
        try writeResult(text, to: output, command: "grade")
        for file in report.skipped { printError("gantry grade: not graded: \(file.file): \(file.reason)") }
        if failed || !report.skipped.isEmpty || report.transcripts.contains(where: { !$0.differences.isEmpty }) { throw ExitCode(1) }
    }

    func grade() throws -> (GradeReport, Bool) {
        let (all, missing) = Grader.transcriptFiles(paths)
        for path in missing { printError("gantry grade: \(path): no such file or directory") }
        var files = all
        if let shard, let (index, count) = parsedShard(shard) { files = Grader.shard(files, index: index, count: count) }
        let (found, errors) = lessons.load()
        for error in errors { printError("gantry grade: \(error)") }
        var support: HostSupport?
        if verify {
            let detected = HostSupport.detect()
            guard detected.canBuildLabs else {
                printError("gantry grade: --verify needs labs, and none can be built here: `gantry doctor` says what is missing")
                throw ExitCode(1)
            }
            support = detected
        }
        let workers = verify ? min(jobs, Self.affordableLabs(), max(files.count, 1)) : 1
        if workers > 1 { return (try gradeInParallel(files, workers: workers), !missing.isEmpty) }
        let grader = Grader(lessons: found, verify: verify, support: support)
        let progress = ProgressBar(total: files.count)
        var graded: [TranscriptGrade] = []
        var skipped: [GradeReport.Skipped] = []
        for (index, file) in files.enumerated() {
            progress.show(index, file)
            switch grader.grade(file) {
            case .graded(let grade): graded.append(grade)
            case .skipped(let reason): skipped.append(reason)
            }
        }
        progress.finish()
        return (GradeReport(verified: verify, transcripts: graded, skipped: skipped), !missing.isEmpty)
    }

    /// Labs one machine can hold at once: a lab's shell and lesson commands take tens of
    /// MiB and up to its 512 tasks, so a quarter GiB of available memory each, and the
    /// kernel's pid limit, bound the number.
    static func affordableLabs() -> Int {
        let memory =
            POSIX.readFile("/proc/meminfo")?.split(separator: "\n").first { $0.hasPrefix("MemAvailable:") }
            .flatMap { $0.split(separator: " ").dropFirst().first.flatMap { Int($0) } } ?? 1 << 20
        let pids = POSIX.readFile("/proc/sys/kernel/pid_max").flatMap { Int($0.trimmed) } ?? 32768
        return max(1, min(memory / (256 << 10), pids / 1024))
    }

    /// `--jobs N` with `--verify`: N shards graded by N `gantry grade` processes (each its
    /// own labs), merged as `--merge` would.
    func gradeInParallel(_ files: [String], workers: Int) throws -> GradeReport {
        let directory = "/tmp/gantry-grade-\(getpid())"
        try? POSIX.makeDirectories(directory, mode: 0o700)
        defer {
            for name in POSIX.list(directory) { unlink(directory + "/" + name) }
            rmdir(directory)
        }
        var children: [(pid: pid_t, result: String)] = []
        for index in 1...workers {
            let result = "\(directory)/\(index).json"
            let arguments =
                ["grade", "--verify", "--format", "json", "-o", result, "--shard", "\(index)/\(workers)", "--lessons", lessons.directory] + files
            let pid = try Self.spawnSelf(arguments)
            children.append((pid, result))
        }
        var reports: [GradeReport] = []
        for child in children {
            var status: Int32 = 0
            while waitpid(child.pid, &status, 0) < 0 && errno == EINTR {}
            guard let text = POSIX.readFile(child.result) else {
                throw GradeError("a grading process (pid \(child.pid)) left no result: see the messages above")
            }
            reports.append(try GradeReport.decode(text, file: child.result))
        }
        return try GradeReport.merged(reports)
    }

    static func spawnSelf(_ arguments: [String]) throws -> pid_t {
        let executable = "/proc/self/exe"
        var pid: pid_t = 0
        let argv = (["gantry"] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let result = posix_spawn(&pid, executable, nil, nil, argv, environ)
        guard result == 0 else { throw GradeError("cannot start a grading process: \(Errno(result).message)") }
        return pid
    }
}

/// `grade 12/40 ▕█████     ▏ file` on a terminal's standard error; nothing when it is not one.
struct ProgressBar {
    let total: Int
    let visible: Bool

    init(total: Int) {
        self.total = total
        visible = isatty(STDERR_FILENO) == 1 && total > 1
    }

    func show(_ done: Int, _ file: String) {
        guard visible else { return }
        let width = 24, filled = total == 0 ? 0 : done * width / total
        let bar = String(repeating: "█", count: filled) + String(repeating: " ", count: width - filled)
        let name = file.count > 40 ? "…" + file.suffix(39) : file
        writeError("\r\u{1b}[2Kgrade \(done)/\(total) ▕\(bar)▏ \(name)")
    }

    func finish() {
        guard visible else { return }
        writeError("\r\u{1b}[2K")
    }
}
