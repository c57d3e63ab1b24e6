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

              gantry lab                       an interactive shell (bash -i: /etc/bash.bashrc
                                               and ~/.bashrc, not the host's login profile)
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

    /// What the options ask for.
    var configuration: LabConfiguration { LabConfiguration(hostname: hostname, limits: limits.limits) }

    /// `gantry lab` with no options: what a learner types most, and what `scripts/bench` times
    /// against bwrap. `main` opens it without ArgumentParser's first parse (~2 ms of
    /// reflection, see ExecRequest+QuickParsing.swift); a test holds it to what parsing no
    /// arguments gives.
    static let plainConfiguration = LabConfiguration()

    func run() throws {
        let code = Self.open(configuration, command: command)
        if code != 0 { throw ExitCode(code) }
    }

    /// Builds the lab, runs the shell in it and removes it; the exit status to leave with.
    static func open(_ configuration: LabConfiguration, command: String?) -> Int32 {
        let lab: Lab
        do { lab = try Lab.create(configuration) } catch {
            printError("gantry lab: \(error)")
            return 125
        }
        defer { lab.destroy() }
        let interactive = command == nil && isatty(STDIN_FILENO) == 1
        // Interactive: `bash -i`, as `docker run -it IMAGE bash` starts it. It reads
        // /etc/bash.bashrc (the prompt) and the lab's ~/.bashrc, not the host's login
        // profile: PATH, HOME and TERM are the lab's own (LabConfiguration), and /etc/profile
        // is the host's login set-up (on Debian it forks `id -u` and sources profile.d),
        // which was a third of the time from the lab's creation to its first prompt.
        let argv: [String] = if let command { ["/bin/bash", "-c", command] } else if interactive { ["/bin/bash", "-i"] } else { ["/bin/bash", "-s"] }
        do {
            let foreground = try Foreground()
            let size = TerminalSize.current()
            let terminal = getenv("TERM").map { String(cString: $0) }
            let process = try lab.enter(
                argv, io: interactive ? .terminal(rows: size.rows, columns: size.columns) : .inherit,
                terminal: terminal)
            return try foreground.wait(for: process).shellCode
        } catch {
            printError("gantry lab: \(error)")
            return 125
        }
    }
}
