import Foundation
import Logging
import SwapPostgres

/// Brings a database's schema up to date at start-up.
///
/// For each ``MigrationSet``, in the order given: every applied migration's
/// checksum is compared with the code's first (a mismatch throws
/// ``MigrationError/checksumMismatch(owner:version:name:applied:expected:)``
/// before anything runs); then each pending migration runs in its own
/// transaction, which takes `pg_advisory_xact_lock` on a key for the set's
/// owner, checks again whether the version is applied (another replica may
/// have applied it while this one waited for the lock), runs the SQL and
/// records it in `swap_schema_migrations`. Replicas starting together
/// therefore apply each migration exactly once, and a failed migration leaves
/// neither its changes nor its record behind.
///
/// An applied version the code does not know (a newer release ran first) is
/// logged and left alone.
public struct Migrator: Sendable {
    let pool: PostgresPool
    let logger: Logger

    public init(pool: PostgresPool, logger: Logger = Logger(label: "swap.migrations")) {
        self.pool = pool
        self.logger = logger
    }

    /// Applies `sets` in order (list a set that others reference, such as
    /// ``AuthSchema/migrations``, before them) and returns how many
    /// migrations this call applied.
    @discardableResult
    public func migrate(_ sets: [MigrationSet]) async throws -> Int {
        var applied = 0
        for set in sets {
            applied += try await self.migrate(set)
        }
        return applied
    }

    /// Applies one set (see the type's description).
    @discardableResult
    public func migrate(_ set: MigrationSet) async throws -> Int {
        let migrations = try Self.validated(set)
        return try await self.pool.withConnection { connection in
            try await Self.createHistoryTable(on: connection)
            let history = try await Self.appliedChecksums(owner: set.owner, on: connection)
            for migration in migrations {
                if let checksum = history[migration.version] {
                    try Self.check(migration, owner: set.owner, appliedChecksum: checksum)
                }
            }
            let known = Set(migrations.map(\.version))
            for version in history.keys.sorted() where !known.contains(version) {
                self.logger.warning(
                    "the database has a migration this code does not know",
                    metadata: ["owner": "\(set.owner)", "version": "\(version)"]
                )
            }
            var applied = 0
            for migration in migrations where history[migration.version] == nil {
                if try await self.apply(migration, owner: set.owner, on: connection) { applied += 1 }
            }
            return applied
        }
    }

    /// The versions recorded for `owner`, ascending.
    public func appliedVersions(owner: String) async throws -> [Int] {
        try await self.pool.withConnection { connection in
            try await Self.createHistoryTable(on: connection)
            return try await Self.appliedChecksums(owner: owner, on: connection).keys.sorted()
        }
    }

    private func apply(_ migration: Migration, owner: String, on connection: PostgresConnection) async throws -> Bool {
        let checksum = migration.checksum
        let applied = try await connection.withTransaction { connection in
            try await connection.advisoryTransactionLock(named: Self.lockName(owner: owner))
            let rows = try await connection.query(
                "SELECT checksum FROM swap_schema_migrations WHERE owner = \(owner) AND version = \(migration.version)"
            )
            if let row = rows.first {
                try Self.check(migration, owner: owner, appliedChecksum: try row.decode(String.self, column: 0))
                return false
            }
            do {
                try await connection.executeScript(migration.sql)
            } catch let error as PostgresError {
                throw MigrationError.failed(owner: owner, version: migration.version, name: migration.name, details: error.debugDescription)
            }
            try await connection.execute("""
                INSERT INTO swap_schema_migrations (owner, version, name, checksum)
                VALUES (\(owner), \(migration.version), \(migration.name), \(checksum))
                """)
            return true
        }
        if applied {
            self.logger.info(
                "applied migration",
                metadata: ["owner": "\(owner)", "version": "\(migration.version)", "name": "\(migration.name)"]
            )
        }
        return applied
    }

    static func lockName(owner: String) -> String { "swap_schema_migrations:\(owner)" }

    /// Creates the history table once, under a lock of its own: concurrent
    /// `CREATE TABLE IF NOT EXISTS` can otherwise fail on the catalog.
    private static func createHistoryTable(on connection: PostgresConnection) async throws {
        try await connection.withTransaction { connection in
            try await connection.advisoryTransactionLock(named: "swap_schema_migrations")
            try await connection.executeScript("""
                CREATE TABLE IF NOT EXISTS swap_schema_migrations (
                    owner text NOT NULL,
                    version integer NOT NULL,
                    name text NOT NULL,
                    checksum text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now(),
                    PRIMARY KEY (owner, version)
                )
                """)
        }
    }

    private static func appliedChecksums(owner: String, on connection: PostgresConnection) async throws -> [Int: String] {
        let rows = try await connection.query("SELECT version, checksum FROM swap_schema_migrations WHERE owner = \(owner)")
        var checksums: [Int: String] = [:]
        for row in rows {
            let (version, checksum) = try row.decode((Int, String).self)
            checksums[version] = checksum
        }
        return checksums
    }

    private static func check(_ migration: Migration, owner: String, appliedChecksum: String) throws {
        let expected = migration.checksum
        guard appliedChecksum == expected else {
            throw MigrationError.checksumMismatch(
                owner: owner, version: migration.version, name: migration.name, applied: appliedChecksum, expected: expected
            )
        }
    }

    private static func validated(_ set: MigrationSet) throws -> [Migration] {
        guard !set.owner.isEmpty else { throw MigrationError.invalidSet(owner: set.owner, reason: "the owner is empty") }
        var seen = Set<Int>()
        for migration in set.migrations {
            guard migration.version > 0, migration.version <= Int(Int32.max) else {
                throw MigrationError.invalidSet(owner: set.owner, reason: "version \(migration.version) is not a positive 32-bit integer")
            }
            guard seen.insert(migration.version).inserted else {
                throw MigrationError.invalidSet(owner: set.owner, reason: "version \(migration.version) appears twice")
            }
            guard !migration.sql.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                throw MigrationError.invalidSet(owner: set.owner, reason: "version \(migration.version) has no SQL")
            }
        }
        return set.migrations.sorted { $0.version < $1.version }
    }
}
