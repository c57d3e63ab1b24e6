import ArgumentParser
import Lab
import Ledger

/// `gantry cleanup`: removes what labs and sandboxes of dead Gantry processes left behind.
struct CleanupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cleanup",
        abstract: "Remove what crashed or killed Gantry sessions left behind.",
        discussion: """
            Every lab records what it creates that the kernel would not remove by itself \
            (its cgroups, host-side links) in a ledger under /run/gantry (or \
            $XDG_RUNTIME_DIR/gantry) before creating it. A ledger whose session is gone is \
            replayed here, last entry first: processes in its cgroups are killed, the groups \
            removed. Sessions still running are left alone.
            """)

    @Option(help: ArgumentHelp("Where the ledgers are.", valueName: "dir"))
    var ledgers = Ledger.defaultDirectory()

    func run() throws {
        let report = Cleanup.run(directory: ledgers)
        for action in report.actions { print(action) }
        for name in report.live { print("left alone (still running): \(name)") }
        for failure in report.failures { printError("gantry cleanup: could not undo \(failure)") }
        if report.actions.isEmpty && report.failures.isEmpty { print("nothing to clean up") }
        if !report.failures.isEmpty { throw ExitCode(1) }
    }
}
