import Foundation
import HTTPTypes
import Hummingbird

/// An error a client sees, rendered in the API.md shape:
/// `{"error": {"code": "...", "message": "...", "request_id": "..."}}`.
/// Messages are written for clients; database or C-library text never goes here.
public struct APIError: Error, Sendable, Equatable {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    /// Extra response headers, such as Retry-After on a 429.
    public var headers: HTTPFields

    public init(_ status: HTTPResponse.Status, code: String, message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }

    public static func badRequest(_ message: String, code: String = "bad_request") -> APIError {
        APIError(.badRequest, code: code, message: message)
    }

    public static func unauthorized(_ message: String = "missing or invalid access token") -> APIError {
        APIError(.unauthorized, code: "unauthorized", message: message)
    }

    public static func notFound(_ message: String = "not found") -> APIError {
        APIError(.notFound, code: "not_found", message: message)
    }

    public static func conflict(_ code: String, _ message: String) -> APIError {
        APIError(.conflict, code: code, message: message)
    }

    public static func unprocessable(_ code: String, _ message: String) -> APIError {
        APIError(.unprocessableContent, code: code, message: message)
    }

    public static func tooManyRequests(retryAfterSeconds: Int, message: String = "rate limit exceeded") -> APIError {
        var headers = HTTPFields()
        headers[.retryAfter] = String(max(1, retryAfterSeconds))
        return APIError(.tooManyRequests, code: "rate_limited", message: message, headers: headers)
    }

    public static func unavailable(_ message: String = "a dependency is unavailable; try again") -> APIError {
        APIError(.serviceUnavailable, code: "unavailable", message: message)
    }

    public static let internalError = APIError(.internalServerError, code: "internal", message: "internal error")

    /// The JSON body for this error and request id.
    public func body(requestID: String) -> ByteBuffer {
        struct Envelope: Encodable {
            struct Body: Encodable {
                var code: String
                var message: String
                var request_id: String
            }
            var error: Body
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(Envelope(error: .init(code: code, message: message, request_id: requestID)))) ?? Data("{}".utf8)
        return ByteBuffer(bytes: data)
    }

    public func response(requestID: String) -> Response {
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        fields[.requestID] = requestID
        return Response(status: status, headers: fields, body: .init(byteBuffer: body(requestID: requestID)))
    }
}

public extension HTTPField.Name {
    static let requestID = HTTPField.Name("X-Request-ID")!
    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
}
