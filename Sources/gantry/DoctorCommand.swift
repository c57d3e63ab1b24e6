import ArgumentParser
import Lab
internal import Glibc

/// `gantry doctor`: what this host supports, and what to do about what it lacks.
struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check what this host supports for labs, and how to fix what is missing.",
        discussion: "Namespaces and overlayfs are tried for real in a throwaway sandbox. Exits 1 when no lab can be built here.")

    func run() throws {
        let support = HostSupport.detect()
        for finding in support.findings {
            let mark = finding.available ? "ok  " : "MISS"
            print("\(mark) \(finding.capability.padding(16)) \(finding.detail)")
            if !finding.available, let fix = finding.fix { print("     \("".padding(16)) fix: \(fix)") }
        }
        let canBuildLabs = support.canBuildLabs
        print(canBuildLabs ? "\nLabs can be built on this host." : "\nNo lab can be built on this host until the items above are fixed.")
        print("Lessons: none ship yet; each will say which of the capabilities above it requires.")
        if !canBuildLabs { throw ExitCode(1) }
    }
}

extension String {
    func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
