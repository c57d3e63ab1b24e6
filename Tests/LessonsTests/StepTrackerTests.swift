import Testing
@testable import Lessons

/// The rule that says a step is done, on the parts that need no lab.
@Suite struct StepTrackerTests {
    func step(_ body: String) throws -> Step {
        let text = "---\nid: t\ntitle: T\n---\n\n## The step {#s}\n\n" + body
        return try LessonParser.parse(text, file: "t.md").steps[0]
    }

    @Test func theLastOutputShownMustBeSeenWhateverCommandPrintedIt() throws {
        let tracker = try step("```console\n$ hostname con01\n$ hostname\ncon01\n```\n")
        var matcher = OutputMatcher()
        var state = StepTracker(step: tracker, applies: { _ in true })
        #expect(state.outputExpectation(matcher: matcher)?.message == "nothing run in this step yet")
        state.record(command: "hostname", output: "dockeredu\n", status: 0, matcher: &matcher)
        let missed = try #require(state.outputExpectation(matcher: matcher))
        #expect(!missed.passed)
        #expect(missed.message == "the last command, `hostname`, printed something else")
        #expect(missed.diff == ["- con01", "+ dockeredu"])
        state.record(command: "cat /proc/sys/kernel/hostname", output: "con01\n", status: 0, matcher: &matcher)
        #expect(state.outputExpectation(matcher: matcher)?.passed == true)
        #expect(state.commandsRun == 2)
    }

    @Test func theExpectedStatusIsPartOfTheOutput() throws {
        let tracker = try step("```console\n$ false\n[1]\n```\n")
        var matcher = OutputMatcher()
        var state = StepTracker(step: tracker, applies: { _ in true })
        state.record(command: "true", output: "", status: 0, matcher: &matcher)
        #expect(state.outputExpectation(matcher: matcher)?.passed == false)
        state.record(command: "false", output: "", status: 1, matcher: &matcher)
        #expect(state.outputExpectation(matcher: matcher)?.passed == true)
    }

    @Test func aStepWithNeitherOutputNorChecksWantsItsCommandsTypedWithCapturedValues() throws {
        let tracker = try step("```console\n$ kill {{loop}}\n```\n")
        var matcher = OutputMatcher()
        _ = matcher.match("[1] 4242\n", expected: [ExpectedLine(text: "[1] {{loop:int}}", kind: .literal, noEndOfLine: false, line: 1)])
        var state = StepTracker(step: tracker, applies: { _ in true })
        state.record(command: "kill  4242", output: "", status: 0, matcher: &matcher)
        #expect(state.outputExpectation(matcher: matcher)?.passed == true)
    }

    @Test func variantsForOtherHostsAreNotExpected() throws {
        let tracker = try step("```console cgroup.v2\n$ cat cpu.max\n50000 100000\n```\n\n```console cgroup.v1\n$ cat cpu.cfs_quota_us\n50000\n```\n")
        var matcher = OutputMatcher()
        var state = StepTracker(step: tracker, applies: { $0 == "cgroup.v1" })
        state.record(command: "cat cpu.cfs_quota_us", output: "50000\n", status: 0, matcher: &matcher)
        #expect(state.outputExpectation(matcher: matcher)?.passed == true)
        #expect(state.outputExpectation(matcher: matcher)?.description == "output of `cat cpu.cfs_quota_us`")
    }
}
