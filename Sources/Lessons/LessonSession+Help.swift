internal import Lab

/// What the learner asks for: a look at the checks, a hint, the solution, and at the end of
/// a run without a terminal, what was left undone.
extension LessonSession {
    /// `:check` (and `gantry test` at the end of a step): every expectation of the step,
    /// held or not, with what was seen; when the step holds it is done.
    @discardableResult
    public func check(look: StepTracker.Look = .report, purpose: SessionEvent.CheckPurpose = .report) -> StepTracker.Verdict? {
        guard let state, let lab else { return nil }
        let verdict = state.tracker.verdict(
            lab: lab, captures: matcher.captures, shell: shell?.foregroundProcess, look: look, onMeasuring: announceMeasuring)
        if verdict.done && !lessonFinished {
            completeStep(verdict, purpose: purpose)
        } else {
            emitCheck(verdict, purpose: purpose)
        }
        return verdict
    }

    /// `:hint`: the next hint, the one that speaks of what is wrong now first (it names the
    /// object of the first failing check), else the next in order.
    public func hint() {
        guard let step, var state else { return }
        let hints = step.hints(in: language)
        guard state.hintsShown < hints.count else { return emit(.noMoreHints(step: step.id, count: hints.count)) }
        var order = Array(hints.indices.dropFirst(state.hintsShown))
        if let lab {
            let verdict = state.tracker.verdict(lab: lab, captures: matcher.captures, shell: shell?.foregroundProcess, look: .quick)
            if let failing = verdict.failed.first,
                let check = state.tracker.checks.first(where: { $0.line == failing.line })
            {
                let names = Self.objectNames(check.text)
                if let fitting = order.first(where: { index in names.contains { hints[index].contains($0) } }) {
                    order.removeAll { $0 == fitting }
                    order.insert(fitting, at: 0)
                }
            }
        }
        state.hintsShown += 1
        self.state = state
        emit(.hintShown(step: step.id, number: state.hintsShown, count: hints.count, hint: order[0]))
    }

    /// The values a check line names (veth1, testnet, 172.16.0.2/24, limit_cpu_50), not its
    /// keywords: what a hint about that check would mention.
    static func objectNames(_ check: String) -> [String] {
        check.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().compactMap { word -> String? in
            guard let equals = word.firstIndex(of: "=") else { return nil }
            let value = String(word[word.index(after: equals)...].filter { $0 != "\"" })
            return value.count >= 3 && !["yes", "no", "own", "up", "down", "lab"].contains(value) ? value : nil
        }
    }

    /// `:solve`: the step's reference commands, with the values this lab captured.
    public func solve() {
        guard let step else { return }
        emit(.solutionShown(step: step.id, commands: support.referenceCommands(of: step).map { matcher.substitute($0.command) }))
    }

    /// Without a terminal, at the end of input: the step being worked on, if it did not pass.
    public struct UnfinishedStep: Sendable {
        public var index: Int
        public var step: Step
        /// The expectation that failed, if one did, and the sentence to say about it: the wrong
        /// turn the learner was told of names the mistake better than the state the lab was
        /// left in after it (the loop killed since, say).
        public var failed: StepTracker.Expectation?
        public var message: Message?
    }

    public func unfinishedStep() -> UnfinishedStep? {
        guard let step, let state, let lab, state.tracker.commandsRun > 0, !state.completed else { return nil }
        let verdict = state.tracker.verdict(lab: lab, captures: matcher.captures, shell: shell?.foregroundProcess, look: .report)
        let failed = wrongTurn(verdict, tries: 0) ?? verdict.failed.first
        return UnfinishedStep(index: index, step: step, failed: failed, message: state.lastTold ?? failed?.message)
    }
}
