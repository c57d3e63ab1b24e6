import ArgumentParser
internal import Glibc

/// The `gantry` command: container-internals lessons in disposable labs, and the isolation
/// engine underneath them. Subcommands live one per file.
@main
struct Gantry: ParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "gantry",
        abstract: "Runnable, self-checking labs for learning how containers work.",
        discussion: """
            `gantry` alone opens the shell (the REPL) on the lesson you worked on last. \
            Every command a learner types runs in a disposable lab that Gantry builds from \
            kernel namespaces, cgroups and netlink. `gantry exec` is the engine on its own: \
            one command in fresh namespaces, like unshare(1) or bwrap(1).
            """,
        version: version,
        subcommands: [
            ShellCommand.self, ProgressCommand.self, ResetCommand.self, PlayCommand.self, ReplayCommand.self, GradeCommand.self, ExportCommand.self,
            TranscriptsCommand.self,
            LabCommand.self, TestCommand.self,
            LintCommand.self, LessonsCommand.self,
            DoctorCommand.self, CleanupCommand.self, Exec.self,
        ],
        defaultSubcommand: ShellCommand.self
    )

    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        // The start-up paths that are measured against /bin/true and bwrap skip
        // ArgumentParser's first parse (see ExecRequest+QuickParsing.swift).
        if arguments == ["--version"] {
            print(version)
            return
        }
        if arguments == ["lab"] {
            Glibc.exit(LabCommand.open(LabCommand.plainConfiguration, command: nil))
        }
        if let request = ShellCommand.Request(quickParsing: arguments) {
            do { Glibc.exit(try ShellCommand.open(request)) } catch { ShellCommand.exit(withError: error) }
        }
        if arguments.first == "exec", let request = ExecRequest(quickParsing: arguments.dropFirst()),
            let prepared = try? request.prepared()
        {
            Glibc.exit(request.run(prepared))
        }
        main(RepeatedOptions.lift(arguments))
    }
}
