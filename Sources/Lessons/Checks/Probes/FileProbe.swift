internal import Glibc
internal import Isolation
internal import Lab
internal import POSIXSupport

/// `file path=P [exists=no] [contains=TEXT] [type=directory] [process=Q]`: a file as the lab
/// (or process Q's mount namespace) resolves it — symlinks followed inside the lab, never
/// onto the host.
struct FileProbe: Probe {
    static let summary = "a file as the lab (or a process's mount namespace) sees it: exists, type, contents"
    static let types = ["file", "directory", "symlink", "device", "fifo", "socket", "whiteout"]
    var path: String
    var exists: Bool?
    var contains: TextCondition?
    var type: TextCondition?
    var process: ProcessSelector?

    init(_ arguments: inout CheckArguments) throws(LessonError) {
        path = try arguments.requiredText("path").value
        exists = try arguments.flag("exists")
        contains = try arguments.text("contains")
        type = try arguments.choice("type", Self.types)
        process = try arguments.process("process")
        try arguments.finish()
    }

    var place: Message {
        process.map { Message(" for \($0.named.en)", ko: " (\($0.named.ko) 기준)") } ?? Message(verbatim: "")
    }

    var expectation: Message {
        if exists == false { return Message("\(path) does not exist", ko: "\(path)이(가) 없음") + place }
        var text = Message("\(path) exists", ko: "\(path)이(가) 있음")
        if let type {
            text = Message("\(path) is \(type.op == .equal ? "a" : "not a") \(type.value)", ko: "\(path)이(가) \(type.value)\(type.op == .equal ? "임" : "가 아님")")
        }
        if let contains {
            let verb = contains.op == .equal ? "holds" : contains.op == .notEqual ? "does not hold" : contains.op == .matches ? "matches" : "does not match"
            text =
                text
                + Message(" and \(verb) '\(contains.value)'", ko: ", '\(contains.value)' \(contains.op == .equal || contains.op == .matches ? "포함" : "미포함")")
        }
        return text + place
    }

    func evaluate(_ context: ProbeContext) -> ProbeOutcome {
        let pid: Int32
        switch ProcessSelector.viewer(process, context) {
        case .failure(let unresolved): return ProbeOutcome(false, unresolved.message)
        case .success(let found): pid = found
        }
        let fd = ProcessRoot.open(path, of: pid, only: type?.value == "symlink" ? .locatingItself : .locating)
        let found = fd >= 0
        var info = stat()
        if found { fstat(fd, &info); close(fd) }
        let isThere = Message("\(path) exists", ko: "\(path)이(가) 있습니다") + place
        let isNot = Message("\(path) does not exist", ko: "\(path)이(가) 없습니다") + place
        if exists == false { return ProbeOutcome(!found, found ? isThere : isNot) }
        guard found else { return ProbeOutcome(false, isNot) }
        if let type {
            let actual = Self.kind(info)
            if (actual == type.value) != (type.op == .equal) {
                return ProbeOutcome(false, Message("\(path) is a \(actual)", ko: "\(path)은(는) \(actual)입니다"))
            }
        }
        if let contains {
            let reader = ProcessRoot.open(path, of: pid)
            guard reader >= 0 else { return ProbeOutcome(false, Message("\(path) cannot be read", ko: "\(path)을(를) 읽을 수 없습니다")) }
            let text = String(decoding: POSIX.readToEnd(reader), as: UTF8.self)
            close(reader)
            let holds: Bool =
                switch contains.op {
                case .equal: text.contains(contains.value)
                case .notEqual: !text.contains(contains.value)
                default: contains.holds(text)
                }
            let shown = text.count > 60 ? String(text.prefix(60)) + "…" : text
            return ProbeOutcome(
                holds,
                holds
                    ? Message("\(path) holds what it should", ko: "\(path)에 기대한 내용이 있습니다")
                    : Message("\(path) holds '\(shown.trimmed)'", ko: "\(path)의 내용은 '\(shown.trimmed)'입니다"), wrong: !text.isEmpty)
        }
        return ProbeOutcome(true, isThere)
    }

    static func kind(_ info: stat) -> String {
        switch info.st_mode & S_IFMT {
        case S_IFDIR: return "directory"
        case S_IFLNK: return "symlink"
        case S_IFIFO: return "fifo"
        case S_IFSOCK: return "socket"
        case S_IFCHR: return info.st_rdev == 0 ? "whiteout" : "device"
        case S_IFBLK: return "device"
        default: return "file"
        }
    }
}

/// `mount path=P [exists=no] [type=tmpfs] [options~=ro] [count=1] [process=Q]`: what a path
/// lookup finds mounted at P for the lab or process Q (mounts hidden under another one are
/// not there), how many are stacked there, and with which options.
struct MountProbe: Probe {
    static let summary = "a mount point as the lab or a process sees it: type, options, how many are stacked there"
    var path: String
    var exists: Bool
    var type: TextCondition?
    var options: TextCondition?
    var count: [NumberCondition]
    var process: ProcessSelector?

    init(_ arguments: inout CheckArguments) throws(LessonError) {
        path = try arguments.requiredText("path").value
        exists = try arguments.flag("exists") ?? true
        type = try arguments.text("type")
        options = try arguments.text("options")
        count = try arguments.numbers("count")
        process = try arguments.process("process")
        try arguments.finish()
    }

    var expectation: Message {
        let place = process.map { Message(" for \($0.named.en)", ko: " (\($0.named.ko) 기준)") } ?? Message(verbatim: "")
        if !exists { return Message("nothing is mounted at \(path)", ko: "\(path)에 마운트된 것이 없음") + place }
        var text = Message(
            "\(type.map { "a \($0.expected.en) filesystem" } ?? "something") is mounted at \(path)",
            ko: "\(path)에 \(type.map { "\($0.expected.ko) 파일시스템" } ?? "무언가")이(가) 마운트됨")
        if let options { text = text + Message(", options \(options.expected.en)", ko: ", 옵션 \(options.expected.ko)") }
        if !count.isEmpty { text = text + Message(", \(count.expected.en) mount(s) there", ko: ", 마운트 \(count.expected.ko)개") }
        return text + place
    }

    func evaluate(_ context: ProbeContext) -> ProbeOutcome {
        let pid: Int32
        switch ProcessSelector.viewer(process, context) {
        case .failure(let unresolved): return ProbeOutcome(false, unresolved.message)
        case .success(let found): pid = found
        }
        let all = ProcFS.mounts(String(pid))
        let visible = ProcFS.visible(all)
        let normalized = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
        let stack = visible.filter { $0.mountPoint == normalized }
        // The one a lookup finds: the one nothing else is mounted on top of.
        let top = stack.last
        guard let top else {
            return ProbeOutcome(!exists, Message("nothing is mounted at \(path)", ko: "\(path)에 마운트된 것이 없습니다"))
        }
        let described = Message(
            "\(path) has \(top.type) mounted (\(top.options.joined(separator: ",")))",
            ko: "\(path)에 \(top.type)이(가) 마운트되어 있습니다 (\(top.options.joined(separator: ",")))")
        guard exists else { return ProbeOutcome(false, described + Message(" — unmount it with `umount \(path)`", ko: " — `umount \(path)`로 해제하세요")) }
        var holds = true
        if let type, !type.holds(top.type) { holds = false }
        if let options {
            let list = top.options + top.superOptions
            let ok: Bool =
                switch options.op {
                case .equal: list.contains(options.value)
                case .notEqual: !list.contains(options.value)
                default: options.holds(list.joined(separator: ","))
                }
            if !ok { holds = false }
        }
        // Stacked: every visible or covered mount at the path, as `mount` lists them.
        let stacked = all.filter { $0.mountPoint == normalized }.count
        if !count.isEmpty && !count.holds(Double(stacked)) {
            return ProbeOutcome(
                false,
                described
                    + Message(
                        ", \(stacked) mounts stacked there, expected \(count.expected.en)",
                        ko: ", 그 자리에 마운트가 \(stacked)개 쌓여 있습니다. \(count.expected.ko)개여야 합니다"))
        }
        return ProbeOutcome(holds, described, wrong: true)
    }
}

extension ProcessSelector {
    /// The host pid whose view of the lab a file or mount probe takes: the named process's
    /// (the newest, when several match), else the lab's init's.
    static func viewer(_ selector: ProcessSelector?, _ context: ProbeContext) -> Result<Int32, Unresolved> {
        guard let selector else { return .success(context.lab.initProcess.pid) }
        return selector.resolve(context).map { $0.last!.hostPid }
    }
}
