import Foundation
import LocalServers
import SwapRedis
import Testing

@Suite("Redis restarts", .serialized, .timeLimit(.minutes(3)))
struct RestartTests {
    @Test("a connection killed server-side fails once with connectionLost; the next checkout reconnects")
    func killedConnectionFailsOnce() async throws {
        try await withTestRedis(maxConnections: 1) { redis, prefix in
            try await redis.set(prefix + "key", to: "value")
            let error = await #expect(throws: RedisError.self) {
                try await redis.withConnection { connection in
                    let id = try await connection.send("CLIENT", "ID").integer ?? -1
                    // Killed from another connection, outside the pool.
                    let killer = try await RedisConnection.connect(configuration: redis.configuration)
                    try await killer.send("CLIENT", "KILL", "ID", String(id))
                    await killer.close()
                    try await connection.send("PING")
                }
            }
            #expect(error?.kind == .connectionLost)
            #expect(try await redis.get(prefix + "key") == "value")
            #expect(redis.statistics.open == 1)
        }
    }

    @Test("the pool survives a Redis restart without being recreated")
    func survivesServerRestart() async throws {
        try await withRedis { server in
            let redis = RedisPool(configuration: try RedisConfiguration(url: server.url), maxConnections: 3)
            try await redis.set("kept", to: "value")
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<3 {
                    group.addTask { try await redis.send("BLPOP", "nothing-\(index)", "0.05") }
                }
                try await group.waitForAll()
            }
            #expect(redis.statistics.open == 3)

            try await server.restart()

            do {
                _ = try await redis.get("kept")
            } catch let error as RedisError {
                #expect(error.kind == .connectionLost)
            }
            try await withThrowingTaskGroup(of: String?.self) { group in
                for _ in 0..<3 { group.addTask { try await redis.get("kept") } }
                for try await value in group { #expect(value == "value") }
            }

            await server.process?.terminate()
            let down = await #expect(throws: RedisError.self) { try await redis.get("kept") }
            #expect(down?.kind == .connectionLost || down?.kind == .connectionFailed)
            try await server.restart()
            var recovered = false
            for _ in 0..<2 where !recovered {
                recovered = (try? await redis.get("kept")) == "value"
            }
            #expect(recovered)
            await redis.close()
        }
    }
}
