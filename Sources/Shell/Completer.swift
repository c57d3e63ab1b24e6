internal import Glibc
internal import POSIXSupport

/// What Tab offers: meta-commands and their arguments (lesson ids, step numbers, languages)
/// after a `:`, otherwise commands and paths *inside the lab*, as the shell the learner is
/// typing to sees them (its root and working directory, so `chroot newroot` or a nested
/// mount namespace are followed).
struct Completer {
    var lessonIDs: [String] = []
    var stepCount = 0
    var languages = ["en", "ko"]
    /// Entries of a directory as the learner's shell sees it (a relative path from its
    /// working directory): name and whether it is a directory.
    var listDirectory: (String) -> [(name: String, isDirectory: Bool)] = { _ in [] }

    /// Candidates for `word`, which starts at `wordStart` in `line`.
    func candidates(line: String, wordStart: Int, word: String) -> [String] {
        let before = String(line.prefix(wordStart))
        let previous = before.split(separator: " ").map(String.init)
        if line.hasPrefix(":") {
            if previous.isEmpty {
                return MetaCommand.catalog.map { ":" + $0.name }.filter { $0.hasPrefix(word) }
            }
            guard previous.count == 1 else { return [] }
            switch previous[0] {
            case ":open": return lessonIDs.filter { $0.hasPrefix(word) }
            case ":lang": return languages.filter { $0.hasPrefix(word) }
            case ":step": return stepCount > 0 ? (1...stepCount).map(String.init).filter { $0.hasPrefix(word) } : []
            default: return []
            }
        }
        let firstWord = previous.isEmpty || ["|", "&&", "||", ";", "sudo", "exec"].contains(previous.last!)
        if firstWord && !word.contains("/") {
            return commands(prefix: word)
        }
        return paths(prefix: word)
    }

    /// Executables in the lab's usual PATH directories.
    func commands(prefix: String) -> [String] {
        var names: Set<String> = []
        for directory in ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"] {
            for entry in listDirectory(directory) where !entry.isDirectory && entry.name.hasPrefix(prefix) {
                names.insert(entry.name)
            }
        }
        return names.sorted()
    }

    func paths(prefix: String) -> [String] {
        let slash = prefix.lastIndex(of: "/")
        let directoryPart = slash.map { String(prefix[...$0]) } ?? ""
        let namePart = slash.map { String(prefix[prefix.index(after: $0)...]) } ?? prefix
        let listed = listDirectory(directoryPart.isEmpty ? "." : directoryPart)
        return
            listed
            .filter { $0.name.hasPrefix(namePart) && (namePart.hasPrefix(".") || !$0.name.hasPrefix(".")) }
            .map { directoryPart + $0.name + ($0.isDirectory ? "/" : "") }
            .sorted()
    }

    /// A lister that looks through /proc/PID/root and /proc/PID/cwd of the process the
    /// learner is typing to: those links lead into its mount namespace and chroot.
    static func labLister(process: @escaping () -> Int32?) -> (String) -> [(name: String, isDirectory: Bool)] {
        { path in
            guard let pid = process() else { return [] }
            let base = path.hasPrefix("/") ? "/proc/\(pid)/root" : "/proc/\(pid)/cwd/"
            let directory = base + path
            return POSIX.list(directory).map { name in
                var status = stat()
                let isDirectory = stat(directory + "/" + name, &status) == 0 && (status.st_mode & S_IFMT) == S_IFDIR
                return (name, isDirectory)
            }
        }
    }
}
