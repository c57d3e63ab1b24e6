/// `gantry exec`'s arguments parsed by hand, for start-up time. ArgumentParser's first parse
/// in a process reflects over every option (Mirror) and asks the runtime for hundreds of
/// protocol conformances, each a scan of the binary's ~4,000 records: ~4 ms, more than the
/// sandbox itself takes (perf, in the issue-19 note). `exec` is the engine's benchmark
/// against unshare and bwrap, so it gets this; every other command parses with
/// ArgumentParser.
///
/// Only well-formed input is taken: flags and options `Exec` declares (`--name value` or
/// `--name=value`), then the command (after `--`, or from the first argument that is not an
/// option). Anything else — help, an unknown or misspelt option, a value that does not
/// parse — is nil, as is (in `main`) a request `prepared()` refuses, and ArgumentParser
/// parses the same arguments to say what is wrong in its usual words. A test holds both parsers to the same
/// request for every option `Exec` declares.
extension ExecRequest {
    init?(quickParsing arguments: ArraySlice<String>) {
        self.init()
        var index = arguments.startIndex
        while index < arguments.endIndex {
            let argument = arguments[index]
            if argument == "--" {
                command = Array(arguments[(index + 1)...])
                break
            }
            guard argument.hasPrefix("--") else {
                command = Array(arguments[index...])
                break
            }
            var name = argument, value: String?
            if let equals = argument.firstIndex(of: "=") {
                name = String(argument[..<equals])
                value = String(argument[argument.index(after: equals)...])
            }
            if value == nil, setFlag(name) {
                index += 1
                continue
            }
            if value == nil {
                // A value that looks like an option is ArgumentParser's to judge.
                guard index + 1 < arguments.endIndex, !arguments[index + 1].hasPrefix("-") else { return nil }
                value = arguments[index + 1]
                index += 1
            }
            guard let value, setOption(name, value) else { return nil }
            index += 1
        }
        guard let first = command.first, first != "--help", first != "-h" else { return nil }
    }

    /// Sets the flag NAME names; false when it is not one of `Exec`'s flags.
    private mutating func setFlag(_ name: String) -> Bool {
        switch name {
        case "--user": user = true
        case "--mount": mount = true
        case "--pid": pid = true
        case "--uts": uts = true
        case "--ipc": ipc = true
        case "--net": net = true
        case "--cgroupns": cgroupNamespace = true
        case "--all": all = true
        case "--map-root": mapRoot = true
        case "--proc": proc = true
        case "--dev": dev = true
        case "--tty": tty = true
        case "--no-init": noInit = true
        case "--no-new-privs": noNewPrivs = true
        default: return false
        }
        return true
    }

    /// Sets the option NAME names to VALUE; false when it is not one of `Exec`'s options or
    /// the value is not of its type.
    private mutating func setOption(_ name: String, _ value: String) -> Bool {
        switch name {
        case "--hostname": hostname = value
        case "--root": root = value
        case "--chroot": chroot = value
        case "--cwd": cwd = value
        case "--cpu-quota": cpuQuota = value
        case "--memory": memory = value
        case "--bind": bind.append(value)
        case "--tmpfs": tmpfs.append(value)
        case "--env": env.append(value)
        case "--veth": veth.append(value)
        case "--cpus":
            guard let number = Double(value) else { return false }
            cpus = number
        case "--cpu-weight":
            guard let number = UInt64(value) else { return false }
            cpuWeight = number
        case "--pids":
            guard let number = Int64(value) else { return false }
            pids = number
        default: return false
        }
        return true
    }
}
