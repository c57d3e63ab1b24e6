internal import Isolation
internal import Lab
internal import Netlink

/// `netns name=N [exists=no]`: a named network namespace in the lab (`ip netns add N`).
struct NetnsProbe: Probe {
    static let summary = "a named network namespace in the lab (ip netns add)"
    var name: String
    var exists: Bool

    init(_ arguments: inout CheckArguments) throws(LessonError) {
        name = try arguments.requiredText("name").value
        exists = try arguments.flag("exists") ?? true
        try arguments.finish()
    }

    var expectation: Message {
        exists
            ? Message("network namespace \(name) exists", ko: "네트워크 네임스페이스 \(name)이(가) 있음")
            : Message("there is no network namespace \(name)", ko: "네트워크 네임스페이스 \(name)이(가) 없음")
    }

    func evaluate(_ context: ProbeContext) -> ProbeOutcome {
        let names = context.lab.networkNamespaces().value
        let found = names.contains(name)
        let others = names.filter { $0 != name }
        if found {
            return ProbeOutcome(
                exists,
                Message("network namespace \(name) exists", ko: "네트워크 네임스페이스 \(name)이(가) 있습니다")
                    + (exists ? Message(verbatim: "") : Message(" — `ip netns delete \(name)` removes it", ko: " — `ip netns delete \(name)`로 지우세요")))
        }
        var message = Message("there is no network namespace \(name)", ko: "네트워크 네임스페이스 \(name)이(가) 없습니다")
        if exists {
            message =
                message
                + (others.isEmpty
                    ? Message(": `ip netns add \(name)` makes it", ko: ": `ip netns add \(name)`로 만드세요")
                    : Message(
                        " (the lab has \(others.joined(separator: ", ")); `ip netns add \(name)` makes the one this lesson uses)",
                        ko: " (랩에는 \(others.joined(separator: ", "))이(가) 있습니다. 이 레슨은 `ip netns add \(name)`로 만든 것을 씁니다)"))
        }
        return ProbeOutcome(!exists, message, wrong: exists && !others.isEmpty)
    }
}

/// Where a link lives: the lab's own network namespace or a named one.
func place(_ netns: String?) -> Message {
    netns.map { Message("network namespace \($0)", ko: "네트워크 네임스페이스 \($0)") } ?? Message("the lab", ko: "랩")
}

/// A missing named namespace, said the same way by every probe.
func missingNamespace(_ netns: String) -> Message {
    Message("there is no network namespace \(netns) (`ip netns add \(netns)`)", ko: "네트워크 네임스페이스 \(netns)이(가) 없습니다 (`ip netns add \(netns)`)")
}

/// `link name=L [netns=N] [exists=no] [state=up] [kind=veth] [address=A/P] [network=NET/P]
/// [master=BR] [peer-netns=other] [mtu=1500]`: a network interface in the lab or a named
/// network namespace.
struct LinkProbe: Probe {
    static let summary = "a network link: state, kind, addresses (exact, or any in a network), master, veth peer, MTU"
    var name: String
    var netns: String?
    var exists: Bool
    var state: TextCondition?
    var kind: TextCondition?
    var address: TextCondition?
    var network: InterfaceAddress?
    var master: TextCondition?
    var peerElsewhere: TextCondition?
    var mtu: [NumberCondition]

    init(_ arguments: inout CheckArguments) throws(LessonError) {
        name = try arguments.requiredText("name").value
        netns = try arguments.text("netns", [.equal])?.value
        exists = try arguments.flag("exists") ?? true
        state = try arguments.choice("state", ["up", "down"])
        kind = try arguments.text("kind", Operator.equality)
        address = try arguments.text("address", Operator.equality)
        if let address, (try? InterfaceAddress(parsing: address.value)) == nil {
            throw LessonError(file: arguments.file, line: arguments.line, "address '\(address.value)' is not ADDRESS/PREFIX, like 172.16.0.2/24")
        }
        if let text = try arguments.text("network", [.equal])?.value {
            guard let parsed = try? InterfaceAddress(parsing: text) else {
                throw LessonError(file: arguments.file, line: arguments.line, "network '\(text)' is not NETWORK/PREFIX, like 172.16.0.0/24")
            }
            network = parsed
        }
        master = try arguments.text("master", Operator.equality)
        peerElsewhere = try arguments.choice("peer-netns", ["other", "same"])
        mtu = try arguments.numbers("mtu")
        try arguments.finish()
    }

    var expectation: Message {
        let here = place(netns)
        if !exists { return Message("\(here.en) has no link \(name)", ko: "\(here.ko)에 링크 \(name)이(가) 없음") }
        var parts: [Message] = []
        if let kind {
            parts.append(Message(kind.op == .equal ? "a \(kind.value)" : "not a \(kind.value)", ko: kind.op == .equal ? "\(kind.value)" : "\(kind.value) 아님"))
        }
        if let state { parts.append(Message(state.value == "up" ? "up" : "down", ko: state.value == "up" ? "켜짐(up)" : "꺼짐(down)")) }
        if let address {
            parts.append(
                Message(
                    address.op == .equal ? "with \(address.value)" : "without \(address.value)",
                    ko: address.op == .equal ? "주소 \(address.value)" : "주소 \(address.value) 없음"))
        }
        if let network { parts.append(Message("with an address in \(network)", ko: "\(network) 안의 주소")) }
        if let master {
            parts.append(
                Message(
                    master.op == .equal ? "plugged into \(master.value)" : "not plugged into \(master.value)",
                    ko: master.op == .equal ? "\(master.value)에 연결됨" : "\(master.value)에 연결되지 않음"))
        }
        if let peerElsewhere {
            parts.append(
                (peerElsewhere.value == "other") == (peerElsewhere.op == .equal)
                    ? Message("its peer in another namespace", ko: "짝은 다른 네임스페이스에") : Message("its peer in the same namespace", ko: "짝은 같은 네임스페이스에"))
        }
        if !mtu.isEmpty { parts.append(Message("MTU \(mtu.expected.en)", ko: "MTU \(mtu.expected.ko)")) }
        return Message("\(name) in \(here.en)", ko: "\(here.ko)의 \(name)")
            + (parts.isEmpty
                ? Message(" exists", ko: "이(가) 있음")
                : Message(": ", ko: ": ") + Message.joined(parts, separator: Message(", ", ko: ", ")))
    }

    func evaluate(_ context: ProbeContext) -> ProbeOutcome {
        let lab = context.lab
        if let netns, !lab.networkNamespaces().value.contains(netns) { return ProbeOutcome(false, missingNamespace(netns)) }
        let here = place(netns)
        let links: [Link]
        do { links = try lab.links(inNetworkNamespace: netns).value } catch {
            return ProbeOutcome(false, Message("cannot read the links of \(here.en): \(error)", ko: "\(here.ko)의 링크를 읽을 수 없습니다: \(error)"))
        }
        guard let link = links.first(where: { $0.name == name }) else {
            let names = links.map(\.name).joined(separator: ", ")
            return ProbeOutcome(!exists, Message("\(here.en) has no link \(name) (it has \(names))", ko: "\(here.ko)에 링크 \(name)이(가) 없습니다 (있는 것: \(names))"))
        }
        if !exists { return ProbeOutcome(false, Message("\(name) still exists in \(here.en)", ko: "\(here.ko)에 \(name)이(가) 아직 있습니다")) }
        var problems: [Message] = []
        var mistaken = false
        var seen: [String] = [link.isUp ? "UP" : "DOWN"]
        if let state, (link.isUp == (state.value == "up")) != (state.op == .equal) {
            problems.append(
                link.isUp
                    ? Message("it is up; `ip\(netnsFlag) link set \(name) down` turns it off", ko: "켜져 있습니다; `ip\(netnsFlag) link set \(name) down`으로 끄세요")
                    : Message("it is down: `ip\(netnsFlag) link set \(name) up`", ko: "꺼져 있습니다: `ip\(netnsFlag) link set \(name) up`"))
        }
        if let kind {
            seen.append("kind \(link.kind ?? "none")")
            if !kind.holds(link.kind ?? "none") {
                mistaken = true;
                problems.append(
                    Message(
                        "it is a \(link.kind ?? "device without a kind"), expected \(kind.expected.en)",
                        ko: "\(link.kind ?? "종류 없는 장치")입니다. \(kind.expected.ko)여야 합니다"))
            }
        }
        if address != nil || network != nil {
            let addresses = ((try? lab.addresses(inNetworkNamespace: netns, link: name).value) ?? [])
            let texts = addresses.map(\.description)
            seen.append(texts.isEmpty ? "no address" : texts.joined(separator: ", "))
            if let address, !address.holds(any: texts) {
                mistaken = mistaken || addresses.contains { $0.address.isIPv4 }
                problems.append(
                    texts.isEmpty
                        ? Message(
                            "it has no address: `ip\(netnsFlag) address add \(address.value) dev \(name)`",
                            ko: "주소가 없습니다: `ip\(netnsFlag) address add \(address.value) dev \(name)`")
                        : Message(
                            "it has \(texts.joined(separator: ", ")), expected \(address.expected.en)",
                            ko: "주소가 \(texts.joined(separator: ", "))입니다. \(address.expected.ko)이어야 합니다"))
            }
            if let network, !addresses.contains(where: { $0.isIn(network) }) {
                mistaken = mistaken || addresses.contains { $0.address.isIPv4 == network.address.isIPv4 && !$0.address.description.hasPrefix("fe80") }
                problems.append(
                    Message(
                        "it has \(texts.isEmpty ? "no address" : texts.joined(separator: ", ")), none in \(network): give it one, e.g. `ip\(netnsFlag) address add \(network.example) dev \(name)`",
                        ko:
                            "주소가 \(texts.isEmpty ? "없고" : texts.joined(separator: ", ")+"이고"), \(network) 안의 주소가 없습니다: 예를 들어 `ip\(netnsFlag) address add \(network.example) dev \(name)`"
                    ))
            }
        }
        if let master {
            let masterName = links.first { $0.index == link.master }?.name ?? "none"
            seen.append("master \(masterName)")
            if !master.holds(masterName) {
                mistaken = mistaken || masterName != "none"
                problems.append(
                    masterName == "none"
                        ? Message(
                            "it is plugged into nothing: `ip link set \(name) master \(master.value)`",
                            ko: "아무 데도 연결되지 않았습니다: `ip link set \(name) master \(master.value)`")
                        : Message(
                            "it is plugged into \(masterName), expected \(master.expected.en)", ko: "\(masterName)에 연결되어 있습니다. \(master.expected.ko)여야 합니다"))
            }
        }
        if let peerElsewhere {
            let elsewhere = link.peerNamespaceID != nil
            seen.append(elsewhere ? "peer in another namespace" : "peer here")
            if elsewhere != ((peerElsewhere.value == "other") == (peerElsewhere.op == .equal)) {
                problems.append(
                    elsewhere
                        ? Message("its peer is in another namespace", ko: "짝이 다른 네임스페이스에 있습니다")
                        : Message("its peer is still here: move it with `ip link set PEER netns NAME`", ko: "짝이 아직 여기 있습니다: `ip link set 짝 netns 이름`으로 옮기세요"))
            }
        }
        if !mtu.isEmpty, let value = link.mtu, !mtu.holds(Double(value)) {
            problems.append(Message("its MTU is \(value), expected \(mtu.expected.en)", ko: "MTU가 \(value)입니다. \(mtu.expected.ko)이어야 합니다"))
        }
        let summary = Message("\(name) in \(here.en): \(seen.joined(separator: ", "))", ko: "\(here.ko)의 \(name): \(seen.joined(separator: ", "))")
        return problems.isEmpty
            ? ProbeOutcome(true, summary)
            : ProbeOutcome(false, Message("\(name) in \(here.en): ", ko: "\(here.ko)의 \(name): ") + Message.joined(problems), wrong: mistaken)
    }

    var netnsFlag: String { netns.map { " -n \($0)" } ?? "" }
}

/// `ping to=ADDRESS|NETNS/LINK [from=NETNS] [reachable=no] [count=N]`: ICMP echo from the lab
/// or a named namespace — to an address, or to whatever address a link has (so a learner
/// who chose 172.16.0.3 is asked to reach 172.16.0.3).
struct PingProbe: Probe {
    static let summary = "ICMP echo from the lab or a named netns, to an address or to a link's own address (NETNS/LINK)"
    enum Target: Sendable, Equatable {
        case address(IPAddress)
        case link(netns: String?, name: String)
    }
    var target: Target
    var from: String?
    var reachable: Bool
    var count: Int

    init(_ arguments: inout CheckArguments) throws(LessonError) {
        let to = try arguments.requiredText("to").value
        if let address = IPAddress(to) {
            target = .address(address)
        } else {
            let parts = to.split(separator: "/", maxSplits: 1).map(String.init)
            guard !to.isEmpty, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isLetter || $0.isNumber || "-_.".contains($0) } }) else {
                throw LessonError(file: arguments.file, line: arguments.line, "to='\(to)' is neither an IP address nor NETNS/LINK (like testnet/veth1)")
            }
            target = parts.count == 2 ? .link(netns: parts[0] == "lab" ? nil : parts[0], name: parts[1]) : .link(netns: nil, name: parts[0])
        }
        from = try arguments.text("from", [.equal])?.value.nilIfLab
        reachable = try arguments.flag("reachable") ?? true
        count = Int(try arguments.numbers("count").first?.value ?? 1)
        try arguments.finish()
    }

    var targetText: String {
        switch target {
        case .address(let address): address.description
        case .link(let netns, let name): "\(name)\(netns.map { " in \($0)" } ?? "")"
        }
    }

    var expectation: Message {
        let source = place(from)
        return reachable
            ? Message("\(source.en) reaches \(targetText) (ping)", ko: "\(source.ko)에서 \(targetText)(으)로 ping이 감")
            : Message("\(source.en) does not reach \(targetText)", ko: "\(source.ko)에서 \(targetText)(으)로 ping이 가지 않음")
    }

    func evaluate(_ context: ProbeContext) -> ProbeOutcome {
        let lab = context.lab
        let namespaces = lab.networkNamespaces().value
        if let from, !namespaces.contains(from) { return ProbeOutcome(false, missingNamespace(from)) }
        let address: IPAddress
        switch target {
        case .address(let given): address = given
        case .link(let netns, let name):
            if let netns, !namespaces.contains(netns) { return ProbeOutcome(false, missingNamespace(netns)) }
            let addresses = (try? lab.addresses(inNetworkNamespace: netns, link: name).value) ?? []
            guard let first = addresses.first(where: { $0.address.isIPv4 }) ?? addresses.first else {
                return ProbeOutcome(false, Message("\(name) in \(place(netns).en) has no address to ping", ko: "\(place(netns).ko)의 \(name)에 ping할 주소가 없습니다"))
            }
            address = first.address
        }
        let timeout = context.thorough ? 600 : 300
        guard let result = try? lab.ping(address, fromNetworkNamespace: from, count: count, timeoutMilliseconds: timeout).value else {
            return ProbeOutcome(false, Message("cannot ping \(address) from \(place(from).en)", ko: "\(place(from).ko)에서 \(address)(으)로 ping할 수 없습니다"))
        }
        let seen = Message("from \(place(from).en): \(result)", ko: "\(place(from).ko)에서: \(result)")
        if result.reachable == reachable { return ProbeOutcome(true, seen) }
        return ProbeOutcome(
            false,
            reachable
                ? seen
                    + Message(
                        " — no reply: both ends need to be up, with addresses in one network",
                        ko: " — 응답이 없습니다: 양쪽이 모두 켜져 있고 같은 네트워크의 주소를 가져야 합니다")
                : seen)
    }
}

private extension String {
    var nilIfLab: String? { self == "lab" ? nil : self }
}
