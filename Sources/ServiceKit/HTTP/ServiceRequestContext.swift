import Foundation
import Hummingbird
import Logging

/// The request context of every Swap service: the request id, the
/// authenticated user once the auth middleware ran, and JSON coders that
/// speak API.md (snake_case, RFC 3339 UTC).
public struct ServiceRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var requestID: String
    public var user: AuthenticatedUser?

    public init(source: Source) {
        coreContext = .init(source: source)
        requestID = ""
        user = nil
    }

    public var requestDecoder: JSONRequestDecoder { JSONRequestDecoder() }
    public var responseEncoder: JSONEncoder { APIJSON.encoder }

    /// The authenticated user, or a 401 for routes mounted without the auth middleware.
    public func requireUser() throws -> AuthenticatedUser {
        guard let user else { throw APIError.unauthorized() }
        return user
    }
}

/// The signed-in caller, from a verified access token.
public struct AuthenticatedUser: Sendable, Equatable {
    public var id: UUID
    public var email: String
}

/// JSON coding shared by responses, events and tests.
public enum APIJSON {
    public static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(RFC3339.string(from: date))
        }
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    public static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let date = RFC3339.date(from: text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an RFC 3339 time"))
            }
            return date
        }
        return decoder
    }
}

/// RFC 3339 UTC times with microseconds, PostgreSQL's precision:
/// `2026-11-25T15:04:05.123456Z`. Formatting rounds to whole microseconds
/// with integer arithmetic, so a time read from the database survives a trip
/// through JSON (and through pagination cursors) unchanged.
public enum RFC3339 {
    private static let whole = Date.ISO8601FormatStyle()

    public static func string(from date: Date) -> String {
        let micros = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
        let (seconds, fraction) = micros.quotientAndRemainder(dividingBy: 1_000_000)
        let (wholeSeconds, positiveFraction) = fraction < 0 ? (seconds - 1, fraction + 1_000_000) : (seconds, fraction)
        let base = whole.format(Date(timeIntervalSince1970: Double(wholeSeconds)))
        let digits = String(positiveFraction)
        return base.dropLast() + "." + String(repeating: "0", count: 6 - digits.count) + digits + "Z"
    }

    public static func date(from text: String) -> Date? {
        guard text.hasSuffix("Z") || text.hasSuffix("z") else { return try? whole.parse(text) }
        let body = text.dropLast()
        guard let dot = body.firstIndex(of: ".") else { return try? whole.parse(text) }
        let fractionText = body[body.index(after: dot)...]
        guard !fractionText.isEmpty, fractionText.count <= 9, fractionText.allSatisfy(\.isNumber),
              let base = try? whole.parse(String(body[..<dot]) + "Z")
        else { return nil }
        let micros = Int64(String(fractionText.prefix(6)).padding(toLength: 6, withPad: "0", startingAt: 0)) ?? 0
        let seconds = Int64(base.timeIntervalSince1970.rounded())
        return Date(timeIntervalSince1970: Double(seconds) + Double(micros) / 1_000_000)
    }
}

/// Decodes request bodies, turning every malformed body into a 400 (or a
/// 415 when the content type is not JSON) in the API.md shape.
public struct JSONRequestDecoder: RequestDecoder {
    public init() {}

    public func decode<T: Decodable>(_ type: T.Type, from request: Request, context: some RequestContext) async throws -> T {
        if let contentType = request.headers[.contentType], !contentType.lowercased().hasPrefix("application/json") {
            throw APIError(.unsupportedMediaType, code: "unsupported_media_type", message: "send JSON with Content-Type: application/json")
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: context.maxUploadSize)
        } catch {
            throw APIError(.contentTooLarge, code: "payload_too_large", message: "request body is too large")
        }
        do {
            return try APIJSON.decoder.decode(T.self, from: Data(buffer.readableBytesView))
        } catch let DecodingError.keyNotFound(key, _) {
            throw APIError.badRequest("missing field '\(snakeCase(key.stringValue))'", code: "invalid_request")
        } catch let DecodingError.typeMismatch(_, context) {
            throw APIError.badRequest("field '\(context.codingPath.map { snakeCase($0.stringValue) }.joined(separator: "."))' has the wrong type", code: "invalid_request")
        } catch let DecodingError.valueNotFound(_, context) {
            throw APIError.badRequest("field '\(context.codingPath.map { snakeCase($0.stringValue) }.joined(separator: "."))' must not be null", code: "invalid_request")
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError.badRequest("request body is not valid JSON", code: "malformed_json")
        }
    }

    private func snakeCase(_ key: String) -> String {
        key.reduce(into: "") { result, character in
            if character.isUppercase { result += "_" + character.lowercased() } else { result.append(character) }
        }
    }
}
