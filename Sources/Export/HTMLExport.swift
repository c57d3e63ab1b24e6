internal import FoundationEssentials
internal import Glibc
internal import Grading
public import Lessons
internal import POSIXSupport
internal import Transcripts

/// A session as one self-contained web page: the real asciinema-player (its script and
/// style inlined, licence comment kept) playing the embedded recording, the steps beside it
/// as chapters (a click seeks the player to the step's marker), each step's commands and
/// verdict, and the score. It opens from disk with no network, and reads at phone width.
public enum HTMLExport {
    public static func write(_ notes: SessionNotes, cast: String, player: PlayerAssets) -> String {
        let escape = JUnitReport.escape
        let korean = notes.language == "ko"
        func words(_ english: String, _ hangul: String) -> String { korean ? hangul : english }
        let done = notes.steps.filter(\.done).count
        var score = words("\(done) of \(notes.steps.count) steps done", "\(notes.steps.count)단계 중 \(done)단계 완료")
        if let grade = notes.grade {
            score = "\(GradeReport.number(grade.score))/\(GradeReport.number(grade.maximum)) " + words("points", "점") + " · " + score
        }
        var chapters = ""
        for step in notes.steps {
            let mark = step.done ? "✓" : step.skipped ? "↷" : "✗"
            chapters += """
                <li class="step \(step.done ? "done" : "open")" id="step-\(step.index + 1)">
                <button type="button" data-step="\(step.index)" data-time="\(step.start ?? 0)">\(mark) \(escape(words("Step \(step.index + 1)", "\(step.index + 1)단계"))): \(escape(step.step.title(in: notes.language)))</button>

                """
            for command in step.commands {
                let typed = ([command.prompt + " " + command.lines[0]] + command.lines.dropFirst().map { "> " + $0 }).joined(separator: "\n")
                let output = command.output.prefix(12).joined(separator: "\n") + (command.output.count > 12 ? "\n…" : "")
                chapters +=
                    "<pre class=\"command\(command.depth > 1 ? " nested" : "")\"><b>\(escape(typed))</b>\(output.isEmpty ? "" : "\n" + escape(output))</pre>\n"
            }
            if let verdict = step.verdict { chapters += "<p class=\"verdict\">\(mark) \(escape(verdict))</p>\n" }
            for hint in step.hints { chapters += "<p class=\"hint\">\(escape(words("Hint used: ", "사용한 힌트: ") + hint))</p>\n" }
            chapters += "</li>\n"
        }
        // The cast as a JavaScript string; `</` written `<\/` so no text of the session can
        // end the script element.
        let cast = (try? JSONEncoder().encode(cast)).map { String(decoding: $0, as: UTF8.self) } ?? "\"\""
        let embedded = cast.replacing("</", with: "<\\/")
        return """
            <!doctype html>
            <html lang="\(korean ? "ko" : "en")">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(notes.title)) — \(escape(notes.learner))</title>
            <style>\(player.style)</style>
            <style>
            body { margin: 0; font-family: "Noto Sans KR", "NanumGothic", "Malgun Gothic", "Apple SD Gothic Neo", system-ui, sans-serif; color: #1d2021; background: #f7f7f5; }
            header { padding: 1rem 1.25rem; background: #263238; color: #eceff1; }
            header h1 { margin: 0 0 .25rem; font-size: 1.35rem; }
            header p { margin: 0; opacity: .85; }
            main { display: flex; gap: 1rem; padding: 1rem; align-items: flex-start; }
            #player { flex: 3; min-width: 0; }
            ol.steps { flex: 2; min-width: 0; list-style: none; margin: 0; padding: 0; }
            li.step { background: #fff; border-left: 4px solid #c62828; margin: 0 0 .75rem; padding: .5rem .75rem; border-radius: 4px; }
            li.step.done { border-left-color: #2e7d32; }
            li.step button { font: inherit; font-weight: 600; background: none; border: 0; padding: 0; cursor: pointer; text-align: left; color: inherit; }
            pre.command { font-family: "DejaVu Sans Mono", "NanumGothicCoding", monospace; font-size: .8rem; background: #1e1e1e; color: #ddd; padding: .4rem .5rem; overflow-x: auto; white-space: pre; }
            pre.command.nested { margin-left: 1rem; }
            p.verdict, p.hint { margin: .25rem 0; font-size: .9rem; }
            p.hint { color: #6d4c41; }
            @media (max-width: 720px) { main { flex-direction: column; } #player, ol.steps { width: 100%; flex: none; } }
            </style>
            </head>
            <body>
            <header><h1>\(escape(notes.title))</h1><p>\(escape(notes.learner)) · \(escape(notes.date)) · <span id="score">\(escape(score))</span></p></header>
            <main>
            <div id="player"></div>
            <ol class="steps">
            \(chapters)</ol>
            </main>
            <script>\(player.script)</script>
            <script>
            const cast = \(embedded);
            const player = AsciinemaPlayer.create({ data: cast }, document.getElementById("player"),
              { fit: "width", terminalFontFamily: "'DejaVu Sans Mono', 'NanumGothicCoding', monospace" });
            // A step's chapter: just after its marker (the recording's "m" events, one per step
            // opened), once its text is on the terminal, and before the next step's.
            const markers = \(markerTimes(notes));
            function seekTo(step) {
              const time = markers[step];
              if (time === undefined) return Promise.resolve();
              document.title = "step " + (step + 1);
              return player.seek(time).then(() => player.pause());
            }
            document.querySelectorAll("li.step button").forEach((button) => {
              button.addEventListener("click", () => seekTo(Number(button.dataset.step)));
            });
            const wanted = /^#step-(\\d+)$/.exec(location.hash);
            if (wanted) { player.play().then(() => seekTo(Number(wanted[1]) - 1)).then(() => { document.title = "at step " + wanted[1]; }); }
            </script>
            </body>
            </html>

            """
    }

    /// Where each step's chapter starts, by step index, as a JavaScript array: its first
    /// marker, plus half a second or nine tenths of the way to the next event after it that
    /// is a marker, whichever is less (the recording's own times: the page sets no idle limit).
    static func markerTimes(_ notes: SessionNotes) -> String {
        let markers = notes.transcript.events.filter { $0.code == "m" }
        var first: [Int: Double] = [:]
        for (offset, marker) in markers.enumerated() {
            // "step N: title"
            guard let number = marker.data.dropFirst(5).split(separator: ":").first.flatMap({ Int($0) }), first[number - 1] == nil else { continue }
            let next = offset + 1 < markers.count ? markers[offset + 1].time : (notes.transcript.events.last?.time ?? marker.time) + 1
            first[number - 1] = marker.time + min(0.5, max(0, next - marker.time) * 0.9)
        }
        return "[" + notes.steps.map { first[$0.index].map { String($0) } ?? "undefined" }.joined(separator: ", ") + "]"
    }
}

/// asciinema-player's script and style, as PyPI's mkdocs-asciinema-player wheel ships them
/// (Apache-2.0; its licence comment is kept at the top of the script).
public struct PlayerAssets: Sendable {
    public var script: String
    public var style: String
    public init(script: String, style: String) {
        self.script = script
        self.style = style
    }

    /// Where `scripts/setup` puts them, where a release is installed, or the wheel itself.
    public static func locate(environment: String?, executable: String) -> PlayerAssets? {
        var directories: [String] = []
        if let environment { directories.append(environment) }
        directories.append("/usr/local/share/gantry/asciinema-player")
        directories.append(POSIX.parentDirectory(of: POSIX.parentDirectory(of: executable)) + "/share/gantry/asciinema-player")
        // The wheel in any Python's packages: Debian's, /usr/local's, the user's, pyenv's.
        var roots = ["/usr/lib/python3/dist-packages"]
        for base in ["/usr/local/lib", (getenv("HOME").map { String(cString: $0) } ?? "/root") + "/.local/lib"] {
            for name in POSIX.list(base) where name.hasPrefix("python3") {
                roots += [base + "/" + name + "/dist-packages", base + "/" + name + "/site-packages"]
            }
        }
        let pyenv = (getenv("PYENV_ROOT").map { String(cString: $0) } ?? (getenv("HOME").map { String(cString: $0) } ?? "/root") + "/.pyenv") + "/versions"
        for version in POSIX.list(pyenv) {
            for name in POSIX.list(pyenv + "/" + version + "/lib") where name.hasPrefix("python3") {
                roots.append(pyenv + "/" + version + "/lib/" + name + "/site-packages")
            }
        }
        directories += roots.map { $0 + "/mkdocs_asciinema_player/assets" }
        for directory in directories {
            if let script = POSIX.readFile(directory + "/asciinema-player.min.js"), let style = POSIX.readFile(directory + "/asciinema-player.css") {
                return PlayerAssets(script: script, style: style)
            }
        }
        return nil
    }
}
