import Foundation
import TestSupport
import Testing

@testable import Transcripts

/// The hand-written record reader against JSONDecoder, the kept implementation it replaces
/// for speed: the same record, or both refuse, for every record of the reference transcripts
/// and for thousands of edited ones. No root.
@Suite struct GantryRecordScannerTests {
    static let references = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("transcripts").path

    /// The data of every `g` event in the shipped reference transcripts.
    static func referenceRecords() throws -> [String] {
        let files = try FileManager.default.contentsOfDirectory(atPath: references).filter { $0.hasSuffix(".cast") }.sorted()
        var records: [String] = []
        for file in files {
            let transcript = try Transcript.read(references + "/" + file)
            records += transcript.events.filter { $0.code == "g" }.map(\.data)
        }
        return records
    }

    static func decoded(_ text: String) -> GantryRecord? {
        try? JSONDecoder().decode(GantryRecord.self, from: Data(text.utf8))
    }

    @Test func everyReferenceRecordReadsAsJSONDecoderReadsIt() throws {
        let records = try Self.referenceRecords()
        #expect(records.count > 500, "the reference transcripts hold Gantry events")
        var kinds: Set<GantryRecord.Kind> = []
        for text in records {
            let scanned = GantryRecordScanner.record(text)
            #expect(scanned != nil, "\(text)")
            #expect(scanned == Self.decoded(text), "\(text)")
            if let scanned { kinds.insert(scanned.kind) }
        }
        #expect(kinds.count >= 12, "many kinds of record were compared: \(kinds)")
    }

    @Test func handWrittenShapesAgree() {
        let cases = [
            #"{"kind":"step","chain":"","digests":[]}"#,
            #" { "kind" : "line" , "chain" : "ab" , "digests" : [ "1" , "2" ] , "text" : "é\u00e9\ud83d\ude00\n" } "#,
            #"{"kind":"line","chain":"","digests":[],"text":null,"depth":null}"#,
            #"{"kind":"line","chain":"","digests":[],"later":{"a":[1,2.5e3,true,null,"x"]},"more":-1}"#,
            #"{"kind":"check","chain":"","digests":[],"expectations":[{"line":3,"expectation":"e","passed":true,"seen":"s","extra":1}]}"#,
            #"{"kind":"status","chain":"","digests":[],"status":-9,"milliseconds":12}"#,
            #"{"kind":"solve","chain":"","digests":[],"commands":["a","b"],"redacted":false}"#,
            // Refused by both: a required key missing or null, a wrong type, an unknown kind,
            // a number that is not an integer, trailing text, a bare control character.
            #"{"kind":"step","digests":[]}"#,
            #"{"kind":"step","chain":null,"digests":[]}"#,
            #"{"kind":"nothing","chain":"","digests":[]}"#,
            #"{"kind":"status","chain":"","digests":[],"status":"0"}"#,
            #"{"kind":"status","chain":"","digests":[],"status":1.5}"#,
            #"{"kind":"status","chain":"","digests":[],"status":99999999999}"#,
            #"{"kind":"step","chain":"","digests":[]} x"#,
            #"{"kind":"step","chain":"","digests":[1]}"#,
            "{\"kind\":\"line\",\"chain\":\"\",\"digests\":[],\"text\":\"a\u{01}b\"}",
            #"["kind","step"]"#, "", "{", "null", #"{"kind":"step","chain":"","digests":[]"#,
        ]
        for text in cases {
            #expect(GantryRecordScanner.record(text) == Self.decoded(text), "\(text)")
        }
        // JSONDecoder is lenient where JSON is not; no writer makes these, so the scanner
        // refuses them.
        for text in [#"{"kind":"step","chain":"","digests":[],}"#, #"{"kind":"status","chain":"","digests":[],"status":1.0}"#] {
            #expect(GantryRecordScanner.record(text) == nil, "\(text)")
        }
    }

    /// Random edits of real records: wherever the scanner reads a record, JSONDecoder reads
    /// the same one; wherever JSONDecoder refuses, so does the scanner. Where only the scanner
    /// refuses, the text is not JSON by Python's `json` (JSONDecoder does not check the values
    /// of keys it does not know, and allows a comma before a closing bracket) or has a
    /// fraction or exponent for an integer.
    @Test func editedRecordsAgree() throws {
        let records = try Self.referenceRecords()
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array(#"{}[],:"\ 0123456789.-eE+tfnulkindchain"#.utf8)
        var accepted = 0, refused = 0, onlyScannerRefused: [String] = []
        for _ in 0..<4000 {
            var bytes = Array(records.randomElement(using: &generator)!.utf8)
            for _ in 0..<Int.random(in: 1...3, using: &generator) {
                let at = Int.random(in: 0..<bytes.count, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: bytes[at] = alphabet.randomElement(using: &generator)!
                case 1: bytes.remove(at: at)
                default: bytes.insert(alphabet.randomElement(using: &generator)!, at: at)
                }
                if bytes.isEmpty { bytes = [0x7b] }
            }
            let text = String(decoding: bytes, as: UTF8.self)
            let scanned = GantryRecordScanner.record(text), decoded = Self.decoded(text)
            if let scanned {
                #expect(scanned == decoded, "\(text)")
                accepted += 1
            } else {
                if decoded != nil, !Self.hasNonIntegerNumber(text) { onlyScannerRefused.append(text) }
                refused += 1
            }
        }
        #expect(accepted > 100 && refused > 100, "both sides were tried: \(accepted) accepted, \(refused) refused")
        let python = "import json, sys\nfor line in sys.stdin:\n    try: json.loads(line)\n    except ValueError: continue\n    print(line, end='')\n"
        let valid = try CommandRunner.run("/usr/bin/env", ["python3", "-c", python], input: onlyScannerRefused.map { $0 + "\n" }.joined())
        #expect(valid.status == 0, "\(valid.error)")
        #expect(valid.output.isEmpty, "JSON that JSONDecoder reads and the scanner refuses:\n\(valid.output)")
    }

    /// Whether a number in the text has a fraction or an exponent (outside strings).
    static func hasNonIntegerNumber(_ text: String) -> Bool {
        var inString = false, escaped = false, inNumber = false
        for byte in text.utf8 {
            if inString {
                if escaped { escaped = false } else if byte == 0x5c { escaped = true } else if byte == 0x22 { inString = false }
                continue
            }
            if byte == 0x22 { inString = true; inNumber = false; continue }
            if (0x30...0x39).contains(byte) || byte == 0x2d { inNumber = true; continue }
            if inNumber && [0x2e, 0x65, 0x45, 0x2b].contains(byte) { return true }
            inNumber = false
        }
        return false
    }
}

/// What `replay --verify` does not hold against a replay: bash's job notices, which come
/// whenever the shell next looks at its jobs.
@Suite struct JobNoticeTests {
    @Test func noticesAreToldFromOutput() {
        for notice in [
            "[#]+  Terminated              while :; do", "[#]-  Done                    sleep #", "[#]   Killed                  yes",
            "[#]+  Stopped                 sleep #", "[#]+  Exit #                  false",
        ] {
            #expect(Verification.isJobNotice(notice), "\(notice)")
        }
        for output in ["[#] #", "[#]", "[#]+", "Terminated", "[x]+  Done", "[#]+Done"] {
            #expect(!Verification.isJobNotice(output), "\(output)")
        }
        // A loop's notice runs on to its `done`; what follows is output again.
        let lines = ["before", "[#]+  Terminated              while :; do", "    :;", "done", "after", "[#]-  Done  sleep #", "last"]
        #expect(Verification.withoutJobNotices(lines) == ["before", "after", "last"])
    }
}
