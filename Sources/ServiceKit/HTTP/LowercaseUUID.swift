import Foundation

extension KeyedEncodingContainer {
    /// Ids go out lower-case, as the access tokens' `sub` and PostgreSQL
    /// print them (Foundation's `UUID` encodes upper-case); `nil` is `null`.
    public mutating func encode(lowercase id: UUID?, forKey key: Key) throws {
        try encode(id?.uuidString.lowercased(), forKey: key)
    }
}
