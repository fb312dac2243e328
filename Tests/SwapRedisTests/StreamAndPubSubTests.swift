import Foundation
import LocalServers
import SwapRedis
import Testing

@Suite("Redis streams and pub/sub", .serialized, .timeLimit(.minutes(3)))
struct StreamAndPubSubTests {
    @Test("XADD with MAXLEN trimming, then XRANGE returns typed entries")
    func streamsWithTrimming() async throws {
        try await withTestRedis { redis, prefix in
            let stream = prefix + "events"
            var ids: [String] = []
            for index in 0..<50 {
                ids.append(try await redis.xadd(stream, fields: [("n", "\(index)"), ("kind", "test")], trim: .maxLength(10, approximate: false)))
            }
            #expect(try await redis.xlen(stream) == 10)
            let entries = try await redis.xrange(stream)
            #expect(entries.map(\.id) == Array(ids.suffix(10)))
            #expect(entries.first?.fields == ["n": "40", "kind": "test"])
            #expect(try await redis.xrange(stream, from: ids[45], count: 2).map(\.id) == [ids[45], ids[46]])

            // Approximate trimming only drops whole nodes, so it keeps at least 10.
            let approximate = prefix + "approximate"
            for index in 0..<500 {
                try await redis.xadd(approximate, fields: [("n", "\(index)")], trim: .maxLength(10))
            }
            let length = try await redis.xlen(approximate)
            #expect(length >= 10 && length < 500)

            try await redis.xadd(stream, fields: [("n", "50")], trim: .minID(ids[48], approximate: false))
            #expect(try await redis.xrange(stream).map(\.id).prefix(2) == [ids[48], ids[49]])
        }
    }

    @Test("XREAD returns entries after an id, and an empty result when BLOCK times out")
    func xread() async throws {
        try await withTestRedis { redis, prefix in
            let stream = prefix + "reads"
            let first = try await redis.xadd(stream, fields: [("a", "1")])
            let second = try await redis.xadd(stream, fields: [("a", "2")])
            let read = try await redis.xread(streams: [(stream, first)])
            #expect(read[stream]?.map(\.id) == [second])
            let empty = try await redis.xread(streams: [(stream, second)], block: .milliseconds(100))
            #expect(empty.isEmpty)

            // A task parked in XREAD BLOCK returns promptly when cancelled.
            let parked = Task { try await redis.xread(streams: [(stream, "$")], block: .seconds(30)) }
            try await Task.sleep(for: .milliseconds(100))
            let started = ContinuousClock.now
            parked.cancel()
            _ = await parked.result
            #expect(ContinuousClock.now - started < .seconds(5))
            #expect(try await redis.xlen(stream) == 2)
        }
    }

    @Test("pub/sub delivers messages between two connections, and ends cleanly on cancel")
    func publishSubscribe() async throws {
        try await withTestRedis { redis, prefix in
            let channel = prefix + "chat"
            let messages = try await redis.subscribe(channels: [channel])
            let patterned = try await redis.subscribe(patterns: [prefix + "ch*"])
            let reader = Task {
                var received: [String] = []
                for try await message in messages {
                    received.append(message.string)
                    if received.count == 3 { break }
                }
                return received
            }
            let patternReader = Task {
                var iterator = patterned.makeAsyncIterator()
                return try await iterator.next()
            }
            // The other side: a plain pooled connection.
            for text in ["one", "two", "three"] {
                #expect(try await redis.publish(text, to: channel) == 2)
            }
            #expect(try await reader.value == ["one", "two", "three"])
            let matched = try await patternReader.value
            #expect(matched?.channel == channel)
            #expect(matched?.pattern == prefix + "ch*")
            #expect(matched?.string == "one")

            // A subscriber whose task is cancelled ends without an error.
            let idle = try await redis.subscribe(channels: [prefix + "quiet"])
            let waiting = Task {
                var count = 0
                for try await _ in idle { count += 1 }
                return count
            }
            try await Task.sleep(for: .milliseconds(100))
            waiting.cancel()
            #expect(try await waiting.value == 0)
            #expect(await eventually { (try? await redis.send("PUBSUB", "NUMSUB", prefix + "quiet"))?.array?.last == .integer(0) })
        }
    }

    @Test("closing the pool ends its subscriptions cleanly")
    func closeEndsSubscriptions() async throws {
        let server = try await SharedRedisServer.shared.server()
        let redis = RedisPool(configuration: try RedisConfiguration(url: server.url))
        let messages = try await redis.subscribe(channels: ["closing"])
        let reader = Task {
            var count = 0
            for try await _ in messages { count += 1 }
            return count
        }
        await redis.close()
        #expect(try await reader.value == 0)
    }
}

/// Polls `condition` for up to `timeout`.
func eventually(timeout: Duration = .seconds(5), _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return await condition()
}
