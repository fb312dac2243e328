import Crypto
import Foundation

/// One versioned schema change, written in Swift as SQL text that ships with
/// the code. It runs once per database, in its own transaction, so it must
/// not use statements that refuse to run in one (`CREATE INDEX CONCURRENTLY`,
/// `VACUUM`). Never edit an applied migration: add a new version instead
/// (the migrator refuses to start when an applied one changed).
public struct Migration: Sendable, Hashable {
    /// Position in its set; applied in ascending order, each exactly once.
    public var version: Int
    /// A short description, recorded with the version.
    public var name: String
    /// Trusted SQL, possibly several statements; never built from input.
    public var sql: String

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }

    /// SHA-256 of the SQL text (hex): what drift is detected by.
    public var checksum: String {
        SHA256.hash(data: Data(sql.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}

/// The migrations of one owner (a service, or a shared piece such as
/// `auth` or `outbox`), recorded under that owner in
/// `swap_schema_migrations(owner, version, name, checksum, applied_at)`.
/// Several services may run the same shared set: each version is applied once.
public struct MigrationSet: Sendable {
    public var owner: String
    public var migrations: [Migration]

    public init(owner: String, migrations: [Migration]) {
        self.owner = owner
        self.migrations = migrations
    }
}

/// Why the schema could not be brought up to date. Start-up fails with it.
public enum MigrationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The set itself is wrong (empty owner, duplicate or non-positive versions).
    case invalidSet(owner: String, reason: String)
    /// An applied migration's SQL differs from the code's.
    case checksumMismatch(owner: String, version: Int, name: String, applied: String, expected: String)
    /// A migration's SQL failed; `details` is the database's message, for logs.
    case failed(owner: String, version: Int, name: String, details: String)

    public var description: String {
        switch self {
        case .invalidSet(let owner, let reason):
            "migrations of '\(owner)' are invalid: \(reason)"
        case .checksumMismatch(let owner, let version, let name, let applied, let expected):
            "migration \(owner) v\(version) (\(name)) was changed after it was applied:"
                + " checksum \(applied.prefix(12)) in the database, \(expected.prefix(12)) in the code;"
                + " add a new migration instead of editing an applied one"
        case .failed(let owner, let version, let name, let details):
            "migration \(owner) v\(version) (\(name)) failed: \(details)"
        }
    }
}
