import Foundation
import Hummingbird

/// `?limit=` (1..100, default 20) and an opaque `?cursor=`, as API.md requires.
public struct PageRequest<Cursor: Codable & Sendable>: Sendable {
    public var limit: Int
    public var cursor: Cursor?

    public init(limit: Int, cursor: Cursor?) {
        self.limit = limit
        self.cursor = cursor
    }

    /// Reads the query; out-of-range limits and malformed cursors are 400.
    public init(_ request: Request, cursorName: String = "cursor") throws {
        let query = request.uri.queryParameters
        if let text = query["limit"].map(String.init) {
            guard let limit = Int(text), (1...100).contains(limit) else {
                throw APIError.badRequest("limit must be an integer from 1 to 100", code: "invalid_limit")
            }
            self.limit = limit
        } else {
            limit = 20
        }
        if let text = query[Substring(cursorName)].map(String.init) {
            guard let cursor = OpaqueCursor.decode(text, as: Cursor.self) else {
                throw APIError.badRequest("malformed \(cursorName)", code: "invalid_cursor")
            }
            self.cursor = cursor
        } else {
            cursor = nil
        }
    }
}

/// `{"items": [...], "next_cursor": "..." | null}`.
public struct Page<Item: Encodable & Sendable>: Encodable, Sendable, ResponseEncodable {
    public var items: [Item]
    public var nextCursor: String?

    public init(items: [Item], nextCursor: String?) {
        self.items = items
        self.nextCursor = nextCursor
    }

    /// Fetch `limit + 1` rows and pass them here: the extra one only says a next page exists.
    public init<Cursor: Encodable>(fetched: [Item], limit: Int, cursor: (Item) -> Cursor) {
        items = Array(fetched.prefix(limit))
        nextCursor = fetched.count > limit ? items.last.map { OpaqueCursor.encode(cursor($0)) } : nil
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(items, forKey: .items)
        try container.encode(nextCursor, forKey: .nextCursor)  // null when absent, never omitted
    }

    enum CodingKeys: String, CodingKey {
        case items
        case nextCursor
    }
}

/// Cursors are base64url JSON: opaque to clients, checked on the way in.
public enum OpaqueCursor {
    public static func encode<Cursor: Encodable>(_ cursor: Cursor) -> String {
        Base64URL.encode((try? APIJSON.encoder.encode(cursor)) ?? Data())
    }

    public static func decode<Cursor: Decodable>(_ text: String, as type: Cursor.Type) -> Cursor? {
        guard text.count <= 512, let data = Base64URL.decode(text) else { return nil }
        return try? APIJSON.decoder.decode(Cursor.self, from: data)
    }
}
