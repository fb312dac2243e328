import Foundation

extension UUID {
    /// The id lower-case, as the API writes ids, as the access tokens' `sub`
    /// carries them and as PostgreSQL prints them (Foundation's `uuidString`
    /// is upper-case). Event keys and Redis keys use it too.
    public var lowercaseString: String { uuidString.lowercased() }
}

extension KeyedEncodingContainer {
    /// Ids go out lower-case, as the access tokens' `sub` and PostgreSQL
    /// print them (Foundation's `UUID` encodes upper-case); `nil` is `null`.
    public mutating func encode(lowercase id: UUID?, forKey key: Key) throws {
        try encode(id?.lowercaseString, forKey: key)
    }
}
