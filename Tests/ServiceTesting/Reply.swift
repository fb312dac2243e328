import Foundation
import HTTPTypes
import ServiceKit

/// A buffered HTTP response, with accessors for API.md's JSON shapes.
public struct Reply: Sendable {
    public let status: Int
    public let headers: HTTPFields
    public let body: Data

    public init(status: Int, headers: HTTPFields, body: Data) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The body as UTF-8 text.
    public var text: String { String(decoding: body, as: UTF8.self) }
    /// The body as a JSON object; empty when it is not one.
    public var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
    /// The object under `name` in the body.
    public func object(_ name: String) -> [String: Any]? { json[name] as? [String: Any] }
    /// A page's `items`.
    public var items: [[String: Any]] { json["items"] as? [[String: Any]] ?? [] }
    /// A page's `next_cursor`.
    public var nextCursor: String? { json["next_cursor"] as? String }
    /// The API error's `code`.
    public var errorCode: String? { object("error")?["code"] as? String }
    /// The API error's `message`.
    public var errorMessage: String? { object("error")?["message"] as? String }
    /// The API error's `request_id`.
    public var errorRequestID: String? { object("error")?["request_id"] as? String }
    /// The `X-Request-ID` header.
    public var requestID: String? { header("X-Request-ID") }

    /// The value of the header `name` (case-insensitive).
    public func header(_ name: String) -> String? { headers[HTTPField.Name(name)!] }

    /// The body decoded as the services encode it (snake_case keys, RFC 3339 dates).
    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try APIJSON.decoder.decode(T.self, from: body)
    }
}
