internal import FoundationEssentials
internal import Glibc
internal import POSIXSupport

/// Why a transcript could not be written or read: the file, the line where known, and
/// what was expected.
public struct TranscriptError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var line: Int?
    public var message: String

    public init(path: String, line: Int? = nil, _ message: String) {
        self.path = path
        self.line = line
        self.message = message
    }

    public var description: String { path + (line.map { ":\($0)" } ?? "") + ": " + message }
}

/// Appends one transcript as the session goes: a line per event, each in one write(2) to a
/// file opened O_APPEND, so a `kill -9` loses at most the line being written and a reader
/// finds every earlier one whole. Gantry's events are checkpoints of the hash chain; the
/// last line seals it.
public final class TranscriptWriter {
    public let path: String
    private let fd: Int32
    private var chain = HashChain()
    private let started = ContinuousClock.now
    public private(set) var sealed = false

    /// Creates `path` (never over an existing file) and writes the header.
    public init(path: String, header: TranscriptHeader) throws(TranscriptError) {
        self.path = path
        do { try POSIX.makeDirectories(POSIX.parentDirectory(of: path), mode: 0o700) } catch {
            throw TranscriptError(path: POSIX.parentDirectory(of: path), "cannot make the transcript directory: \(error.message)")
        }
        do { fd = try POSIX.call { open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0o600) } } catch {
            throw TranscriptError(path: path, "cannot create the transcript: \(error.message)")
        }
        let text: String
        do { text = String(decoding: try TranscriptJSON.encoder.encode(header), as: UTF8.self) } catch {
            close(fd)
            throw TranscriptError(path: path, "cannot encode the header: \(error)")
        }
        do { try append(text) } catch {
            close(fd)
            throw error
        }
    }

    deinit { if !sealed { close(fd) } }

    /// Seconds since the header was written.
    public var elapsed: Double {
        let parts = started.duration(to: .now).components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }

    /// An asciicast event: `o` output, `i` input, `m` marker, `r` resize.
    public func event(_ code: String, _ data: String) throws(TranscriptError) {
        try append(TranscriptJSON.eventLine(time: elapsed, code: code, data: data))
    }

    /// One of Gantry's own events, carrying the chain's checkpoint.
    public func record(_ record: GantryRecord) throws(TranscriptError) {
        var record = record
        (record.chain, record.digests) = chain.checkpoint()
        let data: String
        do { data = String(decoding: try TranscriptJSON.encoder.encode(record), as: UTF8.self) } catch {
            throw TranscriptError(path: path, "cannot encode a \(record.kind.rawValue) event: \(error)")
        }
        try event("g", data)
    }

    /// The end event with `reason`, then the seal (the chain's last checkpoint); the file
    /// is flushed to disk and closed. Nothing may be written after.
    public func seal(reason: String) throws(TranscriptError) {
        guard !sealed else { return }
        var end = GantryRecord(kind: .end)
        end.reason = reason
        try record(end)
        var seal = GantryRecord(kind: .seal)
        (seal.chain, seal.digests) = chain.checkpoint()
        seal.seal = Transcript.sealPlaceholder
        let data: String
        do { data = String(decoding: try TranscriptJSON.encoder.encode(seal), as: UTF8.self) } catch {
            throw TranscriptError(path: path, "cannot encode the seal: \(error)")
        }
        let unsealed = TranscriptJSON.eventLine(time: elapsed, code: "g", data: data)
        let digest = SHA256.hexDigest(chain.link + Array(unsealed.utf8))
        try append(unsealed.replacing(Transcript.sealPlaceholder, with: digest))
        sealed = true
        fsync(fd)
        close(fd)
    }

    private func append(_ line: String) throws(TranscriptError) {
        guard !sealed else { throw TranscriptError(path: path, "the transcript is sealed; nothing more can be added") }
        let bytes = Array(line.utf8)
        do { try POSIX.writeAll(fd, bytes + [0x0a]) } catch {
            throw TranscriptError(path: path, "cannot append to the transcript: \(error.message)")
        }
        chain.append(bytes)
    }
}
