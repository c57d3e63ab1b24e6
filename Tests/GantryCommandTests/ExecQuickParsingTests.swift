import ArgumentParser
import Testing

@testable import gantry

/// `gantry exec`'s fast path (`ExecRequest(quickParsing:)`) against ArgumentParser's parse
/// of the same arguments: the same request for every option `Exec` declares, and nil (so
/// ArgumentParser speaks) for whatever ArgumentParser would refuse or answer with help.
@Suite struct ExecQuickParsingTests {
    /// A value of the right type for each of `Exec`'s options.
    static let sampleValues: [String: String] = [
        "--hostname": "con01", "--root": "/tmp/newroot", "--chroot": "/tmp/newroot", "--bind": "/usr:/usr:ro",
        "--tmpfs": "/scratch", "--env": "KEY=value", "--cwd": "/tmp", "--veth": "gantry-h0=10.9.0.1/24:eth0=10.9.0.2/24",
        "--cpus": "0.5", "--cpu-quota": "50000/100000", "--cpu-weight": "200", "--memory": "64M", "--pids": "20",
    ]

    /// The long names `Exec --help` lists in its options (each line that starts with one),
    /// besides --help itself.
    static let declaredNames: [String] = {
        let lines = Exec.helpMessage(columns: 400).split(separator: "\n").map { $0.drop(while: { $0 == " " }) }
        let names = lines.filter { $0.hasPrefix("--") }.compactMap { $0.split(separator: " ").first.map(String.init) }
        return names.filter { $0 != "--help" }
    }()

    @Test func everyDeclaredOptionIsParsedAsArgumentParserParsesIt() throws {
        #expect(Self.declaredNames.count >= 25, "\(Self.declaredNames)")
        for name in Self.declaredNames {
            // What each needs beside it to be valid: --map-root needs --user, --hostname --uts,
            // --root --mount, --veth --net, --tty a terminal only when run.
            var arguments = ["--all", name]
            if let value = Self.sampleValues[name] { arguments.append(value) }
            if name == "--root" || name == "--chroot" { arguments = ["--user", "--map-root", "--mount", name, "/tmp"] }
            arguments += ["--", "/bin/true", "--all"]
            let quick = ExecRequest(quickParsing: arguments[...])
            let parsed = try Exec.parse(arguments).request
            #expect(quick == parsed, "\(arguments)")
            #expect(quick != nil, "the fast path does not know \(name): add it to ExecRequest+QuickParsing.swift")
        }
    }

    @Test(arguments: [
        ["--all", "/bin/echo", "--pid", "x"],  // the command's own arguments stay its own
        ["--all", "--hostname=con01", "--uts", "--", "hostname"],
        ["--all", "--env", "A=1", "--env=B=2", "--bind", "/usr", "--tmpfs", "/a", "--tmpfs", "/b", "--", "env"],
        ["--user", "--map-root", "--pid", "--no-init", "--", "id"],
        ["--all", "--cpus", "1.5", "--memory", "1G", "--pids", "7", "--cpu-weight", "50", "--", "true"],
        ["--net", "--veth", "gantry-h1:eth1=10.9.1.2/24", "--", "ip", "addr"],
    ])
    func sequencesParseAlike(_ arguments: [String]) throws {
        let quick = ExecRequest(quickParsing: arguments[...])
        #expect(quick != nil)
        #expect(quick == (try Exec.parse(arguments).request))
    }

    /// Left to ArgumentParser: it says what is wrong (or shows help) in its usual words.
    @Test(arguments: [
        ["--all", "--help"], ["--all", "--", "--help"], ["--bogus", "--", "true"], ["--cpus", "half", "--", "true"],
        ["--pids", "-1", "--", "true"], ["--hostname"], ["--all"], ["--root", "/a", "--chroot", "/b", "--mount", "--", "true"],
        ["--veth", "gantry-h2:eth0=10.9.2.2/24", "--", "true"], ["--memory", "12", "--", "true"], ["-h"],
    ])
    func whatArgumentParserWouldRefuseIsLeftToIt(_ arguments: [String]) {
        // As `main` decides: the fast path runs only a request it parsed and could prepare.
        let taken = ExecRequest(quickParsing: arguments[...]).map { (try? $0.prepared()) != nil } ?? false
        #expect(!taken)
    }
}

/// `gantry lab` alone skips ArgumentParser (`Gantry.main`); the lab it opens must be the one
/// parsing no options gives.
@Suite struct LabQuickPathTests {
    @Test func thePlainLabIsTheOneNoOptionsParseTo() throws {
        let parsed = try LabCommand.parse([])
        #expect(parsed.configuration == LabCommand.plainConfiguration)
        #expect(parsed.command == nil)
    }

    @Test func optionsStillGoThroughArgumentParser() throws {
        let parsed = try LabCommand.parse(["--hostname", "box", "--pids", "64"])
        #expect(parsed.configuration != LabCommand.plainConfiguration)
        #expect(parsed.hostname == "box")
    }
}

@Suite struct ShellQuickPathTests {
    /// What a learner types most, read by hand, is what ArgumentParser reads.
    @Test(arguments: [
        [], ["shell"], ["shell", "uts"], ["shell", "--lessons", "/tmp/course", "uts"], ["shell", "uts", "--no-record"],
        ["shell", "--no-record", "--lessons", "lessons"], ["shell", ""],
    ])
    func quickFormsParseAsArgumentParserDoes(_ arguments: [String]) throws {
        let quick = try #require(ShellCommand.Request(quickParsing: arguments))
        let parsed = try #require(try Gantry.parseAsRoot(arguments) as? ShellCommand)
        #expect(quick == parsed.request)
    }

    /// Everything else goes through ArgumentParser: its errors, its help, its other options.
    @Test(arguments: [
        ["uts"], ["shell", "uts", "cgroup-cpu"], ["shell", "--step", "2", "uts"], ["shell", "--lessons"], ["shell", "--lessons", "--no-record"],
        ["shell", "--no-record", "--no-record"], ["shell", "--help"], ["shell", "--lessons=x"], ["shell", "--", "uts"], ["lab"],
    ])
    func otherFormsAreLeftToArgumentParser(_ arguments: [String]) {
        #expect(ShellCommand.Request(quickParsing: arguments) == nil)
    }
}
