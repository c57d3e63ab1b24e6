internal import CGantry
internal import Glibc
public import POSIXSupport

/// Signals taken from a signalfd instead of handlers: blocked on the calling thread from
/// creation until deinit, so none is lost (they queue until read) and none interrupts a
/// blocking call or readline halfway through a redraw. Processes spawned later start with
/// an empty mask (the spawn code resets it).
///
/// Create it before other threads start, or they keep the signals unblocked.
public final class SignalQueue {
    /// Readable when a signal is pending.
    public let descriptor: Int32
    private var previousMask = sigset_t()

    public init(_ signals: [Int32]) throws(Errno) {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in signals { sigaddset(&set, signal) }
        pthread_sigmask(SIG_BLOCK, &set, &previousMask)
        do { descriptor = try POSIX.call { signalfd(-1, &set, Int32(SFD_CLOEXEC | SFD_NONBLOCK)) } } catch {
            pthread_sigmask(SIG_SETMASK, &previousMask, nil)
            throw error
        }
    }

    deinit {
        close(descriptor)
        pthread_sigmask(SIG_SETMASK, &previousMask, nil)
    }

    /// The next pending signal, or nil. `fromKernel` is true for one the kernel sent (a
    /// terminal's Ctrl-C to its whole foreground group), false for one kill(2) sent.
    public func next() -> (signal: Int32, fromKernel: Bool)? {
        var info = signalfd_siginfo()
        let size = MemoryLayout<signalfd_siginfo>.size
        guard read(descriptor, &info, size) == size else { return nil }
        return (Int32(info.ssi_signo), info.ssi_code == SI_KERNEL)
    }
}
