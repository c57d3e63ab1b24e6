internal import Glibc

/// C strings and arrays that must outlive a call into CGantry: the child reads them after
/// clone, so they are allocated before and freed only when this arena goes away.
final class CArena {
    private var allocations: [UnsafeMutableRawPointer] = []

    deinit {
        for pointer in allocations { free(pointer) }
    }

    func string(_ string: String) -> UnsafePointer<CChar> {
        let copy = strdup(string)!
        allocations.append(UnsafeMutableRawPointer(copy))
        return UnsafePointer(copy)
    }

    func string(_ string: String?) -> UnsafePointer<CChar>? {
        string.map { self.string($0) }
    }

    /// A NULL-terminated array, as execve wants for argv and envp.
    func stringArray(_ strings: [String]) -> UnsafePointer<UnsafePointer<CChar>?> {
        let array = array(of: UnsafePointer<CChar>?.self, count: strings.count + 1)
        for (index, string) in strings.enumerated() { array[index] = self.string(string) }
        array[strings.count] = nil
        return UnsafePointer(array)
    }

    func array<T>(of type: T.Type, count: Int) -> UnsafeMutablePointer<T> {
        let raw = calloc(max(count, 1), MemoryLayout<T>.stride)!
        allocations.append(raw)
        return raw.bindMemory(to: T.self, capacity: max(count, 1))
    }
}
