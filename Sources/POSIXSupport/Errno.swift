internal import CGantry
internal import Glibc

/// An error number a system call set, with its symbolic name and the C library's message:
/// what swift-system's `Errno` is, kept here so the engine needs no package for it. Every
/// Gantry error that wraps a failed call carries one as its `cause`.
/// `description` reads `EINVAL (Invalid argument)`.
public struct Errno: Error, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32

    public init(_ rawValue: Int32) { self.rawValue = rawValue }

    /// The calling thread's errno now; read it right after the failing call.
    public static var current: Errno { Errno(Glibc.errno) }

    /// `EINVAL`; `errno 4242` for a number the C library has no name for.
    public var name: String { gantry_errno_name(rawValue).map { String(cString: $0) } ?? "errno \(rawValue)" }

    /// `Invalid argument`.
    public var message: String { String(cString: strerror(rawValue)) }

    public var description: String { "\(name) (\(message))" }

    // The values code compares against, by the names the man pages use.
    public static let notPermitted = Errno(EPERM), noSuchFile = Errno(ENOENT), interrupted = Errno(EINTR)
    public static let noSuchProcess = Errno(ESRCH), tryAgain = Errno(EAGAIN), busy = Errno(EBUSY)
    public static let exists = Errno(EEXIST), invalid = Errno(EINVAL), accessDenied = Errno(EACCES)
    public static let io = Errno(EIO), notSupported = Errno(EOPNOTSUPP), noDevice = Errno(ENODEV)
}

extension POSIX {
    /// Runs one system call that returns -1 and sets errno when it fails, and returns what it
    /// returned. errno is read right after the call, before anything (an interpolation, a
    /// lock, a close) can change it; EINTR is retried unless `retryOnInterrupt` is false
    /// (`close`, whose descriptor is gone after EINTR, and waits that recompute a deadline).
    /// swift-system's `valueOrErrno(retryOnInterrupt:)` is the model.
    @discardableResult
    public static func call<Result: FixedWidthInteger>(retryOnInterrupt: Bool = true, _ body: () -> Result) throws(Errno) -> Result {
        while true {
            let result = body()
            if result != -1 { return result }
            let error = Errno.current
            if retryOnInterrupt && error == .interrupted { continue }
            throw error
        }
    }

    /// The same for calls that return a pointer, NULL on failure (`opendir`, `fopen`).
    public static func call<Pointer>(_ body: () -> Pointer?) throws(Errno) -> Pointer {
        while true {
            if let result = body() { return result }
            let error = Errno.current
            if error == .interrupted { continue }
            throw error
        }
    }

    /// Writes all of `bytes` to `fd`: a pipe, socket or terminal takes part of a write when
    /// it is nearly full, and a signal can interrupt one; both are carried on from where they
    /// stopped. A non-blocking descriptor that is full throws `.tryAgain` with the count
    /// written so far lost to the caller, so use this on blocking descriptors.
    public static func writeAll(_ fd: Int32, _ bytes: ArraySlice<UInt8>) throws(Errno) {
        // Not generic over Collection: an unspecialized copy into an Array made the runtime
        // look up conformances by scanning all of them, the first time, in every process.
        var written = 0
        while written < bytes.count {
            written += try call { bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, $0.count - written) } }
        }
    }

    public static func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws(Errno) { try writeAll(fd, bytes[...]) }

    /// `writeAll` of a string's UTF-8.
    public static func writeAll(_ fd: Int32, _ text: String) throws(Errno) { try writeAll(fd, Array(text.utf8)) }
}

extension Result {
    /// Whether it is `.success`: for a call whose failure is only reported.
    public var isSuccess: Bool { if case .success = self { true } else { false } }
    /// The error of a `.failure`.
    public var failure: Failure? { if case .failure(let error) = self { error } else { nil } }
}
