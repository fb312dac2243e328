import Foundation
import ServiceKit
import SwapPostgres

/// A signed-in user: a row in auth.users and an access token for it.
public struct TestUser: Sendable {
    public let id: UUID
    public let token: String

    public init(id: UUID, token: String) {
        self.id = id
        self.token = token
    }

    /// The id as the API writes it.
    public var idString: String { id.uuidString.lowercased() }

    /// Inserts a user called `name` (plus a random suffix) and signs a token for it with `tokens`.
    public static func insert(named name: String = "user", on pool: PostgresPool, tokens: AccessToken) async throws -> TestUser {
        let email = "\(name)-\(UUID().uuidString.prefix(8).lowercased())@example.com"
        let id = try await insertUser(email, on: pool)
        return TestUser(id: id, token: tokens.sign(user: id, email: email))
    }
}

/// A harness that adds signed-in users: it knows the service's JWT secret
/// and has a pool on the database holding auth.users.
public protocol TestUserSource {
    static var tokens: AccessToken { get }
    var postgres: PostgresPool { get }
}

extension TestUserSource {
    /// Inserts a user into auth.users (as the gateway's sign-up would) and signs a token for it.
    public func user(_ name: String = "user") async throws -> TestUser {
        try await TestUser.insert(named: name, on: postgres, tokens: Self.tokens)
    }

    /// A token for `id`, whether or not such a user exists.
    public static func token(for id: UUID) -> String {
        tokens.sign(user: id)
    }
}

/// Inserts a user into auth.users as the gateway's sign-up does (so the
/// services' triggers run, such as the one that opens a wallet) and returns its id.
public func insertUser(_ email: String, on pool: PostgresPool) async throws -> UUID {
    let rows = try await pool.query("""
        INSERT INTO auth.users (email, encrypted_password) VALUES (\(email.lowercased()), 'not-a-real-hash') RETURNING id
        """)
    return try rows[0].decode(UUID.self, column: 0)
}
