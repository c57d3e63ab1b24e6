internal import Glibc
internal import POSIXSupport

/// Where the REPL keeps a learner's files, by the XDG base directory specification:
/// history is state (`$XDG_STATE_HOME`, default `~/.local/state`), progress is data
/// (`$XDG_DATA_HOME`, default `~/.local/share`); both under `gantry/`.
public struct ShellPaths: Sendable {
    public var stateDirectory: String
    public var dataDirectory: String

    public init(stateDirectory: String, dataDirectory: String) {
        self.stateDirectory = stateDirectory
        self.dataDirectory = dataDirectory
    }

    public var historyFile: String { stateDirectory + "/history" }
    public var progressFile: String { dataDirectory + "/progress" }

    /// From the environment, as the specification says: a relative XDG path is ignored.
    public static func fromEnvironment() -> ShellPaths {
        let home = environment("HOME") ?? homeFromPasswd() ?? "/root"
        func base(_ variable: String, default fallback: String) -> String {
            if let value = environment(variable), value.hasPrefix("/") { return value }
            return home + "/" + fallback
        }
        return ShellPaths(
            stateDirectory: base("XDG_STATE_HOME", default: ".local/state") + "/gantry",
            dataDirectory: base("XDG_DATA_HOME", default: ".local/share") + "/gantry")
    }

    static func environment(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        let text = String(cString: value)
        return text.isEmpty ? nil : text
    }

    static func homeFromPasswd() -> String? {
        guard let entry = getpwuid(getuid()), let directory = entry.pointee.pw_dir else { return nil }
        return String(cString: directory)
    }
}
