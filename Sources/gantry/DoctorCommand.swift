import ArgumentParser
internal import Glibc
import Lab
import Lessons
import POSIXSupport

/// `gantry doctor`: what this host supports, and what to do about what it lacks.
struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check what this host supports for labs, and how to fix what is missing.",
        discussion: "Namespaces and overlayfs are tried for real in a throwaway sandbox. Exits 1 when no lab can be built here.")

    @OptionGroup var lessons: LessonDirectoryOption

    func run() throws {
        let support = HostSupport.detect(thorough: true)
        for finding in support.findings {
            let mark = finding.available ? "ok  " : "MISS"
            print("\(mark) \(finding.capability.padding(16)) \(finding.detail)")
            if !finding.available, let fix = finding.fix { print("     \("".padding(16)) fix: \(fix)") }
        }
        let canBuildLabs = support.canBuildLabs
        if !canBuildLabs {
            print("\nNo lab can be built on this host until the items above are fixed.")
        } else if support.has("cgroup") {
            print("\nLabs can be built on this host.")
        } else {
            print("\nLabs can be built on this host, without lab-wide limits (no cgroup of their own); cgroup lessons cannot run.")
        }
        let (found, _) = lessons.load()
        if found.isEmpty { print("No lessons found in \(lessons.directory)/.") }
        for lesson in found {
            let missing = lesson.requires.filter { !support.has($0) }
            print(
                missing.isEmpty
                    ? "lesson \(lesson.id): can run here"
                    : "lesson \(lesson.id): cannot run here, needs \(missing.joined(separator: ", "))")
        }
        if !canBuildLabs { throw ExitCode(1) }
    }
}
