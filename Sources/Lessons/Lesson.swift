/// One lesson: a Markdown file that reads as course notes and is its own test.
public struct Lesson: Sendable {
    public var file: String
    public var id: String
    public var title: String
    /// Titles in other languages (`ko`).
    public var translatedTitles: [String: String]
    /// Capabilities the host needs (`gantry doctor` names them): `userns`, `netns`, `cgroup.cpu`…
    public var requires: [String]
    public var lab: LabSettings
    public var points: Int?
    /// Prose before the first step.
    public var introduction: [String]
    public var steps: [Step]

    public struct LabSettings: Sendable, Equatable {
        public var hostname: String?
        public var memory: String?
        public var pids: Int64?
    }
}

/// A `##` section: prose to read, commands to type, checks that must hold.
public struct Step: Sendable {
    public var id: String
    public var title: String
    public var line: Int
    public var prose: [String]
    /// Prose in other languages, from `<details><summary>한국어</summary>` (`ko`) blocks.
    public var translations: [String: [String]]
    public var console: [ConsoleBlock]
    public var checks: [CheckBlock]
    /// Hidden commands that bring a fresh lab to the start of this step.
    public var setup: [SetupBlock]
    /// Blockquotes starting with **Hint:**, revealed one at a time.
    public var hints: [String]
}

/// A fenced block, kept where it stood; `capability` selects a variant (```console cgroup.v2).
public struct ConsoleBlock: Sendable {
    public var line: Int
    public var capability: String?
    public var commands: [ConsoleCommand]
}

/// A `$ command` (with `> ` continuation lines) and the output expected after it.
public struct ConsoleCommand: Sendable, Equatable {
    public var line: Int
    public var command: String
    public var expected: [ExpectedLine]
    /// From a `[N]` line; nil means 0, as in cram.
    public var expectedStatus: Int32?
}

public struct CheckBlock: Sendable {
    public var line: Int
    public var capability: String?
    public var checks: [Check]
}

public struct SetupBlock: Sendable {
    public var line: Int
    public var capability: String?
    public var commands: [String]
}
