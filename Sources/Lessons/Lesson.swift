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
    /// How `gantry grade` scores it (`grading:`).
    public var grading = Grading()
    /// Prose before the first step.
    public var introduction: [String]
    /// The introduction in other languages, from `<details>` blocks before the first step.
    public var introductionTranslations: [String: [String]]
    public var steps: [Step]

    /// `grading:` in the front matter: what a step is worth and what help costs.
    public struct Grading: Sendable, Equatable {
        /// Taken off a step's points per hint used (`hint: 10%`).
        public var hintPenalty = 0.1
        /// Taken off a step's points when `:solve` was used (`solve: 50%`).
        public var solvePenalty = 0.5
        /// Points per step id; the steps not named share what is left of `points:`.
        public var stepPoints: [String: Double] = [:]
        /// Lines, for messages.
        public var stepLines: [String: Int] = [:]
        public init() {}
    }

    /// The lesson's points (`points:`, else 10 per step) and each step's share: named steps
    /// get theirs, the others split the rest evenly (in hundredths, the last ones taking
    /// what rounding leaves, so the shares add up to the lesson's points exactly).
    public var stepPoints: [(id: String, points: Double)] {
        let total = Double(points ?? steps.count * 10)
        let named = steps.compactMap { grading.stepPoints[$0.id] }.reduce(0, +)
        let unnamed = steps.filter { grading.stepPoints[$0.id] == nil }
        let hundredths = max(0, Int(((total - named) * 100).rounded()))
        let share = unnamed.isEmpty ? 0 : hundredths / unnamed.count
        var extra = unnamed.isEmpty ? 0 : hundredths - share * unnamed.count
        var result: [(String, Double)] = []
        for step in steps.reversed() {
            if let fixed = grading.stepPoints[step.id] {
                result.append((step.id, fixed))
            } else {
                let bonus = extra > 0 ? 1 : 0
                extra -= bonus
                result.append((step.id, Double(share + bonus) / 100))
            }
        }
        return result.reversed()
    }

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
