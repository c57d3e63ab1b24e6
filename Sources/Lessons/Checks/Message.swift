/// A sentence Gantry says to a learner, in English and Korean (the course notes' language).
public struct Message: Sendable, Equatable, CustomStringConvertible {
    public var en: String
    public var ko: String

    public init(_ en: String, ko: String) {
        self.en = en
        self.ko = ko
    }

    /// The same text in both (a path, a command, a number).
    public init(verbatim text: String) { self.init(text, ko: text) }

    public func text(_ language: String) -> String { language == "ko" ? ko : en }
    public var description: String { en }

    public static func + (left: Message, right: Message) -> Message {
        Message(left.en + right.en, ko: left.ko + right.ko)
    }

    /// `parts` joined with `separator` in each language.
    public static func joined(_ parts: [Message], separator: Message = Message("; ", ko: "; ")) -> Message {
        Message(parts.map(\.en).joined(separator: separator.en), ko: parts.map(\.ko).joined(separator: separator.ko))
    }
}
