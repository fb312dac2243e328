import Foundation

/// A JSON object as text, keys sorted, from a dictionary of values
/// JSONSerialization takes (a request body written as data, not as a string).
public func json(_ object: [String: Any]) -> String {
    String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
}
