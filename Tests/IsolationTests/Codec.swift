import Foundation

/// Encodes and decodes through JSON, to prove a Codable type survives storage.
enum JSONRoundTrip {
    static func of<T: Codable>(_ value: T) throws -> T {
        try JSONDecoder().decode(T.self, from: JSONEncoder().encode(value))
    }
}
