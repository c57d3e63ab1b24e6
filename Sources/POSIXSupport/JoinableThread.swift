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

/// A value made on a thread of its own while the caller goes on: `value` waits for it.
/// Without a thread (none could be started), `value` makes it on the caller's.
public final class Background<Value>: @unchecked Sendable {
    // @unchecked: `made` is written by the thread alone, and read only after it was joined
    // (or, without a thread, by the caller of `value` alone).
    private let thread: JoinableThread?
    private let box = Box()
    private let make: () -> Value

    private final class Box: @unchecked Sendable {
        var made: Value?
    }

    /// Starts `make` now.
    public init(_ make: @escaping () -> Value) {
        self.make = make
        let box = self.box
        thread = try? JoinableThread { box.made = make() }
    }

    /// What `make` returned, once it has.
    public var value: Value {
        thread?.join()
        if box.made == nil { box.made = make() }
        return box.made!
    }
}
