internal import Cgroups
public import Lab

/// One lesson: a Markdown file that reads as course notes and is its own test.
public struct Lesson: Sendable {
    public var file: String
    public var id: String
    public var title: String
    /// Titles in other languages (`ko`).
    public var translatedTitles: [String: String]
    /// Where the lesson sits in the course (`order:`); lessons without one come last, by id.
    public var order: Int?
    /// Capabilities the host needs (`gantry doctor` names them): `userns`, `netns`, `cgroup.cpu`…
    public var requires: [String]
    public var lab: LabSettings
    public var points: Int?
    /// Prose before the first step.
    public var introduction: [String]
    /// The introduction in other languages, from `<details>` blocks before the first step.
    public var introductionTranslations: [String: [String]]
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
    /// The title in other languages: a `### ` line in the step's `<details>` translation.
    public var translatedTitles: [String: String] = [:]
    /// Hints in other languages: `> **힌트:**` blockquotes in the translation, in order.
    public var translatedHints: [String: [String]] = [:]

    /// The prose in `language`, or in English when the step has no such translation.
    public func prose(in language: String) -> [String] {
        guard language != "en", let translated = translations[language], !translated.isEmpty else { return prose }
        return translated
    }

    public func title(in language: String) -> String { translatedTitles[language] ?? title }

    /// The hints in `language` when the step has all of them translated, else in English.
    public func hints(in language: String) -> [String] {
        guard let translated = translatedHints[language], translated.count == hints.count else { return hints }
        return translated
    }
}

extension Lesson {
    /// The lab this lesson asks for: its hostname and lab-wide limits (defaults 1 GiB, 512 tasks).
    public var labConfiguration: LabConfiguration {
        LabConfiguration(
            hostname: lab.hostname ?? "gantry",
            limits: ResourceLimits(
                memoryMax: lab.memory.flatMap(ResourceLimits.parseBytes) ?? (1 << 30),
                pidsMax: lab.pids ?? 512))
    }

    public func title(in language: String) -> String { translatedTitles[language] ?? title }

    /// Course order: by `order:`, then by id.
    public static func courseOrder(_ lessons: [Lesson]) -> [Lesson] {
        lessons.sorted { ($0.order ?? Int.max, $0.id) < ($1.order ?? Int.max, $1.id) }
    }
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
