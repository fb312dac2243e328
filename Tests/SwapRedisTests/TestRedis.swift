import Foundation
import LocalServers
import SwapRedis

/// One Redis server for the whole test process (LocalServers stops it at
/// exit); every test works under its own key prefix.
actor SharedRedisServer {
    static let shared = SharedRedisServer()
    private var server: RedisServer?

    func server() async throws -> RedisServer {
        if let server { return server }
        let started = try await RedisServer.start()
        self.server = started
        return started
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
