internal import Lab
internal import POSIXSupport

/// Reads a lesson file: front matter between `---` fences, `##` steps, fenced `console`,
/// `check` and `setup` blocks, `> **Hint:**` blockquotes, `<details>` translations, prose.
/// Every mistake is a `LessonError` with file, line and column.
public enum LessonParser {
    public static let knownBlockKinds: Set<String> = ["console", "check", "setup"]
    /// How a hint starts in a translation (`> **힌트:**` in Korean).
    static let hintMarkers = ["> **힌트:**", "> **힌트**:", "> **Hint:**"]

    public static func parse(_ text: String, file: String) throws(LessonError) -> Lesson {
        // A byte-order mark and Windows line ends are common in files written elsewhere. (In
        // Swift "\r\n" is one Character, so split on the UTF-8 bytes, where a newline is
        // always the one byte 0x0A; rebuilding each line scalar by scalar was most of a parse.)
        var source = text
        if source.hasPrefix("\u{FEFF}") { source.removeFirst() }
        let lines = source.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { bytes in
            Substring(String(decoding: bytes.last == UInt8(ascii: "\r") ? bytes.dropLast() : bytes[...], as: UTF8.self))
        }
        guard lines.first == "---" else {
            throw LessonError(file: file, line: 1, "a lesson starts with front matter: a line '---', then id and title, then '---'")
        }
        guard let close = lines.dropFirst().firstIndex(of: "---") else {
            throw LessonError(file: file, line: 1, "the front matter opened on line 1 is never closed with '---'")
        }
        let front = try FrontMatterParser.parse(Array(lines[1..<close]), firstLine: 2, file: file)
        var lesson = try header(front, file: file, endLine: close + 1)

        var step: Step?
        var prose: [String] = []
        var index = close + 1
        func flush() {
            if var current = step {
                current.prose = trimmed(prose)
                lesson.steps.append(current)
            } else {
                lesson.introduction = trimmed(prose)
            }
            prose = []
        }
        while index < lines.count {
            let line = lines[index]
            let number = index + 1
            if line.hasPrefix("## ") {
                flush()
                let title = String(line.dropFirst(3)).trimmingTrailingWhitespace
                var id = slug(title)
                var displayed = title
                // An explicit id: `## Title {#id}`.
                if let open = title.firstRange(of: "{#"), title.hasSuffix("}") {
                    id = String(title[open.upperBound..<title.index(before: title.endIndex)])
                    displayed = String(title[..<open.lowerBound]).trimmingTrailingWhitespace
                }
                if id.isEmpty { throw LessonError(file: file, line: number, column: 4, "a step needs a title after '## '") }
                if lesson.steps.contains(where: { $0.id == id }) {
                    throw LessonError(file: file, line: number, column: 4, "step id '\(id)' is used twice; give one an explicit id with {#other-id}")
                }
                step = Step(id: id, title: displayed, line: number, prose: [], translations: [:], console: [], checks: [], setup: [], hints: [])
                index += 1
                continue
            }
            if line.hasPrefix("```") {
                let info = line.dropFirst(3).split(separator: " ").map(String.init)
                guard let closeFence = lines[(index + 1)...].firstIndex(where: { $0.hasPrefix("```") }),
                    lines[closeFence].dropFirst(3).allSatisfy(\.isWhitespace)
                else {
                    if let other = lines[(index + 1)...].firstIndex(where: { $0.hasPrefix("```") }) {
                        throw LessonError(
                            file: file, line: number,
                            "the code block opened here is not closed before line \(other + 1) opens another: add a line ``` before it")
                    }
                    throw LessonError(file: file, line: number, "the code block opened here is never closed with ```")
                }
                let body = Array(lines[(index + 1)..<closeFence])
                let kind = info.first ?? ""
                if knownBlockKinds.contains(kind) {
                    guard step != nil else {
                        throw LessonError(file: file, line: number, column: 4, "a ```\(kind) block must be inside a step (after a '## ' heading)")
                    }
                    if info.count > 2 {
                        throw LessonError(file: file, line: number, column: 4, "expected ```\(kind) or ```\(kind) CAPABILITY, found '\(line.dropFirst(3))'")
                    }
                    let capability = info.count == 2 ? info[1] : nil
                    switch kind {
                    case "console":
                        step!.console.append(
                            ConsoleBlock(
                                line: number, capability: capability,
                                commands: try ConsoleParser.parse(body, firstLine: number + 1, file: file)))
                    case "check":
                        step!.checks.append(
                            CheckBlock(
                                line: number, capability: capability,
                                checks: try CheckParser.parse(body, firstLine: number + 1, file: file)))
                    default:
                        step!.setup.append(
                            SetupBlock(
                                line: number, capability: capability,
                                commands: body.map(String.init).filter { !$0.allSatisfy(\.isWhitespace) }))
                    }
                } else {
                    prose += lines[index...closeFence].map(String.init)
                }
                index = closeFence + 1
                continue
            }
            if line.hasPrefix("> **Hint:**") || line.hasPrefix("> **Hint**:") {
                guard step != nil else { throw LessonError(file: file, line: number, "a hint must be inside a step") }
                var hint = [String(line.drop { $0 != ":" }.dropFirst().drop { $0 == "*" || $0 == " " })]
                index += 1
                while index < lines.count, lines[index].hasPrefix(">") {
                    hint.append(String(lines[index].dropFirst().drop { $0 == " " }))
                    index += 1
                }
                step!.hints.append(hint.joined(separator: "\n").trimmingTrailingWhitespace)
                continue
            }
            if line.hasPrefix("<details><summary>") && line.hasSuffix("</summary>") {
                guard let end = lines[(index + 1)...].firstIndex(where: { $0.hasPrefix("</details>") }) else {
                    throw LessonError(file: file, line: number, "<details> opened here is never closed with </details>")
                }
                let summary = line.dropFirst("<details><summary>".count).dropLast("</summary>".count)
                let language = languageCode(String(summary))
                var text = trimmed(lines[(index + 1)..<end].map(String.init))
                if step != nil {
                    // A `### ` line is the step's title in that language; `> **힌트:**`
                    // blockquotes are its hints, in the order of the English ones.
                    if let title = text.first(where: { $0.hasPrefix("### ") }) {
                        step!.translatedTitles[language] = String(title.dropFirst(4)).trimmingTrailingWhitespace
                        text.removeAll { $0 == title }
                    }
                    var hints: [String] = []
                    var kept: [String] = []
                    var position = 0
                    while position < text.count {
                        let candidate = text[position]
                        if let marker = Self.hintMarkers.first(where: { candidate.hasPrefix($0) }) {
                            var hint = [String(candidate.dropFirst(marker.count)).trimmingTrailingWhitespace.drop { $0 == " " }.description]
                            position += 1
                            while position < text.count, text[position].hasPrefix(">") {
                                hint.append(String(text[position].dropFirst().drop { $0 == " " }))
                                position += 1
                            }
                            hints.append(hint.joined(separator: "\n").trimmingTrailingWhitespace)
                            continue
                        }
                        kept.append(candidate)
                        position += 1
                    }
                    if !hints.isEmpty { step!.translatedHints[language, default: []] += hints }
                    step!.translations[language, default: []] += trimmed(kept)
                } else {
                    lesson.introductionTranslations[language, default: []] += text
                }
                index = end + 1
                continue
            }
            prose.append(String(line))
            index += 1
        }
        flush()
        if lesson.steps.isEmpty {
            throw LessonError(file: file, line: close + 2, "a lesson needs at least one step: a '## ' heading")
        }
        try lint(lesson)
        return lesson
    }

    /// What a lesson can get wrong beyond its syntax.
    static func lint(_ lesson: Lesson) throws(LessonError) {
        let file = lesson.file
        let known = Set(HostSupport.knownCapabilities)
        for capability in lesson.requires where !known.contains(capability) {
            throw LessonError(
                file: file, line: 2,
                "unknown capability '\(capability)' in requires: (known: \(known.sorted().joined(separator: ", ")); `gantry doctor` lists them)")
        }
        let ids = lesson.steps.map(\.id)
        for (id, line) in lesson.grading.stepLines.sorted(by: { $0.value < $1.value }) where !ids.contains(id) {
            throw LessonError(file: file, line: line, "grading steps: no step '\(id)' (the steps: \(ids.joined(separator: ", ")))")
        }
        let named = lesson.grading.stepPoints.values.reduce(0, +)
        if let points = lesson.points, named > Double(points), let line = lesson.grading.stepLines.values.min() {
            throw LessonError(file: file, line: line, "grading steps add up to \(named) points, more than the lesson's points: \(points)")
        }
        var captured: Set<String> = []
        for step in lesson.steps {
            // A step says what the lab must be like when it is done; a step whose point is
            // an output says so with `seen`.
            if step.checks.isEmpty {
                throw LessonError(
                    file: file, line: step.line, column: 4,
                    "step '\(step.id)' has no ```check block: say what the lab is like when it is done (or `seen output=…` for a step whose point is what a command shows)"
                )
            }
            for block in step.console {
                if let capability = block.capability, !known.contains(capability) {
                    throw LessonError(
                        file: file, line: block.line, column: 4, "unknown capability '\(capability)' (known: \(known.sorted().joined(separator: ", ")))")
                }
                for command in block.commands {
                    for token in Placeholders.tokens(command.command) where !captured.contains(token.name) {
                        throw LessonError(file: file, line: command.line, "{{\(token.name)}} is used before any output captures it (as {{\(token.name):int}})")
                    }
                    for expected in command.expected {
                        for token in Placeholders.tokens(expected.text) {
                            if token.kind != nil {
                                captured.insert(token.name)
                            } else if !captured.contains(token.name) {
                                throw LessonError(
                                    file: file, line: expected.line, "{{\(token.name)}} is used before any output captures it (as {{\(token.name):int}})")
                            }
                        }
                    }
                }
            }
            for block in step.checks {
                if let capability = block.capability, !known.contains(capability) {
                    throw LessonError(
                        file: file, line: block.line, column: 4, "unknown capability '\(capability)' (known: \(known.sorted().joined(separator: ", ")))")
                }
                for check in block.checks {
                    if let later = check.undoneBy {
                        let position = lesson.steps.firstIndex { $0.id == later }
                        guard let position, position > lesson.steps.firstIndex(where: { $0.id == step.id })! else {
                            throw LessonError(
                                file: file, line: check.line,
                                "undone-by=\(later) names no later step (steps: \(lesson.steps.map(\.id).joined(separator: ", ")))")
                        }
                    }
                    for name in check.placeholders where !captured.contains(name) {
                        throw LessonError(file: file, line: check.line, "{{\(name)}} is used before any output captures it (as {{\(name):int}})")
                    }
                }
            }
        }
    }

    static func header(_ front: YAMLValue, file: String, endLine: Int) throws(LessonError) -> Lesson {
        let known: Set<String> = ["id", "title", "ko", "requires", "lab", "points", "order", "grading"]
        for (key, line) in front.keys where !known.contains(key) {
            throw LessonError(file: file, line: line, "unknown front matter key '\(key)' (known: \(known.sorted().joined(separator: ", ")))")
        }
        guard let id = front["id"]?.string, !id.isEmpty else {
            throw LessonError(file: file, line: endLine, "the front matter has no 'id:' (a short name like uts or netns-veth)")
        }
        guard id.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw LessonError(file: file, line: front["id"]!.line, "id '\(id)' may only hold letters, digits, - and _")
        }
        guard let title = front["title"]?.string, !title.isEmpty else {
            throw LessonError(file: file, line: endLine, "the front matter has no 'title:'")
        }
        var translations: [String: String] = [:]
        if let ko = front["ko"] {
            guard let koTitle = ko["title"]?.string else {
                throw LessonError(file: file, line: ko.line, "'ko:' needs a nested 'title:'")
            }
            translations["ko"] = koTitle
        }
        var requires: [String] = []
        if let value = front["requires"] {
            guard case .list(let items, _) = value else {
                throw LessonError(file: file, line: value.line, "'requires:' takes a list, like [userns, netns]")
            }
            requires = items.compactMap(\.string)
        }
        var lab = Lesson.LabSettings()
        if let settings = front["lab"] {
            for (key, line) in settings.keys where !["hostname", "memory", "pids"].contains(key) {
                throw LessonError(file: file, line: line, "unknown lab setting '\(key)' (known: hostname, memory, pids)")
            }
            lab.hostname = settings["hostname"]?.string
            lab.memory = settings["memory"]?.string
            if let pids = settings["pids"] {
                guard let value = pids.string.flatMap({ Int64($0) }) else {
                    throw LessonError(file: file, line: pids.line, "lab pids must be a whole number")
                }
                lab.pids = value
            }
        }
        var order: Int?
        if let value = front["order"] {
            guard let number = value.string.flatMap({ Int($0) }) else {
                throw LessonError(file: file, line: value.line, "order must be a whole number (lessons are offered lowest first)")
            }
            order = number
        }
        var points: Int?
        if let value = front["points"] {
            guard let number = value.string.flatMap({ Int($0) }), number >= 0 else {
                throw LessonError(file: file, line: value.line, "points must be a whole number")
            }
            points = number
        }
        var lesson = Lesson(
            file: file, id: id, title: title, translatedTitles: translations, order: order, requires: requires, lab: lab,
            points: points, introduction: [], introductionTranslations: [:], steps: [])
        if let grading = front["grading"] { lesson.grading = try self.grading(grading, file: file) }
        return lesson
    }

    /// `grading:` with `hint: 10%`, `solve: 50%` and `steps:` (points by step id).
    static func grading(_ value: YAMLValue, file: String) throws(LessonError) -> Lesson.Grading {
        var grading = Lesson.Grading()
        for (key, line) in value.keys where !["hint", "solve", "steps"].contains(key) {
            throw LessonError(file: file, line: line, "unknown grading setting '\(key)' (known: hint, solve, steps)")
        }
        func fraction(_ key: String) throws(LessonError) -> Double? {
            guard let item = value[key] else { return nil }
            let text = item.string ?? ""
            let number = text.hasSuffix("%") ? Double(text.dropLast()).map { $0 / 100 } : Double(text)
            guard let number, (0...1).contains(number) else {
                throw LessonError(file: file, line: item.line, "grading \(key) must be a share of a step's points, like 10% (0% to 100%)")
            }
            return number
        }
        grading.hintPenalty = try fraction("hint") ?? grading.hintPenalty
        grading.solvePenalty = try fraction("solve") ?? grading.solvePenalty
        if let steps = value["steps"] {
            for (id, line) in steps.keys {
                guard let points = steps[id]?.string.flatMap(Double.init), points >= 0 else {
                    throw LessonError(file: file, line: line, "grading steps: \(id) must be a number of points, like 5")
                }
                grading.stepPoints[id] = points
                grading.stepLines[id] = line
            }
        }
        return grading
    }

    /// `Change the hostname` → `change-the-hostname`.
    static func slug(_ title: String) -> String {
        var result = ""
        for character in title.lowercased() {
            if character.isLetter || character.isNumber { result.append(character) } else if !result.isEmpty && result.last != "-" { result.append("-") }
        }
        while result.hasSuffix("-") { result.removeLast() }
        return result
    }

    static func languageCode(_ summary: String) -> String {
        switch summary {
        case "한국어", "Korean", "ko": "ko"
        default: summary.lowercased()
        }
    }

    static func trimmed(_ lines: [String]) -> [String] {
        var result = lines
        while result.first?.allSatisfy(\.isWhitespace) == true { result.removeFirst() }
        while result.last?.allSatisfy(\.isWhitespace) == true { result.removeLast() }
        return result
    }
}
