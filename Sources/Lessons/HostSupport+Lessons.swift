public import Lab

/// What a lesson needs of this host, and which of its capability variants run here: the
/// engine, `gantry test`, `lessons` and the REPL's table ask the same questions.
extension HostSupport {
    /// "this host lacks cgroup.cpu (how to get it)" for a lesson this host cannot run, or nil.
    public func missingRequirements(_ lesson: Lesson) -> String? {
        let missing = lesson.requires.filter { !has($0) }
        guard !missing.isEmpty else { return nil }
        let reasons = missing.map { capability in
            let finding = findings.first { $0.capability == capability }
            return capability + (finding?.fix.map { " (\($0))" } ?? " (unknown capability)")
        }
        return "this host lacks " + reasons.joined(separator: ", ")
    }

    /// A variant block applies when it names no capability or one the host has.
    public func applies(_ capability: String?) -> Bool { capability.map { has($0) } ?? true }

    /// The step's reference commands that run on this host, in order.
    public func referenceCommands(of step: Step) -> [ConsoleCommand] {
        step.console.filter { applies($0.capability) }.flatMap(\.commands)
    }

    /// The commands that bring a fresh lab to the start of step `index` (0-based): the step's
    /// setup blocks or, without any, the earlier steps' reference commands, which is what a
    /// learner who did them would have. Setup commands must exit 0; replayed ones are not
    /// checked, but their outputs feed the placeholders later steps use ({{loop}}).
    public func preparation(for lesson: Lesson, step index: Int) -> [Preparation] {
        let setup = lesson.steps[index].setup.filter { applies($0.capability) }
        if !setup.isEmpty {
            return setup.flatMap { block in block.commands.map { Preparation(line: block.line, command: $0, expected: nil) } }
        }
        return lesson.steps[..<index].flatMap { earlier in
            referenceCommands(of: earlier).map { Preparation(line: $0.line, command: $0.command, expected: $0.expected) }
        }
    }

    public struct Preparation: Sendable {
        public var line: Int
        public var command: String
        /// nil for a setup command, which must exit 0.
        public var expected: [ExpectedLine]?
    }
}
