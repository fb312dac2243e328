import Foundation
import LocalServers
import SwapPostgres

/// A database of a test's own on the shared PostgreSQL server.
public struct TestDatabase: Sendable {
    public let server: PostgresServer
    public let name: String

    /// Its connection URL, as a service reads it from `DATABASE_URL(_FILE)`.
    public var url: String { server.url(database: name) }

    /// Another pool on it; the caller closes it.
    public func makePool(maxConnections: Int = 8) -> PostgresPool {
        PostgresPool(configuration: PostgresConfiguration(connectionString: url), maxConnections: maxConnections)
    }
}

/// Runs `body` with a pool on `database` of `server`, closed afterwards, also when `body` throws.
public func withPostgresPool<Value>(
    _ database: String, on server: PostgresServer, maxConnections: Int = 4, _ body: (PostgresPool) async throws -> Value
) async throws -> Value {
    let pool = PostgresPool(configuration: PostgresConfiguration(connectionString: server.url(database: database)), maxConnections: maxConnections)
    do {
        let value = try await body(pool)
        await pool.close()
        return value
    } catch {
        await pool.close()
        throw error
    }
}

/// Runs `body` with a pool on a fresh database of the shared server, then
/// closes the pool and drops the database, also when `body` throws.
public func withTestDatabase<Value>(
    prefix: String = "test",
    maxConnections: Int = 8,
    _ body: (PostgresPool, TestDatabase) async throws -> Value
) async throws -> Value {
    let server = try await SharedServers.shared.postgresServer()
    let database = TestDatabase(server: server, name: prefix + "_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""))
    try await server.createDatabase(database.name)
    let value: Value
    do {
        value = try await withPostgresPool(database.name, on: server, maxConnections: maxConnections) { try await body($0, database) }
    } catch {
        try? await server.dropDatabase(database.name)
        throw error
    }
    try await server.dropDatabase(database.name)
    return value
}
