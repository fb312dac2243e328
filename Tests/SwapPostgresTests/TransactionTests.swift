import Foundation
import SwapPostgres
import Synchronization
import Testing

private struct Abort: Error {}

private final class Counter: Sendable {
    private let count = Atomic<Int>(0)
    var value: Int { self.count.load(ordering: .relaxed) }
    @discardableResult
    func increment() -> Int { self.count.add(1, ordering: .relaxed).newValue }
}

@Suite("PostgreSQL transactions", .serialized, .timeLimit(.minutes(3)))
struct TransactionTests {
    @Test("a thrown error rolls the transaction back; a return commits it")
    func rollbackOnError() async throws {
        try await withTestDatabase { pool, _ in
            try await pool.execute("CREATE TABLE items (name text PRIMARY KEY)")
            await #expect(throws: Abort.self) {
                try await pool.withTransaction { connection in
                    try await connection.execute("INSERT INTO items VALUES (\("rolled back"))")
                    throw Abort()
                }
            }
            _ = try await pool.withTransaction { connection in
                try await connection.execute("INSERT INTO items VALUES (\("committed"))")
            }
            let rows = try await pool.query("SELECT name FROM items")
            #expect(try rows.map { try $0.decode(String.self, column: 0) } == ["committed"])
        }
    }

    @Test("a swallowed statement error makes COMMIT fail instead of silently rolling back")
    func swallowedErrorIsReported() async throws {
        try await withTestDatabase { pool, _ in
            try await pool.execute("CREATE TABLE items (name text PRIMARY KEY)")
            let error = await #expect(throws: PostgresError.self) {
                try await pool.withTransaction { connection in
                    try await connection.execute("INSERT INTO items VALUES (\("a"))")
                    _ = try? await connection.execute("INSERT INTO items VALUES (\("a"))")
                }
            }
            #expect(error?.kind == .transactionAborted)
            #expect(try await pool.query("SELECT 1 FROM items").isEmpty)
        }
    }

    @Test("two SERIALIZABLE transactions on one row: the loser is retried and both apply")
    func serializationFailureIsRetried() async throws {
        try await withTestDatabase { pool, _ in
            try await pool.execute("CREATE TABLE counter (id int PRIMARY KEY, value int NOT NULL)")
            try await pool.execute("INSERT INTO counter VALUES (1, 0)")
            let bothRead = Rendezvous(count: 2)
            let attempts = Counter()

            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<2 {
                    group.addTask {
                        try await pool.withTransaction(isolationLevel: .serializable) { connection in
                            let attempt = attempts.increment()
                            _ = try await connection.query("SELECT value FROM counter WHERE id = \(1)")
                            // Only first attempts meet, so both snapshots predate either update.
                            if attempt <= 2 { await bothRead.arrive() }
                            try await connection.execute("UPDATE counter SET value = value + 1 WHERE id = \(1)")
                        }
                    }
                }
                try await group.waitForAll()
            }
            let value = try await pool.query("SELECT value FROM counter WHERE id = 1")
            #expect(try value[0].decode(Int.self, column: 0) == 2)
            #expect(attempts.value >= 3)
        }
    }

    @Test("retrying stops after maxAttempts and rethrows the serialization failure")
    func retriesAreBounded() async throws {
        try await withTestDatabase { pool, _ in
            let attempts = Counter()
            let error = await #expect(throws: PostgresError.self) {
                try await pool.withTransaction(retry: PostgresRetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(1))) { connection in
                    attempts.increment()
                    // RAISE with SQLSTATE 40001 stands in for a real conflict.
                    try await connection.execute("DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = '40001'; END $$")
                }
            }
            #expect(error?.kind == .serializationFailure)
            #expect(attempts.value == 3)
        }
    }

    @Test("advisory transaction locks exclude each other until the holder commits")
    func advisoryLock() async throws {
        try await withTestDatabase(maxConnections: 2) { pool, _ in
            let holding = Gate()
            let release = Gate()
            async let holder: Void = pool.withTransaction { connection in
                try await connection.advisoryTransactionLock(named: "swap.migrations")
                await holding.open()
                await release.wait()
            }
            await holding.wait()
            let key = try await pool.query("SELECT hashtextextended(\("swap.migrations"), 0)")[0].decode(Int64.self, column: 0)
            let whileHeld = try await pool.withTransaction { try await $0.tryAdvisoryTransactionLock(key) }
            #expect(!whileHeld)
            await release.open()
            try await holder
            let afterwards = try await pool.withTransaction { try await $0.tryAdvisoryTransactionLock(key) }
            #expect(afterwards)
        }
    }
}
