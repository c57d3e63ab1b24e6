import ArgumentParser
import Cgroups
internal import Glibc
import Isolation
import Lab
internal import Terminal

/// `gantry lab`: a plain shell in a fresh lab, no lesson.
struct LabCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lab",
        abstract: "Open a shell in a fresh, disposable lab (no lesson).",
        discussion: """
            The lab looks like a small machine of its own: root inside, its own hostname, \
            processes, network (lo up), mounts, /dev and cgroups, and the host's files under \
            copy-on-write overlays, so anything may be changed without touching the host. It \
            is destroyed when the shell ends.

              gantry lab                       an interactive shell
              gantry lab -c 'hostname; id'     one command string, like bash -c
              gantry lab < commands.sh         commands read from standard input
            """)

    @Option(name: .short, help: ArgumentHelp("Run this command string, as bash -c does.", valueName: "commands"))
    var command: String?
    @Option(help: ArgumentHelp("The lab's hostname.", valueName: "name"))
    var hostname = "gantry"
    @OptionGroup var limits: LabLimitOptions

    func validate() throws {
        guard !hostname.isEmpty, hostname.utf8.count <= 64 else { throw ValidationError("--hostname must be 1 to 64 bytes") }
    }

    func run() throws {
        let configuration = LabConfiguration(hostname: hostname, limits: limits.limits)
        let lab: Lab
        do { lab = try Lab.create(configuration) } catch {
            printError("gantry lab: \(error)")
            throw ExitCode(125)
        }
        defer { lab.destroy() }
        let interactive = command == nil && isatty(STDIN_FILENO) == 1
        let argv: [String] = if let command { ["/bin/bash", "-c", command] } else if interactive { ["/bin/bash", "--login"] } else { ["/bin/bash", "-s"] }
        let status: ExitStatus
        do {
            let foreground = try Foreground()
            let size = TerminalSize.current()
            let terminal = getenv("TERM").map { String(cString: $0) }
            let process = try lab.enter(
                argv, io: interactive ? .terminal(rows: size.rows, columns: size.columns) : .inherit,
                terminal: terminal)
            status = try foreground.wait(for: process)
        } catch {
            printError("gantry lab: \(error)")
            throw ExitCode(125)
        }
        throw ExitCode(status.shellCode)
    }
}
