import Foundation
import LocalServers
import ServiceKit
import ServiceTesting
import SwapPostgres
import Testing

@Suite("Migrations", .serialized, .timeLimit(.minutes(10)))
struct MigrationTests {
    /// Counts its own executions in `runs`, slowly enough for replicas to overlap.
    static let counted = MigrationSet(owner: "counted", migrations: [
        Migration(version: 1, name: "create runs", sql: "SELECT pg_sleep(0.2); CREATE TABLE runs (version int NOT NULL);"),
        Migration(version: 2, name: "record v2", sql: "INSERT INTO runs VALUES (2); SELECT pg_sleep(0.1);"),
        Migration(version: 3, name: "record v3", sql: "INSERT INTO runs VALUES (3);"),
    ])

    @Test("replicas migrating at once apply each migration exactly once")
    func concurrentMigratorsApplyOnce() async throws {
        try await withTestDatabase { pool, database in
            let pools = (0..<4).map { _ in database.makePool(maxConnections: 2) }
            let applied = try await withThrowingTaskGroup(of: Int.self) { group in
                for replica in pools {
                    group.addTask { try await Migrator(pool: replica, logger: quietLogger).migrate([Self.counted]) }
                }
                return try await group.reduce(0, +)
            }
            for replica in pools { await replica.close() }

            #expect(applied == 3)
            let runs = try await pool.query("SELECT version FROM runs ORDER BY version").map { try $0.decode(Int.self, column: 0) }
            #expect(runs == [2, 3])
            let history = try await pool.query("SELECT version, name FROM swap_schema_migrations WHERE owner = 'counted' ORDER BY version")
            #expect(try history.map { try $0.decode(Int.self, column: 0) } == [1, 2, 3])
            #expect(try history[1].decode(String.self, column: 1) == "record v2")
            #expect(try await Migrator(pool: pool).appliedVersions(owner: "counted") == [1, 2, 3])

            // Starting again changes nothing.
            #expect(try await Migrator(pool: pool, logger: quietLogger).migrate(Self.counted) == 0)
        }
    }

    @Test("an applied migration whose SQL changed stops start-up, naming the version")
    func checksumDriftIsRefused() async throws {
        try await withTestDatabase { pool, _ in
            let migrator = Migrator(pool: pool, logger: quietLogger)
            try await migrator.migrate(MigrationSet(owner: "drift", migrations: Array(Self.counted.migrations.prefix(2))))

            var edited = Self.counted
            edited.owner = "drift"
            edited.migrations[1].sql = "INSERT INTO runs VALUES (20);"
            let error = await #expect(throws: MigrationError.self) { try await migrator.migrate(edited) }
            if case .checksumMismatch(let owner, let version, let name, _, _) = error {
                #expect(owner == "drift")
                #expect(version == 2)
                #expect(name == "record v2")
            } else {
                Issue.record("expected a checksum mismatch, got \(String(describing: error))")
            }
            #expect(error?.description.contains("drift v2") == true)
            // Nothing after the drift ran, not even the new v3.
            #expect(try await migrator.appliedVersions(owner: "drift") == [1, 2])
            #expect(try await pool.query("SELECT count(*) FROM runs")[0].decode(Int.self, column: 0) == 1)
        }
    }

    @Test("a failing migration leaves neither its changes nor its record")
    func failedMigrationRollsBack() async throws {
        try await withTestDatabase { pool, _ in
            let set = MigrationSet(owner: "broken", migrations: [
                Migration(version: 1, name: "good", sql: "CREATE TABLE good (id int);"),
                Migration(version: 2, name: "bad", sql: "CREATE TABLE half (id int); SELECT no_such_column FROM good;"),
            ])
            let migrator = Migrator(pool: pool, logger: quietLogger)
            let error = await #expect(throws: MigrationError.self) { try await migrator.migrate(set) }
            if case .failed(let owner, let version, _, _) = error {
                #expect(owner == "broken" && version == 2)
            } else {
                Issue.record("expected a failed migration, got \(String(describing: error))")
            }
            let versions = try await migrator.appliedVersions(owner: "broken")
            #expect(versions == [1])
            let halfExists = try await pool.query("SELECT to_regclass('half') IS NOT NULL")[0].decode(Bool.self, column: 0)
            #expect(!halfExists)
        }
    }

    @Test("sets with duplicate or non-positive versions are refused before touching the database")
    func invalidSets() async throws {
        try await withTestDatabase { pool, _ in
            let migrator = Migrator(pool: pool, logger: quietLogger)
            let duplicate = MigrationSet(owner: "dup", migrations: [
                Migration(version: 1, name: "a", sql: "SELECT 1"), Migration(version: 1, name: "b", sql: "SELECT 2"),
            ])
            await #expect(throws: MigrationError.invalidSet(owner: "dup", reason: "version 1 appears twice")) {
                try await migrator.migrate(duplicate)
            }
            let zero = MigrationSet(owner: "zero", migrations: [Migration(version: 0, name: "a", sql: "SELECT 1")])
            await #expect(throws: MigrationError.self) { try await migrator.migrate(zero) }
        }
    }

    @Test("the shared auth schema: applied once by whichever service starts first, referenced by service tables")
    func authSchemaIsShared() async throws {
        try await withTestDatabase { pool, _ in
            let gateway = Migrator(pool: pool, logger: quietLogger)
            let financial = MigrationSet(owner: "financial", migrations: [
                Migration(version: 1, name: "wallets", sql: """
                    CREATE TABLE wallets (user_id uuid PRIMARY KEY REFERENCES auth.users (id) ON DELETE CASCADE, balance bigint NOT NULL DEFAULT 0);
                    CREATE FUNCTION create_wallet() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN INSERT INTO wallets (user_id) VALUES (NEW.id); RETURN NEW; END $$;
                    CREATE TRIGGER create_wallet AFTER INSERT ON auth.users FOR EACH ROW EXECUTE FUNCTION create_wallet();
                    """),
            ])
            let sets = [AuthSchema.migrations, Outbox.migrations, IdempotencyStore.migrations, ProcessedEvents.migrations]
            #expect(try await gateway.migrate(sets + [financial]) == 5)
            #expect(try await Migrator(pool: pool, logger: quietLogger).migrate([AuthSchema.migrations]) == 0)

            let id = try await pool.query("""
                INSERT INTO auth.users (email, encrypted_password) VALUES ('ada@example.com', '$2b$12$hash') RETURNING id
                """)[0].decode(UUID.self, column: 0)
            #expect(try await pool.query("SELECT balance FROM wallets WHERE user_id = \(id)")[0].decode(Int.self, column: 0) == 0)

            let upper = await #expect(throws: PostgresError.self) {
                try await pool.query("INSERT INTO auth.users (email, encrypted_password) VALUES ('Bob@Example.com', 'x')")
            }
            #expect(upper?.kind == .checkViolation)
            let duplicate = await #expect(throws: PostgresError.self) {
                try await pool.query("INSERT INTO auth.users (email, encrypted_password) VALUES ('ada@example.com', 'x')")
            }
            #expect(duplicate?.kind == .uniqueViolation)

            try await pool.query("""
                INSERT INTO auth.refresh_tokens (token_hash, user_id, expires_at) VALUES ('h1', \(id), now() + interval '30 days')
                """)
            let token = try await pool.query("SELECT revoked, parent_hash FROM auth.refresh_tokens WHERE token_hash = 'h1'")[0]
            #expect(try token.decode(Bool.self, column: 0) == false)
            #expect(try token.decode(String?.self, column: 1) == nil)
            try await pool.query("DELETE FROM auth.users WHERE id = \(id)")
            #expect(try await pool.query("SELECT count(*) FROM auth.refresh_tokens")[0].decode(Int.self, column: 0) == 0)
        }
    }
}
