/// Values of `gantry exec`'s repeatable options (`--env`, `--bind`, `--tmpfs`, `--veth`),
/// taken out of the arguments before ArgumentParser sees them. ArgumentParser removes each
/// parsed argument from an array, so N repeats cost N² (10,000 `--env` took minutes);
/// here it is one pass.
enum RepeatedOptions {
    static let names: Set<String> = ["--env", "--bind", "--tmpfs", "--veth"]

    /// Lifted values by option name, in the order given. Written once, by `main`, before
    /// any command runs; read by `Exec` afterwards on the same thread.
    nonisolated(unsafe) static var lifted: [String: [String]] = [:]

    /// The arguments without the lifted options; only for `exec`, and only before `--`
    /// (after it everything is the command's).
    static func lift(_ arguments: [String]) -> [String] {
        guard arguments.first == "exec" else { return arguments }
        var kept: [String] = []
        kept.reserveCapacity(arguments.count)
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--" {
                kept += arguments[index...]
                break
            }
            if names.contains(argument), index + 1 < arguments.count {
                lifted[argument, default: []].append(arguments[index + 1])
                index += 2
                continue
            }
            if let equals = argument.firstIndex(of: "="), names.contains(String(argument[..<equals])) {
                lifted[String(argument[..<equals]), default: []].append(String(argument[argument.index(after: equals)...]))
                index += 1
                continue
            }
            kept.append(argument)
            index += 1
        }
        return kept
    }
}
