import Foundation
import TestSupport
import Testing

@testable import Transcripts

/// `gantry grade` on a small class: real recordings, a forged one and a file that is no
/// transcript, every format read by a real consumer (junitparser, tap.py, jsonschema with
/// Gradescope's documented keys, Python's csv), shards merged byte for byte.
@Suite(.serialized) struct GradeCommandTests {
    typealias Learner = ShellCommandTests.Learner

    /// kim finished the UTS lesson, lee stopped in the nested shell after a hint, park
    /// forged lee's file to claim the lesson, and `notes.cast` is not a transcript.
    static func classDirectory(_ learner: Learner) throws -> String {
        let directory = learner.home + "/class"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let kim = try ReplayCommandTests.record(learner, ReplayCommandTests.completed)
        let lee = try ReplayCommandTests.record(learner, ["hostname", "unshare -u /bin/bash", ":hint", "hostname con01"])
        let forged = try ReplayCommandTests.forge(lee) { items in
            guard let end = items.lastIndex(where: { $0.record?.kind == .end }) else { return }
            var done = GantryRecord(kind: .done)
            (done.step, done.index, done.overtaken) = ("exit", 2, false)
            items.insert((code: "g", data: "", record: Optional(done)), at: end)
        }
        try FileManager.default.moveItem(atPath: kim, toPath: directory + "/kim.cast")
        try FileManager.default.moveItem(atPath: lee, toPath: directory + "/lee.cast")
        try FileManager.default.moveItem(atPath: forged, toPath: directory + "/park.cast")
        try "not a transcript\n".write(toFile: directory + "/notes.cast", atomically: true, encoding: .utf8)
        return directory
    }

    func grade(_ learner: Learner, _ arguments: [String]) throws -> CommandResult {
        try learner.gantry(["grade", "--lessons", ShellCommandTests.lessons] + arguments)
    }

    func python(_ script: String, _ arguments: [String]) throws -> String {
        let result = try CommandRunner.run("/usr/bin/env", ["python3", "-c", script] + arguments)
        #expect(result.status == 0, "\(result.error)")
        return result.output
    }

    @Test(requiresRootAndUserNamespaces) func aClassIsGradedInEveryFormatAndForgeriesFailVerification() throws {
        let learner = try Learner()
        var directory = ""
        try expectHostUnchanged { directory = try Self.classDirectory(learner) }

        // As recorded: the forgery gets what it claims; the bad file is named and skipped.
        let recorded = try grade(learner, [directory, "--format", "json", "-o", learner.home + "/recorded.json"])
        #expect(recorded.status == 1 && recorded.error.contains("notes.cast"), "\(recorded.error)")
        let report = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: learner.home + "/recorded.json"))) as? [String: Any])
        #expect(report["schema"] as? String == "gantry-grade/1")
        let grades = try #require(report["transcripts"] as? [[String: Any]])
        let scores = Dictionary(
            uniqueKeysWithValues: grades.map { (($0["file"] as? String ?? "").split(separator: "/").last.map(String.init) ?? "", $0["score"] as? Double ?? -1) }
        )
        // 10 points over three steps (3.33, 3.33, 3.34); a hint costs 10% of its step.
        #expect(scores == ["kim.cast": 10, "lee.cast": 6.33, "park.cast": 9.67], "\(scores)")

        // Re-run: the forged step earns nothing, and the difference is said.
        var verified: CommandResult?
        try expectHostUnchanged {
            verified = try grade(learner, ["--verify", directory, "--format", "json"])
        }
        let verifiedOutput = verified?.output ?? ""
        #expect(verified?.status == 1)
        #expect(verifiedOutput.contains("\"score\" : 6.33") && !verifiedOutput.contains("\"score\" : 9.67"), "\(verifiedOutput)")
        #expect(verifiedOutput.contains("recorded done, not done in the replay"), "\(verifiedOutput)")

        // Two labs at once give the same report as one.
        var parallel: CommandResult?
        try expectHostUnchanged {
            parallel = try grade(learner, ["--verify", "--jobs", "2", directory, "--format", "json"])
        }
        #expect(parallel?.output == verifiedOutput, "--jobs 2 differs from one job: \(parallel?.error ?? "")")

        // Shards merged are the unsharded report, byte for byte.
        for index in 1...3 {
            _ = try grade(learner, [directory, "--format", "json", "--shard", "\(index)/3", "-o", learner.home + "/shard\(index).json"])
        }
        let merged = try learner.gantry(["grade", "--merge", "--format", "json"] + (1...3).map { learner.home + "/shard\($0).json" })
        #expect(merged.output == (try String(contentsOfFile: learner.home + "/recorded.json", encoding: .utf8)), "\(merged.output)")

        // JUnit XML, read by junitparser.
        let junit = learner.home + "/grade.xml"
        _ = try grade(learner, [directory, "--format", "junit", "-o", junit])
        let suites = try python(
            """
            import sys
            from junitparser import JUnitXml, Failure, Error
            for suite in JUnitXml.fromfile(sys.argv[1]):
                failed = [c.name for c in suite if any(isinstance(r, Failure) for r in c.result)]
                errors = [c.name for c in suite if any(isinstance(r, Error) for r in c.result)]
                print(suite.name, suite.tests, len(failed), len(errors), ";".join(failed))
            """, [junit])
        #expect(suites.contains("not graded 1 0 1"), "\(suites)")
        #expect(suites.split(separator: "\n").filter { $0.hasSuffix("3 0 0 ") }.count == 2, "kim and park: 3 steps, none failed: \(suites)")
        #expect(suites.contains("3 1 0 exit: "), "lee failed the last step: \(suites)")

        // TAP 14, read by tap.py: the top level, then each subtest as the document it is.
        let tap = learner.home + "/grade.tap"
        _ = try grade(learner, [directory, "--format", "tap", "-o", tap])
        let points = try python(
            """
            import sys
            from tap.parser import Parser
            text = open(sys.argv[1]).read()
            for line in Parser().parse_text(text):
                if line.category == "version": print("version", line.version)
                if line.category == "test": print("top", line.ok, line.description, bool(line.yaml_block))
            sub = "\\n".join(l[4:] for l in text.split("\\n") if l.startswith("    "))
            for line in Parser().parse_text("TAP version 13\\n" + sub):
                if line.category == "test": print("step", line.ok, line.description)
            """, [tap])
        #expect(points.contains("version 14"), "\(points)")
        #expect(points.split(separator: "\n").filter { $0.hasPrefix("top True") }.count == 2, "\(points)")
        #expect(points.contains("top False - ") && points.contains("notes.cast True"), "\(points)")
        #expect(points.contains("step False - exit 0/3.34"), "\(points)")

        // Gradescope's results.json: the keys its documentation names, with their types.
        let gradescope = learner.home + "/results.json"
        _ = try grade(learner, [directory, "--format", "gradescope", "-o", gradescope])
        let checked = try python(
            """
            import json, sys, jsonschema
            schema = {"type": "object", "required": ["score", "tests"], "properties": {
                "score": {"type": "number"}, "output": {"type": "string"},
                "visibility": {"enum": ["hidden", "after_due_date", "after_published", "visible"]},
                "tests": {"type": "array", "items": {"type": "object", "required": ["score", "max_score", "name"], "properties": {
                    "score": {"type": "number"}, "max_score": {"type": "number"}, "name": {"type": "string"},
                    "output": {"type": "string"}, "status": {"enum": ["passed", "failed"]},
                    "visibility": {"enum": ["hidden", "after_due_date", "after_published", "visible"]}}}}}}
            results = json.load(open(sys.argv[1]))
            jsonschema.validate(results, schema)
            print(float(round(results["score"], 2)), round(sum(t["score"] for t in results["tests"]), 2), len(results["tests"]))
            """, [gradescope])
        #expect(checked == "26.0 26.0 9\n", "\(checked)")

        // CSV, read by Python's csv module: a row per learner × lesson, a column per step.
        let csv = learner.home + "/grade.csv"
        _ = try grade(learner, [directory, "--format", "csv", "-o", csv])
        let rows = try python(
            """
            import csv, sys
            for row in csv.DictReader(open(sys.argv[1], newline="")):
                print(row["file"].split("/")[-1], row["score"], row["uts/look"], row["uts/exit"])
            """, [csv])
        #expect(rows == "kim.cast 10 3.33 3.34\nlee.cast 6.33 3.33 0\npark.cast 9.67 3.33 3.34\n", "\(rows)")

        // The terminal's table says where the class gets stuck.
        let table = try grade(learner, [directory])
        #expect(table.output.contains("exit                     2/3 done  ← where most get stuck"), "\(table.output)")
    }
}
