public import Cgroups
internal import POSIXSupport

/// What a lab is made with; a lesson's `lab:` settings end up here.
public struct LabConfiguration: Sendable, Hashable, Codable {
    public var hostname: String
    /// Lab-wide limits, so a fork bomb or a memory hog stays inside.
    public var limits: ResourceLimits
    /// Overlay of the host's directories (true) or read-only binds (false). Nil: overlay when
    /// the kernel allows it, else the binds.
    public var overlay: Bool?
    /// Extra environment for every process of the lab (`KEY=VALUE`).
    public var environment: [String]

    public init(
        hostname: String = "gantry", limits: ResourceLimits = LabConfiguration.defaultLimits,
        overlay: Bool? = nil, environment: [String] = []
    ) {
        self.hostname = hostname
        self.limits = limits
        self.overlay = overlay
        self.environment = environment
    }

    /// pids 512 and memory 1 GiB: room for the course, not for a runaway.
    public static let defaultLimits = ResourceLimits(memoryMax: 1 << 30, pidsMax: 512)

    /// The environment of a login on a small Debian machine, plus `environment`.
    func processEnvironment(terminal: String?) -> [String] {
        POSIX.environment(
            [
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "HOME=/root", "USER=root", "LOGNAME=root", "SHELL=/bin/bash",
                "LANG=C.UTF-8", "TERM=\(terminal ?? "xterm-256color")",
            ], overriding: environment)
    }
}
