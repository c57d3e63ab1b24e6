internal import FoundationEssentials
internal import Glibc
internal import POSIXSupport

/// A transcript as read back: the one model `transcripts`, `play`, and (later) replay,
/// grade and export use. Reading never crashes on a bad file: what cannot be read is an
/// error naming the line and what was expected, and what is damaged is said in `integrity`.
public struct Transcript: Sendable {
    public var path: String
    public var header: TranscriptHeader
    public var events: [TranscriptEvent]
    /// Gantry's own events, decoded once while reading (`records` is asked for often).
    public var records: [GantryRecord]
    public var integrity: Integrity

    public enum Integrity: Sendable, Equatable {
        /// Sealed, and every line is what was written.
        case sealed
        /// Not sealed (Gantry was killed, or the machine stopped): every checkpoint holds;
        /// `lastLineTorn` when the last line was cut mid-write (it is left out), and
        /// `unverifiedLines` after the last checkpoint cannot be vouched for.
        case unsealed(lastLineTorn: Bool, unverifiedLines: Int)
        /// A line differs from what was written (or lines were added or removed there).
        case broken(line: Int, reason: String)
    }

    /// The seal's own digest before it is known: 64 zeros (see `GantryRecord.seal`).
    static let sealPlaceholder = String(repeating: "0", count: 64)

    /// Reads and checks a transcript; throws only when it is not one at all.
    /// `outputs` false leaves the data of output, input, marker and resize events empty
    /// (grading needs Gantry's events only, and reads faster without them).
    public static func read(_ path: String, outputs: Bool = true) throws(TranscriptError) -> Transcript {
        var info = stat()
        guard stat(path, &info) == 0 else { throw TranscriptError(path: path, "cannot read: \(Errno.current.message)") }
        // A FIFO or a device would block or never end; a directory is not a transcript.
        guard info.st_mode & S_IFMT == S_IFREG else { throw TranscriptError(path: path, "not a regular file, so not a transcript") }
        guard let bytes = POSIX.readFileBytes(path) else {
            throw TranscriptError(path: path, "cannot read: \(Errno.current.message)")
        }
        return try parse(bytes, path: path, outputs: outputs)
    }

    public static func parse(_ bytes: [UInt8], path: String, outputs: Bool = true) throws(TranscriptError) -> Transcript {
        var lines = bytes.split(separator: 0x0a, omittingEmptySubsequences: false).map(Array.init)
        let torn = !(bytes.last == 0x0a)
        if lines.last?.isEmpty == true { lines.removeLast() }
        guard let first = lines.first else { throw TranscriptError(path: path, line: 1, "empty: expected an asciicast v2 header") }
        let header: TranscriptHeader
        do { header = try JSONDecoder().decode(TranscriptHeader.self, from: Data(first)) } catch {
            throw TranscriptError(
                path: path, line: 1, "expected an asciicast v2 header with Gantry's facts ({\"version\": 2, \"width\": …, \"gantry\": {…}})")
        }
        guard header.version == 2 else { throw TranscriptError(path: path, line: 1, "asciicast version \(header.version); expected 2") }
        var events: [TranscriptEvent] = []
        var records: [GantryRecord] = []
        var chain = HashChain()
        chain.append(first)
        var integrity: Integrity?
        var sinceCheckpoint: [(line: Int, bytes: [UInt8])] = [(1, first)]
        var sealedAt: Int?
        for (offset, bytes) in lines.dropFirst().enumerated() {
            let number = offset + 2
            let isLast = number == lines.count
            if isLast && torn {
                // Cut mid-write by a crash: tolerated, left out, reported — unless the file
                // was sealed before it: then it was added.
                if integrity == nil {
                    integrity =
                        sealedAt != nil
                        ? .broken(line: number, reason: "a line after the seal")
                        : .unsealed(lastLineTorn: true, unverifiedLines: sinceCheckpoint.count - 1)
                }
                break
            }
            // Gantry's own events always carry their data; the rest only when asked for. A
            // line whose code cannot be told cheaply is read whole.
            let isGantry = bytes.count > 20 && Self.codeIsGantry(bytes)
            guard let event = EventLineScanner.scan(bytes, wantData: outputs || isGantry) else {
                if integrity == nil { integrity = .broken(line: number, reason: "expected an event [time, code, data]") }
                continue
            }
            let parsed = TranscriptEvent(time: event.time, code: event.code, data: event.data ?? "", line: number)
            events.append(parsed)
            if sealedAt != nil, integrity == nil { integrity = .broken(line: number, reason: "a line after the seal") }
            let record = event.code == "g" ? GantryRecordScanner.record(event.data ?? "") : nil
            if let record { records.append(record) }
            if event.code == "g", integrity == nil {
                guard let record else {
                    integrity = .broken(line: number, reason: "a Gantry event that does not parse")
                    continue
                }
                if let fault = Self.check(record, at: number, chain: chain, covered: sinceCheckpoint) {
                    integrity = .broken(line: fault.line, reason: fault.reason)
                } else if record.kind == .seal, !Self.sealHolds(record, line: bytes, chain: chain) {
                    integrity = .broken(line: number, reason: "this line was changed (the seal)")
                }
                sinceCheckpoint = []
                if record.kind == .seal { sealedAt = number }
            }
            chain.append(bytes)
            sinceCheckpoint.append((number, bytes))
        }
        if integrity == nil {
            integrity = sealedAt != nil ? .sealed : .unsealed(lastLineTorn: false, unverifiedLines: sinceCheckpoint.count)
        }
        return Transcript(path: path, header: header, events: events, records: records, integrity: integrity!)
    }

    /// Whether a line's code is `g`, seen from its bytes: `[time, "g", …`.
    static func codeIsGantry(_ bytes: [UInt8]) -> Bool {
        guard let comma = bytes.firstIndex(of: UInt8(ascii: ",")), comma + 4 < bytes.count else { return true }
        var index = comma + 1
        while index < bytes.count, bytes[index] == 0x20 { index += 1 }
        return !(index + 2 < bytes.count && bytes[index] == 0x22 && bytes[index + 2] == 0x22 && bytes[index + 1] != UInt8(ascii: "g"))
    }

    /// Whether a checkpoint (a Gantry event, on line `at`) matches the lines since the last
    /// one; else the line that differs. The chain through those lines tells which side was
    /// edited: when it still leads to the checkpoint's link, the lines are as written and the
    /// checkpoint's own list was changed; when it does not, the first line whose digest
    /// differs (or the checkpoint itself, if none does) is the edit.
    static func check(_ record: GantryRecord, at line: Int, chain: HashChain, covered: [(line: Int, bytes: [UInt8])]) -> (line: Int, reason: String)? {
        let digests = covered.map { HashChain.shortDigest($0.bytes) }
        let recorded = record.digests
        if record.chain == SHA256.hex(chain.link) {
            return digests == recorded ? nil : (line, "this line was changed (its list of the lines before it)")
        }
        if digests == recorded { return (line, "this line was changed (its link in the chain)") }
        // The lines that match from the start and from the end are as written; the edit is
        // where they stop matching.
        var prefix = 0
        while prefix < min(digests.count, recorded.count), digests[prefix] == recorded[prefix] { prefix += 1 }
        var suffix = 0
        while suffix < min(digests.count, recorded.count) - prefix, digests[digests.count - 1 - suffix] == recorded[recorded.count - 1 - suffix] {
            suffix += 1
        }
        let extra = digests.count - prefix - suffix, missing = recorded.count - prefix - suffix
        if prefix == 0 && missing > 0 && extra > missing {
            // The window does not begin where the writer's did: a Gantry event before this
            // one was removed or moved; the first line of the matching end is where it was.
            let after = covered.count - suffix
            return (after < covered.count ? covered[after].line : line, "a line before this one was removed or moved")
        }
        let at = prefix < covered.count ? covered[prefix].line : line
        if missing == 0 { return (at, extra == 1 ? "a line was added here" : "lines were added here") }
        if extra == 0 { return (at, missing == 1 ? "a line was removed here" : "lines were removed here") }
        return (at, extra == 1 && missing == 1 ? "this line was changed" : "lines were changed or moved from here")
    }

    /// The seal's digest over the chain's link and its own line (with the digest zeroed).
    static func sealHolds(_ record: GantryRecord, line: [UInt8], chain: HashChain) -> Bool {
        let text = String(decoding: line, as: UTF8.self)
        guard let digest = record.seal, digest.utf8.count == 64, digest != sealPlaceholder, let range = text.firstRange(of: digest) else { return false }
        var unsealed = text
        unsealed.replaceSubrange(range, with: sealPlaceholder)
        return SHA256.hexDigest(chain.link + Array(unsealed.utf8)) == digest
    }

    // MARK: What it says

    /// Steps completed (by their checks or overtaken), in the order they were.
    public var stepsDone: [String] {
        var seen: [String] = []
        let steps = header.gantry.lesson.steps
        for record in records where record.kind == .done {
            if let step = record.step, steps.contains(step), !seen.contains(step) { seen.append(step) }
        }
        return seen
    }

    public var hints: Int { records.filter { $0.kind == .hint }.count }

    /// Seconds from the header to the last event.
    public var duration: Double { events.last?.time ?? 0 }

    /// Why the session ended, when it was recorded.
    public var endReason: String? { records.last { $0.kind == .end }?.reason }

    public var integrityDescription: String {
        switch integrity {
        case .sealed: "sealed"
        case .unsealed(let torn, let unverified):
            "not sealed (the session did not end cleanly)" + (torn ? "; the last line was cut off" : "")
                + (unverified > 0 ? "; \(unverified) line(s) after the last checkpoint" : "")
        case .broken(let line, let reason): "broken at line \(line): \(reason)"
        }
    }
}
