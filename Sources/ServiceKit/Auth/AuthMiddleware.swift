import Foundation
import Hummingbird

/// Requires `Authorization: Bearer <access token>` and puts the verified
/// user on the context. Every service checks the token itself: nothing a
/// gateway adds to a request is trusted.
public struct AuthMiddleware: RouterMiddleware {
    public typealias Context = ServiceRequestContext

    let tokens: AccessToken

    public init(tokens: AccessToken) {
        self.tokens = tokens
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.user = try authenticate(request.headers[.authorization])
        return try await next(request, context)
    }

    public func authenticate(_ header: String?) throws -> AuthenticatedUser {
        guard let header, header.count > 7, header.prefix(7).lowercased() == "bearer " else {
            throw APIError.unauthorized("missing bearer token")
        }
        return try user(fromToken: String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces))
    }

    /// Verifies a raw token (the WebSocket endpoint takes it as a query parameter).
    public func user(fromToken token: String) throws -> AuthenticatedUser {
        let claims: AccessToken.Claims
        do {
            claims = try tokens.verify(token)
        } catch {
            throw APIError.unauthorized(error == .expired ? "access token expired" : "invalid access token")
        }
        guard let id = UUID(uuidString: claims.sub) else { throw APIError.unauthorized("invalid access token") }
        return AuthenticatedUser(id: id, email: claims.email)
    }
}
