import Foundation
import Hummingbird
import Logging
import ServiceKit

/// `/auth/v1`: signup, password and refresh-token grants, and the current
/// user, in the shape Supabase Auth answers.
struct AuthController: Sendable {
    let repository: any AuthRepository
    let hasher: PasswordHasher
    /// A hash of the configured cost, verified against when an email is unknown.
    let decoyHash: String
    let tokens: AccessToken
    let accessTokenTTL: Duration
    let refreshTokenTTL: Duration

    struct Session: ResponseEncodable {
        struct User: Encodable {
            /// Lower-case, as `sub` in the access token.
            var id: String
            var email: String
        }
        var accessToken: String
        var tokenType = "bearer"
        var expiresIn: Int
        var refreshToken: String
        var user: User
    }

    struct UserBody: ResponseEncodable {
        var id: String
        var email: String
    }

    struct RefreshBody: Decodable {
        var refreshToken: String
    }

    static let invalidCredentials = APIError(.unauthorized, code: "invalid_credentials", message: "invalid email or password")
    static let invalidRefreshToken = APIError(.unauthorized, code: "invalid_refresh_token", message: "invalid refresh token")

    func add(to group: RouterGroup<ServiceRequestContext>, auth: AuthMiddleware) {
        // Token responses must not be cached by anything in between (RFC 6749 5.1).
        group.post("/signup") { request, context in
            EditedResponse(headers: [.cacheControl: "no-store"], response: try await signUp(request, context: context))
        }
        group.post("/token") { request, context in
            EditedResponse(headers: [.cacheControl: "no-store"], response: try await token(request, context: context))
        }
        group.group("/user").add(middleware: auth).get { _, context in try await currentUser(context: context) }
    }

    func signUp(_ request: Request, context: ServiceRequestContext) async throws -> Session {
        let credentials = try Credentials(try await request.decode(as: Credentials.Body.self, context: context))
        let hash = try await hasher.hash(credentials.password)
        let refreshToken = RefreshToken.generate()
        guard let user = try await repository.createUser(
            email: credentials.email, passwordHash: hash,
            refreshTokenHash: RefreshToken.hash(refreshToken), refreshExpiresAt: refreshExpiry()
        ) else {
            throw APIError.conflict("email_exists", "a user with this email address already exists")
        }
        context.logger.info("user signed up", metadata: ["user_id": "\(user.id.lowercaseString)"])
        return session(for: user, refreshToken: refreshToken)
    }

    func token(_ request: Request, context: ServiceRequestContext) async throws -> Session {
        switch request.uri.queryParameters["grant_type"].map(String.init) {
        case "password":
            return try await passwordGrant(request, context: context)
        case "refresh_token":
            return try await refreshGrant(request, context: context)
        case nil:
            throw APIError.badRequest("grant_type is required (password or refresh_token)", code: "unsupported_grant_type")
        default:
            throw APIError.badRequest("grant_type must be password or refresh_token", code: "unsupported_grant_type")
        }
    }

    private func passwordGrant(_ request: Request, context: ServiceRequestContext) async throws -> Session {
        let credentials = try Credentials(try await request.decode(as: Credentials.Body.self, context: context))
        guard let stored = try await repository.credentials(email: credentials.email) else {
            _ = try await hasher.verify(credentials.password, hash: decoyHash)
            throw Self.invalidCredentials
        }
        guard try await hasher.verify(credentials.password, hash: stored.passwordHash) else {
            throw Self.invalidCredentials
        }
        let refreshToken = RefreshToken.generate()
        try await repository.issueRefreshToken(userID: stored.user.id, tokenHash: RefreshToken.hash(refreshToken), expiresAt: refreshExpiry())
        return session(for: stored.user, refreshToken: refreshToken)
    }

    private func refreshGrant(_ request: Request, context: ServiceRequestContext) async throws -> Session {
        let body = try await request.decode(as: RefreshBody.self, context: context)
        guard (1...512).contains(body.refreshToken.utf8.count) else {
            throw APIError.badRequest("refresh_token must be a non-empty string", code: "invalid_request")
        }
        let next = RefreshToken.generate()
        switch try await repository.rotateRefreshToken(
            presentedHash: RefreshToken.hash(body.refreshToken), newHash: RefreshToken.hash(next), expiresAt: refreshExpiry()
        ) {
        case .rotated(let user):
            return session(for: user, refreshToken: next)
        case .reused:
            context.logger.warning("revoked refresh token presented again; its family is revoked")
            throw Self.invalidRefreshToken
        case .invalid:
            throw Self.invalidRefreshToken
        }
    }

    func currentUser(context: ServiceRequestContext) async throws -> UserBody {
        let caller = try context.requireUser()
        // The token can outlive the account; a deleted user is no longer signed in.
        guard let user = try await repository.user(id: caller.id) else {
            throw APIError.unauthorized("the user of this access token no longer exists")
        }
        return UserBody(id: user.id.lowercaseString, email: user.email)
    }

    private func session(for user: UserRecord, refreshToken: String) -> Session {
        let now = Int(Date().timeIntervalSince1970)
        let ttl = Int(accessTokenTTL.components.seconds)
        let claims = AccessToken.Claims(sub: user.id.lowercaseString, email: user.email, iat: now, exp: now + ttl)
        return Session(
            accessToken: tokens.sign(claims),
            expiresIn: ttl,
            refreshToken: refreshToken,
            user: .init(id: user.id.lowercaseString, email: user.email)
        )
    }

    private func refreshExpiry() -> Date {
        Date().addingTimeInterval(TimeInterval(refreshTokenTTL.components.seconds))
    }
}
