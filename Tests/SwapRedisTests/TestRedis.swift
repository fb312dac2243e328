import Foundation
import LocalServers
import SwapRedis

/// One Redis server for the whole test process (LocalServers stops it at
/// exit); every test works under its own key prefix.
actor SharedRedisServer {
    static let shared = SharedRedisServer()
    // A task, not the server: suites run in parallel and an actor is
    // re-entered at the await, so a second caller must wait for the start
    // already under way instead of starting a server of its own.
    private var starting: Task<RedisServer, any Error>?

    func server() async throws -> RedisServer {
        let starting = self.starting ?? Task { try await RedisServer.start() }
        self.starting = starting
        return try await starting.value
    }
}

/// Runs `body` with a pool on the shared server and a unique key prefix.
func withTestRedis<Value>(
    maxConnections: Int = 4,
    _ body: (RedisPool, String) async throws -> Value
) async throws -> Value {
    let server = try await SharedRedisServer.shared.server()
    let pool = RedisPool(configuration: try RedisConfiguration(url: server.url), maxConnections: maxConnections)
    let prefix = "test:\(UUID().uuidString.lowercased()):"
    do {
        let value = try await body(pool, prefix)
        await pool.close()
        return value
    } catch {
        await pool.close()
        throw error
    }
}
