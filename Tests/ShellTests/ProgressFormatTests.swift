import Foundation
import Testing

@testable import Shell

@Suite struct ProgressFormatTests {
    @Test func roundTripsEveryField() throws {
        var progress = Progress()
        progress.currentLesson = "uts"
        progress.language = "ko"
        progress.lessons["uts", default: Progress.LessonRecord()].step = 2
        var record = Progress.StepRecord()
        record.done = true
        record.attempts = 4
        record.hintsUsed = 1
        record.solved = true
        record.seconds = 93
        progress["uts", "unshare"] = record
        progress["uts", "exit"] = Progress.StepRecord()
        let text = ProgressFormat.encode(progress)
        #expect(text.hasPrefix("gantry-progress\t1\ncurrent\tuts\nlanguage\tko\nlesson\tuts\tstep=2\n"))
        #expect(try ProgressFormat.decode(text, file: "p") == progress)
    }

    @Test(arguments: [
        ("progress 1\n", 1, "expected 'gantry-progress⇥1' (a Gantry progress file)"),
        ("gantry-progress\t1\nlesson\tuts\tstep=0\n", 2, "expected step=N (N ≥ 1)"),
        (
            "gantry-progress\t1\nstep\tuts\ta\tdone=maybe\tattempts=1\thints=0\tsolved=no\tskipped=no\tseconds=1\n", 2,
            "expected done=yes or done=no, found 'done=maybe'"
        ),
        ("gantry-progress\t1\ncurrent\tuts\n\nfavourite\tuts\n", 4, "expected 'current', 'language', 'lesson' or 'step'"),
    ])
    func aDamagedFileSaysWhereAndWhat(text: String, line: Int, message: String) {
        #expect {
            try ProgressFormat.decode(text, file: "progress")
        } throws: { error in
            let error = error as? ProgressError
            return error?.line == line && error?.message.hasPrefix(message) == true && error?.file == "progress"
        }
    }

    @Test func savingReplacesTheFileWholeAndLoadingReadsItBack() throws {
        let directory = NSTemporaryDirectory() + "gantry-progress-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = ProgressStore(file: directory + "/nested/progress")
        var progress = Progress()
        progress.currentLesson = "pid"
        try store.save(progress)
        #expect(store.load().progress == progress)
        #expect(store.load().notice == nil)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory + "/nested")
        #expect(leftovers == ["progress"], "no temporary file is left behind")
    }

    @Test func anUnreadableFileIsMovedAsideAndNamed() throws {
        let directory = NSTemporaryDirectory() + "gantry-progress-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "not progress\n".write(toFile: directory + "/progress", atomically: true, encoding: .utf8)
        let loaded = ProgressStore(file: directory + "/progress").load()
        #expect(loaded.progress == Progress())
        #expect(loaded.notice?.contains("progress:1: expected 'gantry-progress⇥1'") == true)
        #expect(loaded.notice?.contains("was kept as \(directory)/progress.unreadable-") == true)
        let names = try FileManager.default.contentsOfDirectory(atPath: directory)
        #expect(names.count == 1 && names[0].hasPrefix("progress.unreadable-"))
    }
}
