import Foundation
import Hummingbird
import Logging

/// Gives every request an id (the client's X-Request-ID when it is sane,
/// else a new one), puts it in the logger metadata and on every response,
/// and renders every error, thrown anywhere below, in the API.md shape.
public struct RequestIDMiddleware: RouterMiddleware {
    public typealias Context = ServiceRequestContext

    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let requestID = Self.acceptable(request.headers[.requestID]) ?? UUID().lowercaseString
        context.requestID = requestID
        context.logger[metadataKey: "request_id"] = .string(requestID)
        do {
            var response = try await next(request, context)
            response.headers[.requestID] = requestID
            return response
        } catch {
            let apiError = ErrorMapping.apiError(for: error, logger: context.logger)
            return apiError.response(requestID: requestID)
        }
    }

    /// A client id is echoed only if it is short printable ASCII (it ends up in logs and headers).
    static func acceptable(_ value: String?) -> String? {
        guard let value, (1...128).contains(value.utf8.count),
              value.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return nil }
        return value
    }
}

/// Turns any error into what a client may see; unexpected ones are logged with detail and become 500.
public enum ErrorMapping {
    public static func apiError(for error: any Error, logger: Logger) -> APIError {
        switch error {
        case let error as APIError:
            return error
        case let error as HTTPError:
            return fromHummingbird(error)
        case let error as any UnavailableError:
            logger.warning("dependency unavailable", metadata: ["error": .string(error.logDescription)])
            return .unavailable()
        default:
            logger.error("unhandled error", metadata: ["error": .string(String(reflecting: error))])
            return .internalError
        }
    }

    private static func fromHummingbird(_ error: HTTPError) -> APIError {
        switch error.status {
        case .notFound: return .notFound("no such route")
        case .methodNotAllowed: return APIError(.methodNotAllowed, code: "method_not_allowed", message: "method not allowed")
        case .contentTooLarge: return APIError(.contentTooLarge, code: "payload_too_large", message: "request body is too large")
        case .badRequest: return .badRequest(error.body ?? "bad request")
        case .unauthorized: return .unauthorized()
        default:
            let code = error.status.code
            return APIError(error.status, code: code >= 500 ? "internal" : "http_\(code)", message: error.status.reasonPhrase)
        }
    }
}

/// Errors meaning "a dependency is down, try again": mapped to 503.
public protocol UnavailableError: Error {
    var logDescription: String { get }
}
