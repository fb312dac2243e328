import Foundation
import SwapPostgres

/// A user as the API shows it.
struct UserRecord: Sendable, Equatable {
    var id: UUID
    var email: String
}

/// What presenting a refresh token led to.
enum RefreshOutcome: Sendable, Equatable {
    /// The token was live: it is now revoked and its successor stored.
    case rotated(UserRecord)
    /// Unknown or expired.
    case invalid
    /// Already used or revoked: the whole family descending from its
    /// ancestors is revoked now, as Supabase Auth does (a stolen token and
    /// the legitimate one cannot both stay usable).
    case reused
}

/// Users (`auth.users`) and refresh tokens (`auth.refresh_tokens`, hashes only).
protocol AuthRepository: Sendable {
    /// Inserts the user and their first refresh token in one transaction;
    /// `nil` when the email is already taken.
    func createUser(email: String, passwordHash: String, refreshTokenHash: String, refreshExpiresAt: Date) async throws -> UserRecord?
    func credentials(email: String) async throws -> (user: UserRecord, passwordHash: String)?
    func user(id: UUID) async throws -> UserRecord?
    func issueRefreshToken(userID: UUID, tokenHash: String, expiresAt: Date) async throws
    /// Revokes the presented token and stores its successor in one transaction.
    func rotateRefreshToken(presentedHash: String, newHash: String, expiresAt: Date) async throws -> RefreshOutcome
}

struct PostgresAuthRepository: AuthRepository {
    let pool: PostgresPool

    func createUser(email: String, passwordHash: String, refreshTokenHash: String, refreshExpiresAt: Date) async throws -> UserRecord? {
        try await pool.withTransaction { connection in
            // ON CONFLICT without a target covers whichever unique index guards the email.
            let rows = try await connection.query("""
                INSERT INTO auth.users (id, email, encrypted_password, created_at, updated_at)
                VALUES (\(UUID()), \(email), \(passwordHash), now(), now())
                ON CONFLICT DO NOTHING
                RETURNING id, email
                """)
            guard let row = rows.first else { return nil }
            let user = UserRecord(id: try row.decode(UUID.self, column: "id"), email: try row.decode(String.self, column: "email"))
            try await Self.insertRefreshToken(connection, userID: user.id, tokenHash: refreshTokenHash, parentHash: nil, expiresAt: refreshExpiresAt)
            return user
        }
    }

    func credentials(email: String) async throws -> (user: UserRecord, passwordHash: String)? {
        let rows = try await pool.query("SELECT id, email, encrypted_password FROM auth.users WHERE email = \(email)")
        guard let row = rows.first else { return nil }
        let (id, storedEmail, hash) = try row.decode((UUID, String, String?).self)
        // A user without a password (created by another sign-in method) cannot log in with one.
        guard let hash else { return nil }
        return (UserRecord(id: id, email: storedEmail), hash)
    }

    func user(id: UUID) async throws -> UserRecord? {
        let rows = try await pool.query("SELECT id, email FROM auth.users WHERE id = \(id)")
        guard let row = rows.first else { return nil }
        let (id, email) = try row.decode((UUID, String).self)
        return UserRecord(id: id, email: email)
    }

    func issueRefreshToken(userID: UUID, tokenHash: String, expiresAt: Date) async throws {
        try await pool.withConnection { connection in
            try await Self.insertRefreshToken(connection, userID: userID, tokenHash: tokenHash, parentHash: nil, expiresAt: expiresAt)
        }
    }

    func rotateRefreshToken(presentedHash: String, newHash: String, expiresAt: Date) async throws -> RefreshOutcome {
        try await pool.withTransaction { connection in
            let rows = try await connection.query("""
                SELECT user_id, revoked, expires_at > now() AS live
                FROM auth.refresh_tokens WHERE token_hash = \(presentedHash)
                FOR UPDATE
                """)
            guard let row = rows.first else { return .invalid }
            let (userID, revoked, live) = try row.decode((UUID, Bool, Bool).self)
            if revoked {
                try await Self.revokeFamily(connection, of: presentedHash)
                return .reused
            }
            guard live else { return .invalid }
            try await connection.execute("UPDATE auth.refresh_tokens SET revoked = true WHERE token_hash = \(presentedHash)")
            try await Self.insertRefreshToken(connection, userID: userID, tokenHash: newHash, parentHash: presentedHash, expiresAt: expiresAt)
            let users = try await connection.query("SELECT id, email FROM auth.users WHERE id = \(userID)")
            guard let user = users.first else { return .invalid }
            let (id, email) = try user.decode((UUID, String).self)
            return .rotated(UserRecord(id: id, email: email))
        }
    }

    private static func insertRefreshToken(
        _ connection: PostgresConnection, userID: UUID, tokenHash: String, parentHash: String?, expiresAt: Date
    ) async throws {
        try await connection.execute("""
            INSERT INTO auth.refresh_tokens (token_hash, user_id, revoked, parent_hash, created_at, expires_at)
            VALUES (\(tokenHash), \(userID), false, \(parentHash), now(), \(expiresAt))
            """)
    }

    /// Every token related to this one: its ancestors and all their descendants.
    private static func revokeFamily(_ connection: PostgresConnection, of tokenHash: String) async throws {
        try await connection.execute("""
            WITH RECURSIVE ancestors AS (
                SELECT token_hash, parent_hash FROM auth.refresh_tokens WHERE token_hash = \(tokenHash)
                UNION
                SELECT t.token_hash, t.parent_hash
                FROM auth.refresh_tokens t JOIN ancestors a ON t.token_hash = a.parent_hash
            ), family AS (
                SELECT token_hash FROM ancestors
                UNION
                SELECT t.token_hash FROM auth.refresh_tokens t JOIN family f ON t.parent_hash = f.token_hash
            )
            UPDATE auth.refresh_tokens SET revoked = true
            WHERE token_hash IN (SELECT token_hash FROM family) AND NOT revoked
            """)
    }
}
