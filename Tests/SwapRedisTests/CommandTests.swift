import Foundation
import LocalServers
import SwapRedis
import Testing

@Suite("Redis commands", .serialized, .timeLimit(.minutes(3)))
struct CommandTests {
    @Test("GET/SET with expiry and NX, DEL, INCR, EXPIRE, hashes, EVAL")
    func typedCommands() async throws {
        try await withTestRedis { redis, prefix in
            let key = prefix + "greeting"
            #expect(try await redis.get(key) == nil)
            #expect(try await redis.set(key, to: "hello"))
            #expect(try await redis.get(key) == "hello")
            #expect(try await !redis.set(key, to: "again", condition: .ifNotExists))
            #expect(try await redis.set(prefix + "fresh", to: "x", expiration: .seconds(60), condition: .ifNotExists))
            let ttl = try await redis.send("PTTL", prefix + "fresh").integer ?? -1
            #expect(ttl > 0 && ttl <= 60_000)

            #expect(try await redis.increment(prefix + "hits") == 1)
            #expect(try await redis.increment(prefix + "hits", by: 41) == 42)
            #expect(try await redis.expire(prefix + "hits", after: .seconds(30)))
            #expect(try await redis.delete(key, prefix + "hits", prefix + "missing") == 2)

            #expect(try await redis.hset(prefix + "user", fields: [("name", "Ada"), ("role", "admin")]) == 2)
            #expect(try await redis.hget(prefix + "user", field: "name") == "Ada")
            #expect(try await redis.hgetAll(prefix + "user") == ["name": "Ada", "role": "admin"])

            let script = "return redis.call('INCRBY', KEYS[1], ARGV[1])"
            #expect(try await redis.eval(script, keys: [prefix + "lua"], arguments: ["5"]) == .integer(5))
        }
    }

    @Test("arguments are binary-safe: NUL, CRLF and format specifiers round-trip")
    func binarySafeArguments() async throws {
        try await withTestRedis { redis, prefix in
            let bytes: [UInt8] = [0, 13, 10, 255, 0, 37, 115, 37, 98]  // NUL, CR, LF, 0xFF, NUL, "%s%b"
            try await redis.set(prefix + "binary", bytes: bytes)
            #expect(try await redis.getBytes(prefix + "binary") == bytes)
            let text = "%s %d %b\r\n*3\r\n$3\r\nDEL"
            try await redis.set(prefix + "text", to: text)
            #expect(try await redis.get(prefix + "text") == text)
        }
    }

    @Test("an error reply throws a server error whose description hides the message")
    func errorReply() async throws {
        try await withTestRedis { redis, prefix in
            try await redis.set(prefix + "string", to: "v")
            let error = await #expect(throws: RedisError.self) { try await redis.send("LPUSH", prefix + "string", "x") }
            #expect(error?.kind == .server)
            #expect(error?.code == "WRONGTYPE")
            #expect(error?.description.contains("Operation") == false)
            #expect(error?.details.contains("Operation against a key") == true)
        }
    }

    @Test("pipelining sends N commands and reads N replies, errors in place")
    func pipelining() async throws {
        try await withTestRedis { redis, prefix in
            let counter = prefix + "counter"
            let replies = try await redis.pipeline(Array(repeating: ["INCR", counter], count: 100))
            #expect(replies == (1...100).map { RedisValue.integer(Int64($0)) })

            let mixed = try await redis.pipeline([["SET", prefix + "a", "1"], ["INCR", prefix + "a", "extra"], ["GET", prefix + "a"]])
            #expect(mixed.count == 3)
            #expect(mixed[0] == .status("OK"))
            if case .error = mixed[1] {} else { Issue.record("expected an error reply, got \(mixed[1])") }
            #expect(mixed[2].string == "1")
        }
    }

    @Test("the pool keeps at most maxConnections open")
    func poolBound() async throws {
        try await withTestRedis(maxConnections: 2) { redis, prefix in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<20 {
                    group.addTask { try await redis.set(prefix + "k\(index)", to: "v") }
                }
                try await group.waitForAll()
            }
            #expect(redis.statistics.open <= 2)
            #expect(redis.statistics.waiting == 0)
        }
    }
}
