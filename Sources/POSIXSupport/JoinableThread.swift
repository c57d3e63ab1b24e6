internal import Glibc

/// One closure on a pthread of its own, waited for with `join`. For work that must run on a
/// thread that ends after it (a thread that joined a namespace takes the namespace with it)
/// and for work that only waits on the kernel and can overlap with the caller's.
public final class JoinableThread: @unchecked Sendable {
    // @unchecked: the closure runs on exactly one thread, and `join` orders what it wrote
    // before whatever the caller reads after.
    private let work: () -> Void
    private var thread = pthread_t()
    private var joined = false

    /// Starts `work` now.
    public init(_ work: @escaping () -> Void) throws(Errno) {
        self.work = work
        let context = Unmanaged.passRetained(self).toOpaque()
        let created = pthread_create(
            &thread, nil,
            { context in
                let started = Unmanaged<JoinableThread>.fromOpaque(context!).takeRetainedValue()
                started.work()
                return nil
            }, context)
        guard created == 0 else {
            Unmanaged<JoinableThread>.fromOpaque(context).release()
            joined = true
            throw Errno(created)
        }
    }

    /// Waits until `work` has returned. Safe to call twice.
    public func join() {
        guard !joined else { return }
        joined = true
        pthread_join(thread, nil)
    }

    deinit { join() }
}
