import Foundation
import LocalServers
import SwapPostgres
import Testing

@Suite("PostgreSQL pool", .serialized, .timeLimit(.minutes(5)))
struct PoolTests {
    @Test("never more than maxConnections open; caller N+1 waits for a release")
    func boundIsRespected() async throws {
        try await withTestDatabase(maxConnections: 2) { pool, _ in
            let release = Gate()
            let holders = Rendezvous(count: 3)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<2 {
                    group.addTask {
                        try await pool.withConnection { connection in
                            try await connection.query("SELECT 1")
                            await holders.arrive()
                            await release.wait()
                        }
                    }
                }
                await holders.arrive()
                #expect(pool.statistics.open == 2)

                group.addTask {
                    try await pool.query("SELECT 1")
                }
                #expect(await eventually { pool.statistics.waiting == 1 })
                #expect(pool.statistics.open == 2)
                await release.open()
                try await group.waitForAll()
            }
            #expect(pool.statistics.open <= 2)
            #expect(pool.statistics.waiting == 0)
        }
    }

    @Test("a checkout that waits longer than the timeout fails with poolTimeout")
    func checkoutTimeout() async throws {
        try await withTestDatabase(maxConnections: 1, checkoutTimeout: .milliseconds(200)) { pool, _ in
            try await pool.withConnection { _ in
                let error = await #expect(throws: PostgresError.self) { try await pool.query("SELECT 1") }
                #expect(error?.kind == .poolTimeout)
            }
            try await pool.query("SELECT 1")
        }
    }

    @Test("a session killed server-side fails once with connectionLost; the next checkout reconnects")
    func terminatedSessionFailsOnce() async throws {
        try await withTestDatabase(maxConnections: 1) { pool, server in
            let error = await #expect(throws: PostgresError.self) {
                try await pool.withConnection { connection in
                    let pid = try await connection.query("SELECT pg_backend_pid()")[0].decode(Int32.self, column: 0)
                    try await server.psql("SELECT pg_terminate_backend(\(pid), 5000)")
                    try await connection.query("SELECT 1")
                }
            }
            #expect(error?.kind == .connectionLost)
            #expect(error?.description.hasPrefix("PostgresError: the database connection was lost") == true)
            #expect(error?.details.isEmpty == false)
            let answer = try await pool.query("SELECT \(41) + 1")[0].decode(Int.self, column: 0)
            #expect(answer == 42)
            #expect(pool.statistics.open == 1)
        }
    }

    @Test("the pool survives a PostgreSQL restart without being recreated")
    func survivesServerRestart() async throws {
        try await withPostgres { server in
            let pool = PostgresPool(
                configuration: PostgresConfiguration(connectionString: server.url(database: "swap")),
                maxConnections: 3
            )
            try await pool.execute("CREATE TABLE kept (value int)")
            try await pool.execute("INSERT INTO kept VALUES (\(7))")
            // Open every slot so that all pooled sessions die in the restart.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<3 { group.addTask { try await pool.query("SELECT pg_sleep(0.05)") } }
                try await group.waitForAll()
            }
            #expect(pool.statistics.open == 3)

            try await server.restart()

            // At most one failure, and a clear one; then queries succeed again.
            do {
                try await pool.query("SELECT 1")
            } catch let error as PostgresError {
                #expect(error.kind == .connectionLost)
            }
            try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<3 {
                    group.addTask { try await pool.query("SELECT value FROM kept")[0].decode(Int.self, column: 0) }
                }
                for try await value in group { #expect(value == 7) }
            }

            // While the server is down calls fail fast; once it is back they succeed.
            await server.process?.terminate()
            let down = await #expect(throws: PostgresError.self) { try await pool.query("SELECT 1") }
            #expect(down?.kind == .connectionLost || down?.kind == .connectionFailed)
            try await server.restart()
            var recovered = false
            for _ in 0..<2 where !recovered {
                recovered = (try? await pool.query("SELECT 1")) != nil
            }
            #expect(recovered)
            await pool.close()
        }
    }
}
